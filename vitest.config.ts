import { defineConfig } from 'vitest/config';

export default defineConfig({
  define: { __ONGGI_VERSION__: JSON.stringify('0.0.0-test') },
  test: {
    include: ['{shared,electron,vm-assets,renderer,build,bench}/**/*.test.{ts,tsx}'],
    exclude: ['node_modules', 'dist', 'vm-assets/dist'],
    environment: 'node',
    globalSetup: ['build/testing/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Kernel-touching suites share /proc and the root netns; keep files from racing each other.
    fileParallelism: false,
  },
});
