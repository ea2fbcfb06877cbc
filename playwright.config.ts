import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './e2e/fixtures/chromium';

// Browser mode runs against Debian's Chromium (Playwright's own browsers are not downloaded here);
// the Electron project drives the real app where its binary is installed and skips, saying why,
// where it is not.

export default defineConfig({
  testDir: 'e2e',
  // Screenshots the specs take go to e2e/artifacts/ itself; Playwright's per-test output (traces,
  // failure screenshots) goes below it, and is wiped at the start of each run.
  outputDir: 'e2e/artifacts/test-results',
  timeout: 90_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: Boolean(process.env.CI),
  reporter: [['list']],
  use: {
    viewport: { width: 1280, height: 860 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'browser',
      grepInvert: /@electron-only/,
      use: {
        browserName: 'chromium',
        launchOptions: { executablePath: chromiumPath, args: chromiumArgs },
      },
    },
    {
      name: 'electron',
      grep: /@electron-only/,
    },
  ],
});
