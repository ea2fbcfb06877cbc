// Builds the init helper (vm-assets/init) as two static executables, one per machine
// architecture the agent deploys to: onggi-init-amd64 and onggi-init-arm64. Each target uses the
// native gcc when the build host has that architecture and the Debian cross compiler otherwise;
// a target whose compiler is missing is skipped with a warning, so a host without the cross
// toolchain still builds the rest. Up-to-date outputs are not rebuilt.
//
// Only a Linux host compiles them: they are static Linux executables (glibc, Linux syscalls), and
// a Mac's `gcc` is Apple clang, which cannot make one. Elsewhere they are taken from a Linux build
// (the folder named by ONGGI_INIT_PREBUILT, e.g. the Linux CI job's `init-helpers` artifact); a
// helper found nowhere is reported `missing`, and `npm run dist` and deploy refuse without it.
import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { arch as hostArch } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeOptionsHeader } from '../vm-assets/init/gen-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(root, 'vm-assets/init');

export const INIT_TARGETS = [
  { name: 'onggi-init-amd64', nodeArch: 'x64', cross: 'x86_64-linux-gnu-gcc' },
  { name: 'onggi-init-arm64', nodeArch: 'arm64', cross: 'aarch64-linux-gnu-gcc' },
];

/** How to get a helper this host cannot build: said by the build, `npm run dist` and deploy. */
export function initHelperHint(name) {
  return (
    `${name} is built only on Linux (gcc and libc6-dev; gcc-aarch64-linux-gnu for arm64: node build/init.mjs). ` +
    `On macOS or Windows, download the init-helpers artifact of a Linux CI run (or copy vm-assets/dist/agent/onggi-init-* from a Linux build) ` +
    `and set ONGGI_INIT_PREBUILT to its folder`
  );
}

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
 * `built`, `current` (already newer than every source), `skipped` (no compiler), and off Linux
 * `copied` (from prebuiltDir) or `missing`.
 */
export async function buildInit({
  outDir = join(root, 'vm-assets/dist/agent'),
  log = console,
  platform = process.platform,
  prebuiltDir = process.env.ONGGI_INIT_PREBUILT,
} = {}) {
  if (platform !== 'linux') return takePrebuilt({ outDir, log, prebuiltDir });
  // options.h from protocol.json, the helper's argv defined once (rewritten only when it changed).
  writeOptionsHeader();
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

async function takePrebuilt({ outDir, log, prebuiltDir }) {
  await mkdir(outDir, { recursive: true });
  // One target after another: two small copies gain nothing from overlapping, and the warnings
  // then come in the targets' order (run side by side, CI once printed arm64's first).
  const results = [];
  for (const target of INIT_TARGETS) {
    const output = join(outDir, target.name);
    const source = prebuiltDir ? join(prebuiltDir, target.name) : undefined;
    // probe: no file there means no prebuilt helper
    if (source && (await stat(source).catch(() => undefined))?.isFile()) {
      await copyFile(source, `${output}.tmp${process.pid}`);
      await rename(`${output}.tmp${process.pid}`, output);
      results.push({ name: target.name, path: output, status: 'copied' });
      continue;
    }
    // One from an earlier copy stays usable; nothing here can tell whether it is current.
    if ((await stat(output).catch(() => undefined))?.isFile()) {
      results.push({ name: target.name, path: output, status: 'current' });
      continue;
    }
    log.warn(`warning: ${target.name} missing: ${initHelperHint(target.name)}`);
    results.push({ name: target.name, path: output, status: 'missing' });
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = process.argv[2];
  for (const result of await buildInit(outDir ? { outDir } : {})) console.log(`${result.name}: ${result.status}`);
}
