import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { build, createServer, type ViteDevServer } from 'vite';
import { tokenProxyWorker } from '../../src/vite/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// The app imports the library by its package name; here that name points at the sources.
const alias = [{ find: /^sw-token-proxy\/sw$/, replacement: join(root, 'src/sw/index.ts') }];
/** The marker the worker logs, in whichever quotes a minifier chose. */
const logs = (code: string, marker: string) => new RegExp(`console\\.log\\([\`"']${marker}[\`"']\\)`).test(code);
const WORKER = (marker: string) =>
  `import { installTokenProxy } from 'sw-token-proxy/sw';\ninstallTokenProxy({ api: ['/api'], tokenEndpoint: '/oauth/token' });\nconsole.log(${JSON.stringify(marker)});\n`;

let app: string;
let server: ViteDevServer | undefined;
function project(): string {
  app = mkdtempSync(join(tmpdir(), 'sw-token-proxy-vite-'));
  writeFileSync(join(app, 'index.html'), '<!doctype html><script type="module" src="./main.ts"></script>');
  writeFileSync(join(app, 'main.ts'), 'export {};');
  writeFileSync(join(app, 'sw.ts'), WORKER('first'));
  return app;
}
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(app, { recursive: true, force: true });
});

describe('sw-token-proxy/vite', () => {
  it('vite dev serves the worker as one classic script, built again after an edit', async () => {
    project();
    server = await createServer({ root: app, configFile: false, logLevel: 'silent', resolve: { alias }, plugins: [tokenProxyWorker({ worker: 'sw.ts' })], server: { port: 0, host: '127.0.0.1' } });
    await server.listen();
    const url = server.resolvedUrls!.local[0]!;
    const first = await fetch(`${url}sw.js`);
    expect(first.headers.get('Content-Type')).toContain('javascript');
    expect(first.headers.get('Cache-Control')).toBe('no-cache');
    const code = await first.text();
    expect(logs(code, 'first')).toBe(true);
    expect(code).not.toMatch(/^\s*import\s|\bexport\s/m); // classic: no module syntax left
    expect(code).toContain('sourceMappingURL=data:'); // dev: an inline map
    // the edit: the next request (the browser's update check) gets the new code
    writeFileSync(join(app, 'sw.ts'), WORKER('second'));
    await expect.poll(async () => logs(await (await fetch(`${url}sw.js`)).text(), 'second'), { timeout: 10_000 }).toBe(true);
  });

  it('vite build emits it into the output, minified, with a sourcemap when the app has them', async () => {
    project();
    const outDir = join(app, 'dist');
    await build({ root: app, configFile: false, logLevel: 'silent', resolve: { alias }, plugins: [tokenProxyWorker({ worker: 'sw.ts', fileName: 'auth/sw.js' })], build: { outDir, sourcemap: true } });
    const code = readFileSync(join(outDir, 'auth/sw.js'), 'utf8');
    expect(logs(code, 'first')).toBe(true);
    expect(code).toMatch(/\/\/# sourceMappingURL=sw\.js\.map\n$/);
    expect(JSON.parse(readFileSync(join(outDir, 'auth/sw.js.map'), 'utf8')).sources.some((s: string) => s.endsWith('sw.ts'))).toBe(true);
    // without sourcemaps in the app, none for the worker either
    await build({ root: app, configFile: false, logLevel: 'silent', resolve: { alias }, plugins: [tokenProxyWorker({ worker: 'sw.ts' })], build: { outDir, emptyOutDir: true } });
    expect(readFileSync(join(outDir, 'sw.js'), 'utf8')).not.toContain('sourceMappingURL');
    expect(existsSync(join(outDir, 'sw.js.map'))).toBe(false);
  });

  it.each([
    ['no worker', {}, 'worker'],
    ['an absolute fileName', { worker: 'sw.ts', fileName: '/sw.js' }, 'fileName'],
    ['a fileName that is not a script', { worker: 'sw.ts', fileName: 'sw.ts' }, 'fileName'],
  ])('%s → invalid-config naming the option', (_, options, field) => {
    expect(() => tokenProxyWorker(options as never)).toThrow(expect.objectContaining({ code: 'invalid-config', field }));
  });

  it('a worker file that does not exist fails the build, naming the option', async () => {
    project();
    await expect(
      build({ root: app, configFile: false, logLevel: 'silent', plugins: [tokenProxyWorker({ worker: 'src/missing.ts' })], build: { outDir: join(app, 'dist') } }),
    ).rejects.toMatchObject({ code: 'invalid-config', field: 'worker' });
  });
});
