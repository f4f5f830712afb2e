/**
 * Proof that the shared scenarios can fail: the same scenarios against a naive proxy (fixture/broken-sw.ts:
 * a refresh per 401, no single flight, no lock, no broadcast) must fail every one marked
 * `breaksBrokenWorker`. Run in one engine only (BROKEN_WORKER_ENGINE, Chromium by default), to save time.
 */
import { expect, it } from 'vitest';
import { useEngine } from './support/engine-session.js';
import { loadScenarios } from './support/registry.js';
import { runScenario } from './support/scenario.js';

const { engine, browser } = useEngine();
const breaking = (await loadScenarios()).filter(({ scenario }) => scenario.breaksBrokenWorker);

it(`the broken worker fails: ${breaking.map(({ file }) => file.replace(/\.ts$/, '')).join(', ')}`, async () => {
  const outcomes: Array<{ name: string; failed: boolean; why: string }> = [];
  for (const { scenario } of breaking) {
    try {
      await runScenario(browser(), scenario, { workerScript: '/broken-sw.js', print: () => undefined });
      outcomes.push({ name: scenario.name, failed: false, why: 'passed' });
    } catch (error) {
      outcomes.push({ name: scenario.name, failed: true, why: (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 160) });
    }
  }
  for (const o of outcomes) console.log(`[${engine}] broken worker × ${o.name}: ${o.failed ? `failed as it must — ${o.why}` : 'PASSED (the scenario cannot tell a broken worker from the library)'}`);
  expect(outcomes.filter((o) => !o.failed).map((o) => o.name), 'scenarios the broken worker passed').toEqual([]);
  expect(breaking.length).toBeGreaterThanOrEqual(5);
}, 180_000);
