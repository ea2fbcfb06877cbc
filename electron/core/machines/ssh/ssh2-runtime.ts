// ssh2 is required at run time from node_modules rather than bundled: it carries optional native
// addons (sshcrypto.node, cpu-features) that esbuild cannot bundle and that Electron may not load,
// and it falls back to pure JS on its own when they are absent. A `require` obtained through
// createRequire is left alone by the bundler. Types come from @types/ssh2.
import { createRequire } from 'node:module';
import type * as Ssh2 from 'ssh2';

let loaded: typeof Ssh2 | undefined;

export function ssh2(): typeof Ssh2 {
  loaded ??= createRequire(__filename)('ssh2') as typeof Ssh2;
  return loaded;
}
