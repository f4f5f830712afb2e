#!/usr/bin/env node
// Entry of `npm run bench` (`node bench/index.mjs [--quick]`). Node 20 cannot run TypeScript, so bench.ts
// (and the test token server it imports) is loaded through Vite's module runner: no new dependency.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
let code = 1;
try {
  const { module } = await runnerImport(join(here, 'bench.ts'), { configFile: false, logLevel: 'warn', root: join(here, '..') });
  code = await module.main(process.argv.slice(2));
} catch (error) {
  console.error('[bench] failed:', error);
}
process.exit(code);
