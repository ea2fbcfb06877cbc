import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../e2e/fixtures/chromium';

// The window's benchmarks in Debian's Chromium like the e2e suite: frame times
// (bench/window-frames.ts, case 8) and the idle cost of each view (bench/idle-cost.ts, case 10). One worker: the numbers must not compete with each other for the CPU.
export default defineConfig({
  testDir: '.',
  testMatch: ['window-frames.ts', 'idle-cost.ts'],
  outputDir: '../e2e/artifacts/bench-results',
  timeout: 180_000,
  workers: 1,
  reporter: [['list']],
  use: {
    viewport: { width: 1280, height: 860 },
    browserName: 'chromium',
    launchOptions: {
      executablePath: chromiumPath,
      args: chromiumArgs,
    },
  },
});
