// Builds the init helper (vm-assets/init) as two static executables, one per machine
// architecture the agent deploys to: onggi-init-amd64 and onggi-init-arm64. Each target uses the
// native gcc when the build host has that architecture and the Debian cross compiler otherwise;
// a target whose compiler is missing is skipped with a warning, so a host without the cross
// toolchain still builds the rest. Up-to-date outputs are not rebuilt.
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { arch as hostArch } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'vm-assets/init');

export const INIT_TARGETS = [
  { name: 'onggi-init-amd64', nodeArch: 'x64', cross: 'x86_64-linux-gnu-gcc' },
  { name: 'onggi-init-arm64', nodeArch: 'arm64', cross: 'aarch64-linux-gnu-gcc' },
];

export const INIT_CFLAGS = ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE', '-s'];

function compilerFor(target) {
  return target.nodeArch === hostArch() ? 'gcc' : target.cross;
}

function hasCompiler(cc) {
  const probe = spawnSync(cc, ['--version'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

function run(cc, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cc, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cc} ${args.join(' ')} failed (${code}):\n${stderr}`))));
  });
}

async function newestMtime(paths) {
  let newest = 0;
  for (const path of paths) newest = Math.max(newest, (await stat(path)).mtimeMs);
  return newest;
}

/**
 * Compiles the helper for every target into outDir. Returns what happened to each target:
 * `built`, `current` (already newer than every source) or `skipped` (no compiler).
 */
export async function buildInit({ outDir = join(root, 'vm-assets/dist/agent'), log = console } = {}) {
  const entries = await readdir(sourceDir);
  const cFiles = entries.filter((file) => file.endsWith('.c')).map((file) => join(sourceDir, file));
  const inputs = [...cFiles, ...entries.filter((file) => file.endsWith('.h')).map((file) => join(sourceDir, file))];
  // The version is compiled in, and these flags live here.
  inputs.push(join(root, 'package.json'), fileURLToPath(import.meta.url));
  const sourcesChanged = await newestMtime(inputs);
  const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  await mkdir(outDir, { recursive: true });

  const results = await Promise.all(
    INIT_TARGETS.map(async (target) => {
      const output = join(outDir, target.name);
      const cc = compilerFor(target);
      if (!hasCompiler(cc)) {
        log.warn(`warning: ${target.name} not built: compiler ${cc} not found`);
        return { name: target.name, path: output, status: 'skipped' };
      }
      const built = await stat(output).then(
        (s) => s.mtimeMs,
        () => 0,
      );
      if (built > sourcesChanged) return { name: target.name, path: output, status: 'current' };
      // Compile beside the output and rename, so a concurrent reader never runs half a binary.
      const temp = `${output}.tmp${process.pid}`;
      try {
        await run(cc, [...INIT_CFLAGS, `-DONGGI_INIT_VERSION="${version}"`, '-o', temp, ...cFiles]);
        await rename(temp, output);
      } finally {
        await rm(temp, { force: true });
      }
      return { name: target.name, path: output, status: 'built' };
    }),
  );
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = process.argv[2];
  for (const result of await buildInit(outDir ? { outDir } : {})) console.log(`${result.name}: ${result.status}`);
}
