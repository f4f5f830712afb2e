import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Scenario } from './scenario.js';

const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios');

/** Every scenario file in scenarios/ (each `export default defineScenario(...)`), in file-name order. */
export async function loadScenarios(): Promise<Array<{ file: string; scenario: Scenario }>> {
  const files = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.ts')).sort();
  const loaded: Array<{ file: string; scenario: Scenario }> = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(join(SCENARIO_DIR, file)).href)) as { default?: Scenario };
    if (!module.default?.run) throw new Error(`scenarios/${file} must export default defineScenario({ name, run })`);
    loaded.push({ file, scenario: module.default });
  }
  return loaded;
}
