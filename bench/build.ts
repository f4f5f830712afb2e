// Builds what the benchmark browser loads, into bench/.build (never the e2e suite's test/e2e/.build, which a
// concurrent `npm run test:e2e` may be rebuilding). Minified with a production define, as an app ships it:
//   index.html + page.js  the e2e test page (window.tp over the client library), used by setups a, b, c
//   sw.js                 setup (c): bench/fixture/proxy-sw.ts = installTokenProxy + offlineOutbox (config from its own URL)
//   passthrough-sw.js     setup (b): respondWith(fetch(request)), nothing else
//   passthrough-idb-sw.js baseline (b′) of the cold start: (b) after opening IndexedDB and reading one record
//   axa.html, axa-callback.html + axa-page.js
//                         setup (d): a page on @axa-fr/oidc-client (window.axa), app and redirect_uri
//   OidcServiceWorker.js  setup (d): AXA's worker file, copied as AXA's copy-service-worker-files script
//                         copies it into an app's public folder (an app serves it as it comes)
//   OidcTrustedDomains.js setup (d): the trusted domains it imports (bench/fixture/OidcTrustedDomains.js)
import { copyFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, '..', 'test', 'e2e', 'fixture');
export const BENCH_BUILD_DIR = join(here, '.build');
/** AXA's service worker as its package ships it (its "." export). */
export const AXA_WORKER_FILE = createRequire(import.meta.url).resolve('@axa-fr/oidc-client-service-worker');

export async function buildBench(outDir = BENCH_BUILD_DIR): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const bundle = (entry: string, fileName: string, format: 'iife' | 'es') =>
    build({
      configFile: false,
      logLevel: 'warn',
      publicDir: false,
      define: { 'process.env.NODE_ENV': '"production"' },
      build: { outDir, emptyOutDir: false, minify: true, target: 'es2022', lib: { entry, formats: [format], name: 'bench', fileName: () => fileName } },
    });
  await bundle(join(here, 'fixture', 'proxy-sw.ts'), 'sw.js', 'iife');
  await bundle(join(here, 'fixture', 'passthrough-sw.ts'), 'passthrough-sw.js', 'iife');
  await bundle(join(here, 'fixture', 'passthrough-idb-sw.ts'), 'passthrough-idb-sw.js', 'iife');
  await bundle(join(fixture, 'page.ts'), 'page.js', 'es');
  // IIFE: Vite keeps the whitespace of ES-format library output (see scripts/size.mjs), and figure 7 gzips this file as built.
  await bundle(join(here, 'fixture', 'axa-page.ts'), 'axa-page.js', 'iife');
  await copyFile(join(fixture, 'index.html'), join(outDir, 'index.html'));
  await copyFile(join(here, 'fixture', 'axa.html'), join(outDir, 'axa.html'));
  await copyFile(join(here, 'fixture', 'axa.html'), join(outDir, 'axa-callback.html'));
  await copyFile(AXA_WORKER_FILE, join(outDir, 'OidcServiceWorker.js'));
  await copyFile(join(here, 'fixture', 'OidcTrustedDomains.js'), join(outDir, 'OidcTrustedDomains.js'));
}
