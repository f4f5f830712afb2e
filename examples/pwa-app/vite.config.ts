// An app built with vite-plugin-pwa's injectManifest: one service worker, the app's own (src/sw.ts), with
// the precache, a navigation route and a runtime route from workbox, and the token proxy.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: source('.'),
  // An installed app imports the package; this repository's example uses its sources.
  resolve: {
    alias: [
      { find: /^sw-token-proxy\/sw$/, replacement: source('../../src/sw/index.ts') },
      { find: /^sw-token-proxy\/client$/, replacement: source('../../src/client/index.ts') },
    ],
  },
  build: { outDir: source('./.build'), emptyOutDir: true, target: 'es2022' },
  plugins: [
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      registerType: 'prompt', // the app asks before a new version takes over
      injectRegister: false, // src/main.ts registers, through virtual:pwa-register
      manifest: false,
      injectManifest: { globPatterns: ['**/*.{js,css,html,svg}'] },
    }),
  ],
});
