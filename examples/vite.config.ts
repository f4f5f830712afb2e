// vite.config.ts — the plugin builds src/sw.ts into /sw.js: served fresh by `vite dev` after each edit,
// emitted by `vite build` (with a sourcemap when the app has them).
import { defineConfig } from 'vite';
import { tokenProxyWorker } from 'sw-token-proxy/vite';

export default defineConfig({
  plugins: [tokenProxyWorker({ worker: 'src/sw.ts' })],
});
