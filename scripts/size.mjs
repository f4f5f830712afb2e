#!/usr/bin/env node
// Bundle sizes as an app ships them: every dependency included, minified, gzipped.
// `node scripts/size.mjs` prints a table; `--json` prints JSON (the bench reads it).
//
// The worker is measured from the code a user writes, not from the package entry: its optional features
// are separate exports, so a worker that does not import one does not ship it. Measured: the core
// (every option of installTokenProxy), the core with each optional feature, and everything.
// All are IIFE bundles: Vite keeps the whitespace of ES-format library output (to keep pure annotations),
// which an app's own build would then remove — measuring that would overstate.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const SW = JSON.stringify(resolve('src/sw/index.ts'));
const CONFIG = `api: ['/api'], tokenEndpoint: '/oauth/token', revocationEndpoint: '/oauth/revoke'`;
const SIGN_IN = `signIn: oidcSignIn({ issuer: 'https://id.example.com', clientId: 'spa', redirectUri: '/callback' })`;

/** name → [source of the entry a user would write, goal in bytes or null] */
const BUNDLES = {
  worker: [`import { installTokenProxy } from ${SW};\ninstallTokenProxy({ ${CONFIG} });`, 8.5 * 1024],
  'worker + offlineOutbox': [
    `import { installTokenProxy, offlineOutbox } from ${SW};\ninstallTokenProxy({ ${CONFIG}, outbox: offlineOutbox() });`,
    null,
  ],
  'worker + captureLogins': [
    `import { installTokenProxy, captureLogins } from ${SW};\ninstallTokenProxy({ ${CONFIG}, capture: captureLogins() });`,
    null,
  ],
  'worker + dpopProofs': [`import { installTokenProxy, dpopProofs } from ${SW};\ninstallTokenProxy({ ${CONFIG}, dpop: dpopProofs() });`, null],
  'worker + memoryStorage': [`import { installTokenProxy, memoryStorage } from ${SW};\ninstallTokenProxy({ ${CONFIG}, storage: memoryStorage() });`, null],
  'worker + oidcSignIn': [
    `import { installTokenProxy, oidcSignIn } from ${SW};\ninstallTokenProxy({ ${CONFIG}, ${SIGN_IN} });`,
    null,
  ],
  'worker + every feature': [
    `import { installTokenProxy, offlineOutbox, captureLogins, dpopProofs, memoryStorage, oidcSignIn } from ${SW};\n` +
      `installTokenProxy({ ${CONFIG}, outbox: offlineOutbox(), capture: captureLogins(), dpop: dpopProofs(), storage: memoryStorage(), ${SIGN_IN} });`,
    null,
  ],
  client: [`export * from ${JSON.stringify(resolve('src/client/index.ts'))};`, 6 * 1024],
};

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

/** { [name]: { minified, gzipped, goal } } */
export async function measureSizes() {
  const dir = mkdtempSync(join(tmpdir(), 'sw-token-proxy-size-'));
  try {
    const sizes = {};
    for (const [name, [source, goal]] of Object.entries(BUNDLES)) {
      const entry = join(dir, `${name.replace(/\W+/g, '-')}.ts`);
      writeFileSync(entry, source);
      sizes[name] = { ...(await bundle(entry)), goal };
    }
    return sizes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sizes = await measureSizes();
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(sizes));
} else {
  const kb = (n) => `${(n / 1024).toFixed(2)} KB`;
  console.log('bundle (deps included)    minified    gzip      goal (gzip)');
  for (const [name, s] of Object.entries(sizes)) {
    const goal = s.goal === null ? '' : `≤ ${kb(s.goal)} ${s.gzipped <= s.goal ? 'ok' : 'OVER'}`;
    console.log(`${name.padEnd(25)} ${kb(s.minified).padEnd(11)} ${kb(s.gzipped).padEnd(9)} ${goal}`);
  }
}
