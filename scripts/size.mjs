#!/usr/bin/env node
// Bundle sizes as an app ships them: every dependency included, minified, gzipped.
// `node scripts/size.mjs` prints a table; `--json` prints JSON (the bench reads it).
// Both halves are measured as IIFE bundles: Vite keeps the whitespace of ES-format library output (to
// keep pure annotations), which an app's own build would then remove — measuring that would overstate.
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const GOALS = { worker: 7 * 1024, client: 6 * 1024 };

async function bundle(entry) {
  const output = await build({
    configFile: false,
    logLevel: 'silent',
    // what an app's production build defines: strips workbox's development logging
    define: { 'process.env.NODE_ENV': '"production"' },
    build: {
      write: false,
      minify: true,
      target: 'es2022',
      lib: { entry, formats: ['iife'], name: 'bundle', fileName: () => 'bundle.js' },
    },
  });
  const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) => o.output).filter((c) => c.type === 'chunk');
  const code = chunks.map((c) => c.code).join('\n');
  return { minified: Buffer.byteLength(code), gzipped: gzipSync(code, { level: 9 }).length };
}

export async function measureSizes() {
  return {
    // the worker as a user's bundler emits it from `import { installTokenProxy } from 'sw-token-proxy/sw'`
    worker: await bundle('src/sw/index.ts'),
    client: await bundle('src/client/index.ts'),
  };
}

const sizes = await measureSizes();
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(sizes));
} else {
  const kb = (n) => `${(n / 1024).toFixed(2)} KB`;
  console.log('bundle (deps included)   minified    gzip      goal (gzip)');
  for (const [name, s] of Object.entries(sizes)) {
    const ok = s.gzipped <= GOALS[name] ? 'ok' : 'OVER';
    console.log(`${name.padEnd(24)} ${kb(s.minified).padEnd(11)} ${kb(s.gzipped).padEnd(9)} ≤ ${kb(GOALS[name])} ${ok}`);
  }
}
