/**
 * The shared scenario set, in the engine named by ENGINE. Every file in scenarios/ is one test; its
 * per-engine expectation (a known failure, or a skip with its reason) is declared in the file and
 * printed here.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, it } from 'vitest';
import { useEngine } from './support/engine-session.js';
import { loadScenarios } from './support/registry.js';
import { expectationFor, runScenario, type Scenario } from './support/scenario.js';

const { engine, browser } = useEngine();
const scenarios = await loadScenarios();

/** Each scenario's outcome in this engine, for the README's browser-support grid (scripts/browser-support.mjs). */
const outcomes: Array<{ file: string; outcome: 'pass' | 'fail' | 'skip' | 'expected-fail'; reason?: string }> = [];
const recorded = (file: string, scenario: Scenario) => async () => {
  try {
    await runScenario(browser(), scenario);
    outcomes.push({ file, outcome: 'pass' });
  } catch (error) {
    outcomes.push({ file, outcome: 'fail', reason: error instanceof Error ? error.message.split('\n')[0]! : String(error) });
    throw error;
  }
};
afterAll(async () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '.build', 'reports');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `support-${engine}.json`), JSON.stringify({ engine, version: browser().version, outcomes }, null, 2));
});

describe(`shared scenarios in ${engine}`, () => {
  for (const { file, scenario } of scenarios) {
    const expectation = expectationFor(scenario, engine);
    if (expectation && 'skip' in expectation) {
      console.log(`[${engine}] SKIP ${scenario.name}: ${expectation.skip}`);
      outcomes.push({ file, outcome: 'skip', reason: expectation.skip });
      it.skip(`${scenario.name} (skipped in ${engine}: ${expectation.skip})`, () => undefined);
    } else if (expectation && 'fails' in expectation) {
      outcomes.push({ file, outcome: 'expected-fail', reason: expectation.fails });
      it.fails(`${scenario.name} (expected to fail in ${engine}: ${expectation.fails})`, () => runScenario(browser(), scenario));
    } else {
      it(scenario.name, recorded(file, scenario));
    }
  }
});
