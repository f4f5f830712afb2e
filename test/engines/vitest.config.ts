import { defineConfig } from 'vitest/config';

const engine = process.env['ENGINE'] ?? 'chromium';
/** The broken-worker check runs in this engine only (it proves the scenarios, not an engine). */
const brokenWorkerEngine = process.env['BROKEN_WORKER_ENGINE'] ?? 'chromium';

export default defineConfig({
  // Kept inside the ignored build folder, not as a node_modules/ of its own in test/engines.
  cacheDir: '.build/vite-cache',
  test: {
    root: import.meta.dirname,
    include: engine === brokenWorkerEngine ? ['shared.test.ts', 'broken-worker.test.ts'] : ['shared.test.ts'],
    globalSetup: ['./global-setup.ts'],
    environment: 'node',
    // One browser at a time per engine; the storms must not compete for the machine's two cores.
    fileParallelism: false,
    // A flaky test is a bug to fix, never retried.
    retry: 0,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
