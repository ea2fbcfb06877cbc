// One npm package's files, checked against a pinned integrity: from node_modules when that exact
// version is installed there, else fetched with the npm client (`npm pack`, so the registry and
// proxy settings are the user's own) into a cache named by the integrity and reused after. Used
// for packages npm does not install on this host: the Node runtimes for the agent
// (build/runtime.mjs), another platform's node-pty prebuilt (build/node-pty.mjs), the Windows
// Node for the Wine lane.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PACKAGE_CACHE_DIR = join(root, '.cache', 'npm-packages');

async function readJson(path) {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The integrity package-lock.json pins for an installed (or optional, not installed) package. */
export async function lockedPackage(name) {
  const lock = await readJson(join(root, 'package-lock.json'));
  const entry = lock?.packages?.[`node_modules/${name}`];
  if (!entry?.version || !entry.integrity) throw new Error(`${name} is not in package-lock.json`);
  return { name, version: entry.version, integrity: entry.integrity };
}

/**
 * The folder holding the package's files (its `package/` contents).
 * @param {{ name: string, version: string, integrity: string, cacheDir?: string, log?: (line: string) => void }} source
 */
export async function packageFiles({ name, version, integrity, cacheDir = PACKAGE_CACHE_DIR, log = () => undefined }) {
  const installed = join(root, 'node_modules', name);
  if ((await readJson(join(installed, 'package.json')))?.version === version) return installed;
  const digest = createHash('sha256').update(integrity).digest('hex').slice(0, 16);
  const out = join(cacheDir, `${name.replace('/', '+')}@${version}-${digest}`);
  if (existsSync(join(out, 'package.json'))) return out;

  await mkdir(cacheDir, { recursive: true });
  const work = await mkdtemp(join(cacheDir, '.fetch-'));
  try {
    const spec = `${name}@${version}`;
    log(`fetching ${spec} with npm pack`);
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
    const [command, ...prefix] = npm;
    const run = spawnSync(command, [...prefix, 'pack', spec, '--pack-destination', work, '--json', '--silent'], {
      encoding: 'utf8',
      cwd: work,
      maxBuffer: 64 * 1024 * 1024,
      // npm on Windows is npm.cmd: only a shell finds it (the arguments are ours, not the user's).
      shell: process.platform === 'win32' && command === 'npm',
    });
    if (run.status !== 0) throw new Error(`npm pack ${spec} failed: ${run.stderr.trim()}`);
    const [packed] = JSON.parse(run.stdout);
    const tgz = join(work, packed.filename);
    const actual = `sha512-${createHash('sha512')
      .update(await readFile(tgz))
      .digest('base64')}`;
    if (actual !== integrity) throw new Error(`${spec} does not match its pinned integrity (${actual})`);
    const extracted = join(work, 'package');
    await mkdir(extracted);
    await tar.extract({ file: tgz, cwd: extracted, strip: 1 });
    await rm(out, { recursive: true, force: true });
    await rename(extracted, out);
    return out;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
