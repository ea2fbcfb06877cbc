import { defineConfig } from 'vitest/config';

// `npm run test:vm`: the suites that boot a real VM (QEMU TCG) or a real Vagrant machine. Slow
// (minutes), so kept out of the main run; build/test.sh runs them after it.
export default defineConfig({
  define: { __ONGGI_VERSION__: JSON.stringify('0.0.0-test') },
  test: {
    include: ['{electron,build}/**/*.vm-test.ts'],
    exclude: ['node_modules', 'dist', 'vm-assets/dist'],
    environment: 'node',
    globalSetup: ['build/testing/global-setup.ts'],
    hookTimeout: 900_000,
    testTimeout: 900_000,
    fileParallelism: false,
  },
});
