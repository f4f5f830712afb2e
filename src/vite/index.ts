/**
 * `sw-token-proxy/vite`: builds the app's own service worker file (the one that calls
 * `installTokenProxy`) into one classic script, as every browser runs it — served fresh by `vite dev`
 * after each edit, emitted into the output by `vite build`, with a sourcemap when the app has them.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { build, type Plugin, type ResolvedConfig, type Rollup } from 'vite';
import { TokenProxyError } from '../shared/errors.js';

export interface TokenProxyWorkerOptions {
  /** The worker's source file, relative to the Vite root (or absolute): e.g. `'src/sw.ts'`. Required. */
  worker: string;
  /** Where it is served and emitted, under `base`: e.g. `'sw.js'` → `/sw.js`. Register that URL. Default `'sw.js'`. */
  fileName?: string;
}

interface BuiltWorker {
  code: string;
  map: string | undefined;
  /** Every file in the bundle: an edit to any of them makes `vite dev` build it again. */
  files: Set<string>;
}

function invalid(option: string, message: string): never {
  throw new TokenProxyError('invalid-config', `sw-token-proxy/vite: ${option} ${message}`, { field: option });
}

/** The Vite plugin: `plugins: [tokenProxyWorker({ worker: 'src/sw.ts' })]`. Throws `invalid-config` naming a bad option. */
export function tokenProxyWorker(options: TokenProxyWorkerOptions): Plugin {
  if (typeof options !== 'object' || options === null) invalid('options', "must be { worker: 'src/sw.ts' }");
  if (typeof options.worker !== 'string' || options.worker === '') invalid('worker', "must name the worker's source file");
  const fileName = options.fileName ?? 'sw.js';
  if (typeof fileName !== 'string' || !/^[\w./-]+\.js$/.test(fileName) || fileName.startsWith('/') || fileName.includes('..')) {
    invalid('fileName', `must be a relative .js path like 'sw.js', got ${String(fileName)}`);
  }
  let config: ResolvedConfig;
  let entry: string;

  /** One classic script (IIFE): module workers are not in every browser, and a classic one needs no import map. */
  async function bundle(production: boolean): Promise<BuiltWorker> {
    const sourcemap = production ? Boolean(config.build.sourcemap) : 'inline';
    const output = await build({
      configFile: false,
      root: config.root,
      mode: config.mode,
      logLevel: 'warn',
      publicDir: false,
      resolve: { alias: config.resolve.alias, conditions: ['worker', 'browser', 'module', 'import', 'default'] },
      define: { ...config.define, 'process.env.NODE_ENV': JSON.stringify(production ? 'production' : 'development') },
      build: {
        write: false,
        emptyOutDir: false,
        minify: production ? config.build.minify !== false : false,
        sourcemap,
        target: 'es2022',
        lib: { entry, formats: ['iife'], name: 'swTokenProxyWorker', fileName: () => fileName },
      },
    });
    const outputs = (Array.isArray(output) ? output : [output]) as Rollup.RollupOutput[];
    const chunk = outputs.flatMap((o) => o.output).find((item): item is Rollup.OutputChunk => item.type === 'chunk' && item.isEntry);
    if (!chunk) throw new Error(`sw-token-proxy/vite: bundling ${options.worker} produced no script`);
    return { code: chunk.code, map: chunk.map?.toString(), files: new Set(chunk.moduleIds.map((id) => id.split('?')[0]!)) };
  }

  let served: Promise<BuiltWorker> | null = null;

  return {
    name: 'sw-token-proxy:worker',

    configResolved(resolved) {
      config = resolved;
      entry = resolve(config.root, options.worker);
      if (!existsSync(entry)) invalid('worker', `must name an existing file: ${entry} does not exist`);
    },

    configureServer(server) {
      const url = `${config.base.replace(/\/?$/, '/')}${fileName}`;
      server.middlewares.use((req, res, next) => {
        if (req.url?.split('?')[0] !== url) return next();
        served ??= bundle(false).then((built) => {
          server.watcher.add([...built.files]); // library sources outside the root too
          return built;
        });
        served.then(
          ({ code }) => {
            res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' }).end(code);
          },
          (error: unknown) => {
            served = null; // try again on the next request
            server.config.logger.error(`sw-token-proxy/vite: could not bundle ${options.worker}: ${String(error)}`);
            res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(String(error));
          },
        );
      });
      // An edit to any file of the worker's bundle: the next request (the browser's update check) builds it again.
      server.watcher.on('change', (file) => {
        void served?.then((built) => {
          if (built.files.has(file)) served = null;
        }, () => undefined);
      });
    },

    async generateBundle() {
      if (this.environment && this.environment.config.consumer !== 'client') return; // once, with the app's client build
      const built = await bundle(true);
      const mapName = `${fileName}.map`;
      const code = built.map === undefined ? built.code : `${built.code}\n//# sourceMappingURL=${mapName.split('/').pop()}\n`;
      this.emitFile({ type: 'asset', fileName, source: code });
      if (built.map !== undefined) this.emitFile({ type: 'asset', fileName: mapName, source: built.map });
    },
  };
}
