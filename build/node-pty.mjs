// Stages @lydell/node-pty for one target of `npm run dist`: its JS package and the prebuilt
// package for that platform and architecture (pty.node; on macOS spawn-helper; on Windows
// conpty.node and its worker script), pinned by package-lock.json. npm installs only this host's
// prebuilt, so another target's comes through build/npm-package.mjs.
//
// Why not in the bundle or the asar: node-pty loads pty.node with `require` from its own package
// folder, and on Windows starts a worker thread and a child process from script files beside it,
// none of which can live inside esbuild's bundle or be executed from an asar. So the two packages
// ship as ordinary files in resources/node_modules (electron-builder.yml, extraResources): the host
// core's `createRequire(__filename)('@lydell/node-pty')` from resources/app.asar/dist/electron
// finds them by Node's own lookup of node_modules in parent folders; no path of ours is involved.
import { cp, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockedPackage, packageFiles } from './npm-package.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where a target's node_modules is staged; electron-builder.yml copies `dist/node-pty/${os}-${arch}`. */
export function nodePtyStageDir(builderOs, arch) {
  return join(root, 'dist', 'node-pty', `${builderOs}-${arch}`);
}

/**
 * @param {{ platform: 'linux' | 'darwin' | 'win32', arch: string, outDir: string, log?: (line: string) => void }} target
 * @returns {Promise<string[]>} the packages staged
 */
export async function stageNodePty({ platform, arch, outDir, log }) {
  const names = ['@lydell/node-pty', `@lydell/node-pty-${platform}-${arch}`];
  await rm(outDir, { recursive: true, force: true });
  for (const name of names) {
    const files = await packageFiles({ ...(await lockedPackage(name)), log });
    await mkdir(dirname(join(outDir, 'node_modules', name)), { recursive: true });
    await cp(files, join(outDir, 'node_modules', name), { recursive: true });
  }
  return names;
}
