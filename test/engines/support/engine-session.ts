import { afterAll, beforeAll } from 'vitest';
import { engineFromEnv, launchEngine } from '../harness/launch.js';
import type { EngineBrowser } from '../harness/types.js';

/** One browser of this run's engine (ENGINE=chromium|firefox|webkit) for every test of the file. */
export function useEngine(): { engine: ReturnType<typeof engineFromEnv>; browser: () => EngineBrowser } {
  const engine = engineFromEnv();
  let browser: EngineBrowser | undefined;
  beforeAll(async () => {
    const started = Date.now();
    browser = await launchEngine(engine);
    console.log(`[${engine}] ${browser.version} launched in ${Date.now() - started} ms`);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  return {
    engine,
    browser: () => {
      if (!browser) throw new Error(`${engine} did not launch`);
      return browser;
    },
  };
}
