/**
 * The demo: `npm run demo` (dev server), or `vite build --config demo/vite.config.ts` then
 * `vite preview --config demo/vite.config.ts`.
 *
 * Two plugins: the library's own, which builds the demo's worker (demo/sw.ts) into a classic script
 * at /sw.js — as any app uses it — and the demo's, which mounts the strict test token server (an OpenID
 * provider with its login page, a protected /api, fault controls) in Vite's own server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Alias, type Connect, type Plugin, type PreviewServer, type ViteDevServer } from 'vite';
// An app imports it as 'sw-token-proxy/vite'; the demo uses the sources.
import { tokenProxyWorker } from '../src/vite/index.js';
import { TokenServer } from '../test/server/token-server.js';

const demoDir = fileURLToPath(new URL('.', import.meta.url));
const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The demo imports the library by its package name, as a user's app does; these point it at the sources. */
const alias: Alias[] = [
  { find: /^sw-token-proxy\/sw$/, replacement: source('../src/sw/index.ts') },
  { find: /^sw-token-proxy\/client$/, replacement: source('../src/client/index.ts') },
];

/**
 * The paths the embedded token server answers; everything else is Vite's. /.well-known/ is the provider's
 * discovery document, which the worker's oidcSignIn() reads. /callback (the sign-in's redirect URI) is NOT
 * the server's: the worker answers it; a page that loads it without the worker (a hard reload) gets the
 * app's index.html from Vite's SPA fallback, and registerTokenProxy() completes the sign-in from there.
 */
const SERVER_PATHS = /^\/(oauth\/|api\/|echo(\/|\?|$)|__control\/|\.well-known\/)/;

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
  // Mounted as middleware, the server's issuer is the request's Host: this origin, as the worker expects.
  // idTokens: a password login gets a signed ID token too, so status() knows who is signed in either way.
  const newTokenServer = () => new TokenServer({ httpControl: true, idTokens: true, accessTokenTtlSeconds: 20, refreshTokenTtlSeconds: 600 });
  return {
    name: 'sw-token-proxy-demo',
    configureServer(server) {
      server.middlewares.use(tokenServerMiddleware(newTokenServer()));
      printHint(server);
    },
    configurePreviewServer(server) {
      server.middlewares.use(tokenServerMiddleware(newTokenServer()));
      printHint(server);
    },
  };
}

export default defineConfig({
  root: demoDir,
  publicDir: false,
  cacheDir: source('./.build/vite-cache'),
  resolve: { alias },
  plugins: [tokenProxyWorker({ worker: 'sw.ts' }), tokenProxyDemo()],
  // Pre-bundled at start, so the first page load never triggers a dependency re-optimisation and reload.
  optimizeDeps: { include: ['comlink', 'workbox-window'] },
  server: { host: '127.0.0.1', port: Number(process.env['DEMO_PORT']) || 5173 },
  preview: { host: '127.0.0.1', port: Number(process.env['DEMO_PORT']) || 4173 },
  build: { outDir: source('./.build/site'), emptyOutDir: true, target: 'es2022' },
});
