// Builds what the benchmark browser loads, into bench/.build (never the e2e suite's test/e2e/.build, which a
// concurrent `npm run test:e2e` may be rebuilding). Minified with a production define, as an app ships it:
//   index.html + page.js  the e2e test page (window.tp over the client library), used by all three setups
//   sw.js                 setup (c): the e2e test worker = installTokenProxy(config from its own URL)
//   passthrough-sw.js     setup (b): respondWith(fetch(request)), nothing else
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, '..', 'test', 'e2e', 'fixture');
export const BENCH_BUILD_DIR = join(here, '.build');

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
  await bundle(join(fixture, 'sw.ts'), 'sw.js', 'iife');
  await bundle(join(here, 'fixture', 'passthrough-sw.ts'), 'passthrough-sw.js', 'iife');
  await bundle(join(fixture, 'page.ts'), 'page.js', 'es');
  await copyFile(join(fixture, 'index.html'), join(outDir, 'index.html'));
}
