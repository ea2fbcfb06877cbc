import { defineConfig } from 'vitest/config';

// `npm run bench` only (bench/run.mjs): never part of the test run, whose config includes *.test.ts.
export default defineConfig({
  define: { __ONGGI_VERSION__: JSON.stringify('0.0.0-bench') },
  test: {
    include: ['bench/cases/*.bench.ts'],
    environment: 'node',
    globalSetup: ['build/testing/global-setup.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
