import { defineConfig } from 'vite';

// The drop-in worker for apps without a bundler: one classic script with every export of
// sw-token-proxy/sw on `self.swTokenProxy`, for `importScripts('/sw-token-proxy.js')`.
export default defineConfig({
  define: { 'process.env.NODE_ENV': '"production"' },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    minify: true,
    sourcemap: true,
    lib: { entry: 'src/sw/index.ts', formats: ['iife'], name: 'swTokenProxy', fileName: () => 'sw-token-proxy.js' },
  },
});
