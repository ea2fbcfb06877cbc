#!/usr/bin/env node
// The `onggi` command: a thin launcher for the built CLI bundle.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// A file path, not the URL's pathname: that is percent-encoded (spaces, Korean folder names) and
// reads `/Z:/…` on Windows.
const cli = fileURLToPath(new URL('../dist/electron/cli.cjs', import.meta.url));
if (!existsSync(cli)) {
  console.error('onggi: not built yet. Run `npm run build` in the onggi checkout first.');
  process.exit(1);
}
require(cli);
