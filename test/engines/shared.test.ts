/**
 * The shared scenario set, in the engine named by ENGINE. Every file in scenarios/ is one test; its
 * per-engine expectation (a known failure, or a skip with its reason) is declared in the file and
 * printed here.
 */
import { describe, it } from 'vitest';
import { useEngine } from './support/engine-session.js';
import { loadScenarios } from './support/registry.js';
import { expectationFor, runScenario } from './support/scenario.js';

const { engine, browser } = useEngine();
const scenarios = await loadScenarios();

describe(`shared scenarios in ${engine}`, () => {
  for (const { scenario } of scenarios) {
    const expectation = expectationFor(scenario, engine);
    if (expectation && 'skip' in expectation) {
      console.log(`[${engine}] SKIP ${scenario.name}: ${expectation.skip}`);
      it.skip(`${scenario.name} (skipped in ${engine}: ${expectation.skip})`, () => undefined);
    } else if (expectation && 'fails' in expectation) {
      it.fails(`${scenario.name} (expected to fail in ${engine}: ${expectation.fails})`, () => runScenario(browser(), scenario));
    } else {
      it(scenario.name, () => runScenario(browser(), scenario));
    }
  }
});
