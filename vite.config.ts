import { defineConfig } from 'vitest/config';

// The library build (`npm run build`) and the unit tests. The demo has its own config in demo/.
export default defineConfig({
  build: {
    outDir: 'dist',
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: {
      entry: { sw: 'src/sw/index.ts', client: 'src/client/index.ts' },
      formats: ['es'],
    },
    rollupOptions: { external: ['comlink', 'idb', 'oauth4webapi', 'workbox-window'] },
  },
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
  },
});
