import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// `npm run test:portable`: the tests that run on macOS and Windows too (CI runs them on each OS,
// .github/workflows/ci.yml). Listed by file: every other test file needs Linux (root, the kernel,
// a loopback sshd, /bin/sh, VMs, Wine) and runs only in `bash build/test.sh`. A new test that
// needs none of those belongs here.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'shared/**/*.test.ts',
      'renderer/**/*.test.{ts,tsx}',
      'build/check-electron-security.test.ts',
      'build/runtime-modes.test.ts',
      'build/workflows.test.ts',
      'electron/core/machines/ssh/{known-hosts,quote,ssh-config}.test.ts',
      'electron/core/uploads.test.ts',
      'electron/main/*.test.ts',
      'vm-assets/agent/images/{platform,registry-client}.test.ts',
      'vm-assets/agent/networks/ipam.test.ts',
      'vm-assets/agent/system/os-release.test.ts',
    ],
  },
});
