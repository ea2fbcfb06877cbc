// Electron's own install script downloads its binary from GitHub. npm is told not to run it
// (package.json "allowScripts"), and this runs it instead so that a machine without that
// download (CI here, an air-gapped box) still gets a working install with Electron's types:
// everything below the shell runs in plain Node and the window is served by `onggi serve`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let installer;
try {
  installer = require.resolve('electron/install.js');
} catch {
  process.exit(0); // production install without devDependencies: nothing to fetch
}
if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  console.warn('onggi: ELECTRON_SKIP_BINARY_DOWNLOAD is set; the Electron binary is not fetched.');
  process.exit(0);
}
const result = spawnSync(process.execPath, [installer], { stdio: 'inherit', timeout: 300_000 });
const binaryPath = join(dirname(installer), 'path.txt');
if (result.status !== 0 || !existsSync(binaryPath)) {
  console.warn(
    'onggi: the Electron binary could not be downloaded; `npm start` needs it, ' + '`npm run serve` (browser mode) and the tests do not.',
  );
}
