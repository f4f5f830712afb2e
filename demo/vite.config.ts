/**
 * The demo: `npm run demo` (dev server), or `vite build --config demo/vite.config.ts` then
 * `vite preview --config demo/vite.config.ts`.
 *
 * One plugin does the server side: it mounts the strict test token server (OAuth token + revocation
 * endpoints, a protected /api, fault controls) in Vite's own server, and serves the demo's worker,
 * demo/sw.ts, bundled into a classic script at /sw.js.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build, defineConfig, type Alias, type Connect, type Plugin, type PreviewServer, type ViteDevServer } from 'vite';
import { TokenServer } from '../test/server/token-server.js';

const demoDir = fileURLToPath(new URL('.', import.meta.url));
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const WORKER_ENTRY = source('./sw.ts');

/** The demo imports the library by its package name, as a user's app does; these point it at the sources. */
const alias: Alias[] = [
  { find: /^sw-token-proxy\/sw$/, replacement: source('../src/sw/index.ts') },
  { find: /^sw-token-proxy\/client$/, replacement: source('../src/client/index.ts') },
];

/** The paths the embedded token server answers; everything else is Vite's. */
const SERVER_PATHS = /^\/(oauth\/|api\/|echo(\/|\?|$)|__control\/)/;

/** Bundles demo/sw.ts into one classic script (IIFE): service workers of that type run in every browser. */
async function bundleWorker(minify = false): Promise<string> {
  const output = await build({
    configFile: false,
    root: demoDir,
    logLevel: 'warn',
    publicDir: false,
    resolve: { alias },
    build: {
      write: false,
      emptyOutDir: false,
      minify,
      target: 'es2022',
      lib: { entry: WORKER_ENTRY, formats: ['iife'], name: 'demoWorker', fileName: () => 'sw.js' },
    },
  });
  const outputs = Array.isArray(output) ? output : [output];
  for (const result of outputs) {
    if (!('output' in result)) continue;
    const chunk = result.output.find((item) => item.type === 'chunk' && item.isEntry);
    if (chunk && chunk.type === 'chunk') return chunk.code;
  }
  throw new Error('demo: bundling demo/sw.ts produced no script');
}

function tokenServerMiddleware(server: TokenServer): Connect.NextHandleFunction {
  return (req: IncomingMessage, res: ServerResponse, next: Connect.NextFunction) => {
    if (SERVER_PATHS.test(req.url ?? '')) void server.handle(req, res);
    else next();
  };
}

/** Once the server listens (on whichever port it got), after Vite's own banner. */
function printHint(server: ViteDevServer | PreviewServer): void {
  server.httpServer?.once('listening', () => {
    const address = server.httpServer?.address() as AddressInfo | null;
    if (!address) return;
    const url = `http://127.0.0.1:${address.port}/`;
    setTimeout(() => server.config.logger.info(`\n  sw-token-proxy demo: open 2-3 tabs of ${url} — one refresh serves them all.\n`), 0);
  });
}

function tokenProxyDemo(): Plugin {
  const newTokenServer = () => new TokenServer({ httpControl: true, accessTokenTtlSeconds: 20, refreshTokenTtlSeconds: 600 });
  let worker: Promise<string> | null = null;

  return {
    name: 'sw-token-proxy-demo',

    configureServer(server) {
      server.middlewares.use(tokenServerMiddleware(newTokenServer()));
      server.middlewares.use((req, res, next) => {
        if (req.url?.split('?')[0] !== '/sw.js') return next();
        worker ??= bundleWorker();
        worker.then(
          (code) => {
            res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' }).end(code);
          },
          (error: unknown) => {
            worker = null; // try again on the next request
            server.config.logger.error(`demo: could not bundle demo/sw.ts: ${String(error)}`);
            res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error));
          },
        );
      });
      // The bundle is cached; an edit to the worker or the library's worker half drops it (the browser
      // then installs the new version on its next update check, e.g. a reload).
      server.watcher.add([WORKER_ENTRY, source('../src/sw'), source('../src/shared')]);
      server.watcher.on('change', (file) => {
        if (file === WORKER_ENTRY || file.startsWith(source('../src/'))) worker = null;
      });
      printHint(server);
    },

    configurePreviewServer(server) {
      server.middlewares.use(tokenServerMiddleware(newTokenServer()));
      printHint(server);
    },

    async generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: await bundleWorker(true) });
    },
  };
}

export default defineConfig({
  root: demoDir,
  publicDir: false,
  cacheDir: source('./.build/vite-cache'),
  resolve: { alias },
  plugins: [tokenProxyDemo()],
  // Pre-bundled at start, so the first page load never triggers a dependency re-optimisation and reload.
  optimizeDeps: { include: ['comlink', 'workbox-window'] },
  server: { host: '127.0.0.1', port: Number(process.env['DEMO_PORT']) || 5173 },
  preview: { host: '127.0.0.1', port: Number(process.env['DEMO_PORT']) || 4173 },
  build: { outDir: source('./.build/site'), emptyOutDir: true, target: 'es2022' },
});
