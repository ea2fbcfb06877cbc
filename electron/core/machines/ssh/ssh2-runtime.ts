// ssh2, bundled into the host's bundles by esbuild (build/build.mjs), so the packaged app (whose
// asar holds no node_modules) has it. Only its pure-JS path ships: its optional native addons
// (sshcrypto.node, cpu-features) are built against Node's ABI, not Electron's, and it loads each
// inside a try/catch, falling back to JS (build.mjs leaves them external, where they are absent).
//
// ssh2 is CommonJS: both Node's ESM loader (the tests) and esbuild's interop put its
// module.exports on `default`, which @types/ssh2 does not declare.
import * as imported from 'ssh2';
import type * as Ssh2 from 'ssh2';

const lib = (imported as unknown as { default: typeof Ssh2 }).default;

export function ssh2(): typeof Ssh2 {
  return lib;
}
