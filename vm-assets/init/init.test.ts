// The init helper against the real kernel, as root: containers made from a busybox rootfs, run
// with the default policy from security-policy.ts, judged by what the container itself reports
// (its log) and what the host sees (/proc, cgroups, the exit file). Everything a test creates —
// processes, cgroups, mounts, files — is tracked and removed in afterEach/afterAll even when the
// test fails; only pids these tests started are ever signalled.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, readlink, rm, rmdir, stat, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type * as NodePty from '@lydell/node-pty';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CAPABILITIES,
  DEFAULT_CAPABILITIES,
  DEFAULT_DEVICE_RULES,
  DEFAULT_SECURITY_POLICY,
  capabilityMask,
} from '../agent/runtime/security-policy.js';
import { initArgs, initHelperName, type ExecSpec, type RunSpec } from '../agent/runtime/helper-protocol.js';
import { compileSeccomp, seccompSettings } from '../agent/runtime/seccomp-policy.js';
import { DOCKER_DEFAULT_PROFILE } from '../agent/runtime/seccomp-default-profile.js';

const isRoot = process.getuid?.() === 0;
const DOCKER_CAPS = '00000000a80425fb';
/** Docker's default profile for Docker's default capabilities, as the runtime hands it to the helper. */
const DEFAULT_SECCOMP = seccompSettings({}, DEFAULT_CAPABILITIES).helper;
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const REPO = join(__dirname, '../..');

let work = '';
let helper = '';
let arm64Helper = '';
let rootfs = '';

interface Started {
  supervisor: ChildProcess;
  dir: string;
  /** Lines the supervisor wrote on the ready fd, as they come. */
  ready: string[];
  nextReady(): Promise<string | undefined>;
  go?: Writable;
  exited: Promise<number | null>;
  stderr: () => string;
}

interface LogEntry {
  time: string;
  stream: 'stdout' | 'stderr';
  log: string;
}

interface ExitRecord {
  exitCode: number;
  signal: string | null;
  finishedAt: string;
  error: string | null;
}

// ---- cleanup bookkeeping --------------------------------------------------------------------

const supervisors = new Set<ChildProcess>();
const containerPids = new Set<number>();
const cgroups: string[] = [];
const mounts: string[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isZombie(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return false;
  }
}

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function endContainers(): Promise<void> {
  for (const pid of containerPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const supervisor of supervisors) {
    if (supervisor.exitCode === null && supervisor.signalCode === null) {
      await waitFor(
        () => (supervisor.exitCode !== null || supervisor.signalCode !== null ? true : undefined),
        'supervisor exit',
        5000,
      ).catch(() => {
        if (supervisor.pid) process.kill(supervisor.pid, 'SIGKILL');
      });
    }
  }
  supervisors.clear();
  containerPids.clear();
}

afterEach(async () => {
  await endContainers();
  for (const target of mounts.splice(0).reverse()) spawnSync('umount', ['-l', target]);
  for (const dir of cgroups.splice(0).reverse()) {
    await waitFor(
      () => {
        const procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim();
        return procs === '' ? true : undefined;
      },
      `${dir} to empty`,
      5000,
    ).catch(() => undefined);
    await rmdir(dir).catch(() => undefined);
  }
});

// ---- building blocks ------------------------------------------------------------------------

async function makeRootfs(dir: string): Promise<void> {
  for (const sub of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'mnt', 'root']) await mkdir(join(dir, sub), { recursive: true });
  await copyFile('/bin/busybox', join(dir, 'bin/busybox'));
  await chmod(join(dir, 'bin/busybox'), 0o755);
  const list = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const name of list) if (name !== 'busybox') await symlink('busybox', join(dir, 'bin', name));
  // The probes, static: the rootfs has no libc. ordinary.c twice, to run both C libraries' start-up and calls.
  for (const [cc, source, out, flags] of [
    ['gcc', 'probe.c', 'probe', ['-D_GNU_SOURCE']],
    ['gcc', 'ordinary.c', 'ordinary-glibc', ['-pthread']],
    ['musl-gcc', 'ordinary.c', 'ordinary-musl', []],
  ] as const) {
    const built = spawnSync(cc, ['-static', '-O2', ...flags, '-o', join(dir, 'bin', out), join(__dirname, 'testdata', source)], {
      encoding: 'utf8',
    });
    if (built.status !== 0) throw new Error(`${source} did not compile with ${cc}: ${built.stderr}`);
  }
}

function lineReader(stream: Readable): { lines: string[]; next(): Promise<string | undefined> } {
  const lines: string[] = [];
  const waiters: Array<(line: string | undefined) => void> = [];
  let buffer = '';
  let taken = 0;
  let ended = false;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(lines[taken++]);
    }
  });
  const end = (): void => {
    ended = true;
    for (const waiter of waiters.splice(0)) waiter(undefined);
  };
  stream.on('end', end);
  stream.on('close', end);
  stream.on('error', end);
  return {
    lines,
    next: () => {
      if (taken < lines.length) return Promise.resolve(lines[taken++]);
      if (ended) return Promise.resolve(undefined);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

type RunOptions = Partial<Omit<RunSpec, 'command' | 'argv'>> & { go?: boolean; script?: string; argv?: string[] };

/** Starts `onggi-init run` with the default policy; options override any field. */
async function start(options: RunOptions = {}): Promise<Started> {
  const dir = await mkdtemp(join(work, 'c-'));
  const { go, script, argv, ...overrides } = options;
  const spec: RunSpec = {
    command: 'run',
    rootfs,
    hostname: 'onggi-box',
    env: [PATH_ENV, 'HOME=/root'],
    ...DEFAULT_SECURITY_POLICY,
    ...DEFAULT_SECCOMP,
    logFile: join(dir, 'log.json'),
    exitFile: join(dir, 'exit.json'),
    pidFile: join(dir, 'pid'),
    readyFd: 3,
    ...(go ? { goFd: 4 } : {}),
    ...overrides,
    argv: argv ?? ['sh', '-c', script ?? 'true'],
  };
  const supervisor = spawn(helper, initArgs(spec), { stdio: ['ignore', 'ignore', 'pipe', 'pipe', go ? 'pipe' : 'ignore'] });
  supervisors.add(supervisor);
  let stderr = '';
  supervisor.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => supervisor.once('exit', (code) => resolve(code)));
  const reader = lineReader(supervisor.stdio[3] as Readable);
  const goStream = go ? (supervisor.stdio[4] as Writable) : undefined;
  goStream?.on('error', () => undefined);
  const started: Started = {
    supervisor,
    dir,
    ready: reader.lines,
    nextReady: async () => {
      const line = await reader.next();
      const created = /^created (\d+)$/.exec(line ?? '');
      if (created) containerPids.add(Number(created[1]));
      return line;
    },
    go: goStream,
    exited,
    stderr: () => stderr,
  };
  return started;
}

/** Runs a script to the end and returns what the container wrote and how it ended. */
async function runScript(
  script: string,
  options: RunOptions = {},
): Promise<{ out: string; err: string; exit: ExitRecord; entries: LogEntry[] }> {
  const started = await start({ ...options, script });
  expect(await started.nextReady()).toMatch(/^created \d+$/);
  expect(await started.nextReady()).toBe('started');
  expect(await started.exited).toBe(0);
  const entries = await readLog(started.dir);
  return {
    out: entries
      .filter((e) => e.stream === 'stdout')
      .map((e) => e.log)
      .join(''),
    err: entries
      .filter((e) => e.stream === 'stderr')
      .map((e) => e.log)
      .join(''),
    exit: await readExit(started.dir),
    entries,
  };
}

/** A plain `run` of argv with the default policy, its exit file and log in dir. */
function plainRunArgs(dir: string, argv: string[], extra: Partial<RunSpec> = {}): string[] {
  return initArgs({
    command: 'run',
    rootfs,
    ...DEFAULT_SECURITY_POLICY,
    ...DEFAULT_SECCOMP,
    env: [PATH_ENV],
    exitFile: join(dir, 'exit.json'),
    logFile: join(dir, 'log.json'),
    ...extra,
    argv,
  });
}

async function readLog(dir: string): Promise<LogEntry[]> {
  const text = await readFile(join(dir, 'log.json'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogEntry);
}

async function readExit(dir: string): Promise<ExitRecord> {
  return JSON.parse(await readFile(join(dir, 'exit.json'), 'utf8')) as ExitRecord;
}

function field(status: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1];
}

async function pidNamespace(pid: number | 'self'): Promise<string> {
  return readlink(`/proc/${pid}/ns/pid`);
}

// ---- suites -----------------------------------------------------------------------------------

/** Runs build/init.mjs as the build does; returns each target's status (built, current, skipped). */
function buildInit(outDir: string): Record<string, string> {
  const build = spawnSync(process.execPath, [join(REPO, 'build/init.mjs'), outDir], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build/init.mjs failed: ${build.stderr}`);
  return Object.fromEntries(build.stdout.split('\n').flatMap((line) => (/^(\S+): (\w+)$/.exec(line) ? [line.split(': ')] : [])));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'onggi-init-test-'));
  const results = buildInit(join(work, 'bin'));
  helper = join(work, 'bin', initHelperName());
  arm64Helper = results['onggi-init-arm64'] === 'skipped' ? '' : join(work, 'bin', 'onggi-init-arm64');
  rootfs = join(work, 'rootfs');
  if (isRoot) await makeRootfs(rootfs);
}, 120_000);

afterAll(async () => {
  await endContainers();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('build', () => {
  it('builds the helper for this machine and reports its version', () => {
    const version = spawnSync(helper, ['version'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^onggi-init \S+ (x86_64|aarch64)\n$/);
  });

  it('builds an aarch64 executable too (ELF e_machine 183)', async () => {
    if (!arm64Helper) return; // no cross compiler on this host: buildInit warned and skipped it
    const header = (await readFile(arm64Helper)).subarray(0, 20);
    expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(header[4]).toBe(2); // 64-bit
    expect(header.readUInt16LE(18)).toBe(183); // EM_AARCH64
    const native = (await readFile(helper)).subarray(0, 20);
    expect(native.readUInt16LE(18)).toBe(process.arch === 'x64' ? 62 : 183);
  });

  it('does not rebuild an up-to-date helper', async () => {
    const before = (await stat(helper)).mtimeMs;
    expect(buildInit(join(work, 'bin'))[initHelperName()]).toBe('current');
    expect((await stat(helper)).mtimeMs).toBe(before);
  });
});

describe.skipIf(!isRoot)('onggi-init run', () => {
  it('makes the command PID 1 of its own pid namespace, with its hostname, seeing only its own processes', async () => {
    // `; echo end` keeps sh from exec'ing ps in its place
    const { out, exit } = await runScript('echo "pid=$$"; hostname; ps -o pid,comm; echo end');
    expect(exit).toMatchObject({ exitCode: 0, signal: null, error: null });
    expect(out).toMatch(/^pid=1\n/m);
    expect(out).toContain('onggi-box\n');
    const table = out.split('\n').filter((line) => /^\s*\d+ \S+$/.test(line));
    // sh and ps, nothing from the host
    expect(table.map((line) => line.trim().split(/\s+/)[1]).sort()).toEqual(['ps', 'sh']);
    expect(table[0]?.trim()).toBe('1 sh');
    const pids = table.map((line) => Number(line.trim().split(/\s+/)[0]));
    expect(pids.every((pid) => pid < 10)).toBe(true);
  });

  it("applies Docker's default capabilities, no_new_privs and the seccomp filter", async () => {
    expect(capabilityMask(DEFAULT_CAPABILITIES)).toBe(DOCKER_CAPS);
    const { out } = await runScript('cat /proc/self/status');
    expect(field(out, 'CapEff')).toBe(DOCKER_CAPS);
    expect(field(out, 'CapPrm')).toBe(DOCKER_CAPS);
    expect(field(out, 'CapBnd')).toBe(DOCKER_CAPS);
    expect(field(out, 'CapInh')).toBe('0000000000000000');
    expect(field(out, 'CapAmb')).toBe('0000000000000000');
    expect(field(out, 'NoNewPrivs')).toBe('1');
    expect(field(out, 'Seccomp')).toBe('2');
  });

  it('leaves a non-root user no capabilities but the same bounding set', async () => {
    const { out } = await runScript('id -u; id -g; id -G; cat /proc/self/status', { uid: 1000, gid: 1000, groups: [5, 20] });
    expect(out).toMatch(/^1000\n1000\n1000 5 20\n/);
    expect(field(out, 'CapEff')).toBe('0000000000000000');
    expect(field(out, 'CapPrm')).toBe('0000000000000000');
    expect(field(out, 'CapBnd')).toBe(DOCKER_CAPS);
  });

  it('refuses mount, umount, swapon, sethostname and unshare inside the container', async () => {
    const { out } = await runScript(
      [
        'mount -t tmpfs x /mnt 2>/dev/null; echo "mount=$?"',
        'umount /proc 2>/dev/null; echo "umount=$?"',
        'swapon /x 2>/dev/null; echo "swapon=$?"',
        'hostname other 2>/dev/null; echo "hostname=$?"; hostname',
        'unshare -n true 2>/dev/null; echo "unshare=$?"',
        'grep -c " /proc " /proc/self/mountinfo',
      ].join('; '),
    );
    expect(out).toMatch(/^mount=[1-9]/m);
    expect(out).toMatch(/^umount=[1-9]/m);
    expect(out).toMatch(/^swapon=[1-9]/m);
    expect(out).toMatch(/^hostname=[1-9]\nonggi-box$/m);
    expect(out).toMatch(/^unshare=[1-9]/m);
  });

  it('refuses through seccomp itself: with every capability kept, the filter alone still says no', async () => {
    const script = 'hostname other 2>/dev/null; echo "hostname=$?"; mount -t tmpfs x /mnt 2>/dev/null; echo "mount=$?"; probe';
    const open = await runScript(script, { caps: CAPABILITIES, seccomp: undefined });
    expect(open.out).toMatch(/^hostname=0$/m);
    expect(open.out).toMatch(/^mount=0$/m);
    expect(open.out).toMatch(/^clone_newnet=ok$/m);

    const filtered = await runScript(script, { caps: CAPABILITIES });
    expect(filtered.out).toMatch(/^hostname=1$/m);
    expect(filtered.out).toMatch(/^mount=[1-9]/m);
    expect(filtered.out).toMatch(/^clone_plain=ok$/m);
    expect(filtered.out).toMatch(/^clone_newnet=EPERM$/m);
    expect(filtered.out).toMatch(/^clone_newuser=EPERM$/m);
    expect(filtered.out).toMatch(/^clone_newns=EPERM$/m);
    expect(filtered.out).toMatch(/^clone3=ENOSYS$/m);
    expect(filtered.out).toMatch(/^unshare_newns=EPERM$/m);
    expect(filtered.out).toMatch(/^getpid=ok$/m);
    // x32's getpid is allowed by Docker's profile, which lists x32 beside x86_64
    if (process.arch === 'x64') expect(filtered.out).toMatch(/^x32_getpid=(ok|ENOSYS)$/m);
  });

  it.runIf(process.arch === 'x64')('filters i386 calls as Docker does, and kills those of an ABI the profile does not list', async () => {
    const open = await runScript('probe int80', { seccomp: undefined });
    if (!/^int80=\d+$/m.test(open.out)) return; // this kernel has no ia32 emulation: nothing to filter
    // Docker's profile lists i386 (x86) beside x86_64: getpid through int 0x80 is allowed
    const allowed = await runScript('probe int80');
    expect(allowed.out).toMatch(/^int80=\d+$/m);
    const nativeOnly = compileSeccomp(
      { ...DOCKER_DEFAULT_PROFILE, archMap: null, architectures: ['SCMP_ARCH_X86_64'] },
      DEFAULT_CAPABILITIES,
    );
    const { exit } = await runScript('exec probe int80', { seccomp: nativeOnly.lines });
    expect(exit).toMatchObject({ exitCode: 128 + 31, signal: 'SIGSYS' });
  });

  it('masks and write-protects the paths the policy names', async () => {
    const checks = DEFAULT_SECURITY_POLICY.masked.map(
      (path) =>
        `if [ -d ${path} ]; then echo "${path} dir $(ls -A ${path} | wc -l)"; elif [ -e ${path} ]; then echo "${path} file $(cat ${path} 2>/dev/null | wc -c)"; fi`,
    );
    const { out } = await runScript(
      [
        ...checks,
        'echo x > /proc/sys/kernel/hostname 2>/dev/null; echo "procsys=$?"',
        'echo h > /proc/sysrq-trigger 2>/dev/null; echo "sysrq=$?"',
        'touch /sys/x 2>/dev/null; echo "sys=$?"',
        'cat /proc/self/mountinfo',
      ].join('\n'),
    );
    const masked = out.split('\n').filter((line) => line.startsWith('/') && / (dir|file) \d+$/.test(line));
    expect(masked.length).toBeGreaterThan(0);
    for (const line of masked) expect(line).toMatch(/ (dir|file) 0$/);
    expect(out).toMatch(/^procsys=[1-9]/m);
    expect(out).toMatch(/^sysrq=[1-9]/m);
    expect(out).toMatch(/^sys=[1-9]/m);
    const mountinfo = out.split('\n').filter((line) => /^\d+ \d+ /.test(line));
    for (const path of DEFAULT_SECURITY_POLICY.readonly) {
      const line = mountinfo.find((l) => l.split(' ')[4] === path);
      if (line) expect(line.split(' ')[5]).toMatch(/^ro,nosuid,nodev,noexec/);
    }
    expect(mountinfo.find((l) => l.split(' ')[4] === '/proc/sys')).toBeDefined();
    expect(mountinfo.find((l) => l.split(' ')[4] === '/sys')?.split(' ')[5]).toMatch(/^ro,/);
    expect(mountinfo.find((l) => l.split(' ')[4] === '/dev/pts')).toMatch(/devpts .*ptmxmode=666/);
    expect(mountinfo.find((l) => l.split(' ')[4] === '/dev/shm')).toMatch(/tmpfs .*size=65536k/);
    expect(mountinfo.find((l) => l.split(' ')[4] === '/dev/mqueue')).toMatch(/ mqueue /);
  });

  it('shows the container nothing of the host filesystem', async () => {
    const secret = `onggi-secret-${randomBytes(6).toString('hex')}`;
    const secretPath = join(tmpdir(), secret);
    await writeFile(secretPath, 'host');
    try {
      const { out } = await runScript(
        'ls -a /tmp /proc/1/root/tmp /proc/1/cwd; cd ../../..; pwd; ls -a; cat /proc/1/mountinfo; find / -xdev -name "onggi-secret-*" 2>/dev/null; echo done',
      );
      expect(out).toContain('done');
      expect(out).not.toContain(secret);
      expect(out).toMatch(/^\/$/m);
      // the host's root and its other mounts are not in the container's mount table
      expect(out).not.toMatch(/ \/tmp\/onggi-init-test-\S+ \/host/);
    } finally {
      await rm(secretPath, { force: true });
    }
  });

  it('writes the exit code and signal to the exit file', async () => {
    const seven = await runScript('exit 7');
    expect(seven.exit).toMatchObject({ exitCode: 7, signal: null, error: null });
    expect(seven.exit.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);

    const started = await start({ script: 'sleep 1000' });
    const created = await started.nextReady();
    const pid = Number(/^created (\d+)$/.exec(created ?? '')?.[1]);
    expect(await started.nextReady()).toBe('started');
    expect(Number((await readFile(join(started.dir, 'pid'), 'utf8')).trim())).toBe(pid);
    expect(await started.nextReady()).toBeUndefined(); // the ready fd is closed after `started`
    process.kill(pid, 'SIGKILL');
    expect(await started.exited).toBe(0);
    expect(await readExit(started.dir)).toMatchObject({ exitCode: 137, signal: 'SIGKILL', error: null });
  });

  it('mounts the overlay itself with --overlay, says how long it took, and unmounts it at the end', async () => {
    const dir = await mkdtemp(join(work, 'overlay-'));
    const upper = join(dir, 'upper');
    const workdir = join(dir, 'work');
    const merged = join(dir, 'merged');
    for (const path of [upper, workdir, merged]) await mkdir(path);
    mounts.push(merged);
    const started = await start({
      rootfs: merged,
      overlay: `lowerdir=${rootfs},upperdir=${upper},workdir=${workdir}`,
      unmountRootfs: true,
      script: 'echo written > /from-the-container; cat /from-the-container',
    });
    expect(await started.nextReady()).toMatch(/^mounted \d+(\.\d+)?$/);
    expect(await started.nextReady()).toMatch(/^created \d+$/);
    expect(await started.nextReady()).toBe('started');
    expect(await started.exited).toBe(0);
    expect(await readExit(started.dir)).toMatchObject({ exitCode: 0, error: null });
    // The write went to the upperdir, the image (lowerdir) is untouched, and nothing stays mounted.
    expect(await readFile(join(upper, 'from-the-container'), 'utf8')).toBe('written\n');
    expect(existsSync(join(rootfs, 'from-the-container'))).toBe(false);
    expect(
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .some((line) => line.split(' ')[4] === merged),
    ).toBe(false);
  });

  it('reports a failed setup on the ready fd and in the exit file', async () => {
    const missing = await start({ rootfs: join(work, 'no-such-rootfs') });
    const line = await missing.nextReady();
    expect(line).toBe(`error open ${join(work, 'no-such-rootfs')}: No such file or directory`);
    expect(await missing.exited).not.toBe(0);
    expect(await readExit(missing.dir)).toMatchObject({
      exitCode: 127,
      signal: null,
      error: `open ${join(work, 'no-such-rootfs')}: No such file or directory`,
    });

    const noCommand = await start({ argv: ['no-such-command', 'x'] });
    expect(await noCommand.nextReady()).toMatch(/^created \d+$/);
    expect(await noCommand.nextReady()).toBe('error exec no-such-command: executable file not found in $PATH');
    await noCommand.exited;
    expect(await readExit(noCommand.dir)).toMatchObject({
      exitCode: 127,
      error: 'exec no-such-command: executable file not found in $PATH',
    });

    const badCwd = await start({ cwd: '/bin/busybox/x' });
    expect(await badCwd.nextReady()).toMatch(/^created \d+$/);
    expect(await badCwd.nextReady()).toBe('error mkdir /bin/busybox/x: Not a directory');

    const badOption = await start({ argv: ['true'], env: ['NOEQUALS'] }).catch((error: unknown) => error);
    expect(badOption).toBeInstanceOf(Error); // initArgs refuses before anything is spawned
  });

  it('reports a bad command line through the ready fd too', async () => {
    const dir = await mkdtemp(join(work, 'c-'));
    const supervisor = spawn(helper, ['run', '--exit-file', join(dir, 'exit.json'), '--ready-fd', '3', '--bogus', 'x', '--', 'true'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    supervisors.add(supervisor);
    const reader = lineReader(supervisor.stdio[3] as Readable);
    expect(await reader.next()).toBe('error unknown option --bogus');
    await new Promise((resolve) => supervisor.once('exit', resolve));
    expect(await readExit(dir)).toMatchObject({ exitCode: 127, error: 'unknown option --bogus' });
  });

  it('holds the container between created and go, then starts it', async () => {
    const started = await start({ go: true, script: 'echo ran' });
    const pid = Number(/^created (\d+)$/.exec((await started.nextReady()) ?? '')?.[1]);
    expect(pid).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // a real process, in namespaces of its own, still the helper: the command has not run
    expect(alive(pid)).toBe(true);
    expect(await pidNamespace(pid)).not.toBe(await pidNamespace('self'));
    expect(await readlink(`/proc/${pid}/ns/net`)).not.toBe(await readlink('/proc/self/ns/net'));
    expect(await readlink(`/proc/${pid}/exe`)).toBe(helper);
    expect(await readLog(started.dir)).toEqual([]);
    expect(started.ready).toHaveLength(1);
    started.go?.end('go\n');
    expect(await started.nextReady()).toBe('started');
    expect(await started.exited).toBe(0);
    expect((await readLog(started.dir)).map((e) => e.log)).toEqual(['ran\n']);
  });

  it('cancels the container when the go fd closes without go', async () => {
    const started = await start({ go: true, script: 'echo ran' });
    const pid = Number(/^created (\d+)$/.exec((await started.nextReady()) ?? '')?.[1]);
    started.go?.end();
    expect(await started.nextReady()).toBe('error cancelled before start');
    await started.exited;
    expect(alive(pid)).toBe(false);
    expect(await readExit(started.dir)).toMatchObject({ exitCode: 127, error: 'cancelled before start' });
    expect(await readLog(started.dir)).toEqual([]);
  });

  it('unmounts the overlay it mounted when the start is cancelled (the agent died before go), and says so in the exit file', async () => {
    const dir = await mkdtemp(join(work, 'cancel-'));
    const [upper, workdir, merged] = ['upper', 'work', 'merged'].map((name) => join(dir, name)) as [string, string, string];
    for (const path of [upper, workdir, merged]) await mkdir(path);
    mounts.push(merged);
    const started = await start({
      go: true,
      rootfs: merged,
      overlay: `lowerdir=${rootfs},upperdir=${upper},workdir=${workdir}`,
      unmountRootfs: true,
      script: 'echo ran',
    });
    expect(await started.nextReady()).toMatch(/^mounted /);
    expect(await started.nextReady()).toMatch(/^created \d+$/);
    started.go?.end(); // EOF without go: what a SIGKILLed agent leaves the supervisor
    expect(await started.nextReady()).toBe('error cancelled before start');
    await started.exited;
    expect(await readExit(started.dir)).toMatchObject({
      exitCode: 127,
      error: 'cancelled before start',
      rootfsUnmountedMs: expect.any(Number),
    });
    expect(
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .some((line) => line.split(' ')[4] === merged),
    ).toBe(false);
  });

  it('puts the container in its v1 cgroup before it runs, as the root of its cgroup namespace, and the limit holds', async () => {
    const dir = `/sys/fs/cgroup/pids/onggi-test-${randomBytes(4).toString('hex')}`;
    await mkdir(dir);
    cgroups.push(dir);
    await writeFile(join(dir, 'pids.max'), '6');
    const started = await start({
      cgroupProcs: [join(dir, 'cgroup.procs')],
      // busybox sh gives up when a fork fails: let a subshell hit the limit, the container's sh goes on
      script: 'grep pids /proc/self/cgroup; (i=0; while [ $i -lt 10 ]; do sleep 1000 & i=$((i+1)); done); echo forked; exec sleep 1000',
    });
    const pid = Number(/^created (\d+)$/.exec((await started.nextReady()) ?? '')?.[1]);
    // in the cgroup from `created` on, before the command ran
    expect(await readFile(`/proc/${pid}/cgroup`, 'utf8')).toMatch(new RegExp(`:pids:${dir.replace('/sys/fs/cgroup/pids', '')}$`, 'm'));
    expect(await started.nextReady()).toBe('started');
    const entries = await waitFor(async () => {
      const log = await readLog(started.dir);
      return log.some((e) => e.log === 'forked\n') ? log : undefined;
    }, 'the fork loop');
    const all = entries.map((e) => e.log).join('');
    expect(all).toMatch(/^\d+:pids:\/$/m); // its own cgroup is "/" inside
    expect(all).toMatch(/can't fork/);
    expect(Number((await readFile(join(dir, 'pids.current'), 'utf8')).trim())).toBeLessThanOrEqual(6);
    process.kill(pid, 'SIGKILL');
    await started.exited;
    // the kernel killed the rest of the pid namespace with its init
    await waitFor(() => (readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() === '' ? true : undefined), 'the cgroup to empty');
  });

  it.runIf(existsSync('/sys/fs/cgroup/unified/cgroup.procs') || existsSync('/sys/fs/cgroup/cgroup.controllers'))(
    'mounts the v2 hierarchy read-only inside, rooted at the container cgroup',
    async () => {
      const base = existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
      const dir = join(base, `onggi-test-${randomBytes(4).toString('hex')}`);
      await mkdir(dir);
      cgroups.push(dir);
      const { out, exit } = await runScript(
        'grep "^0::" /proc/self/cgroup; cat /sys/fs/cgroup/cgroup.procs; touch /sys/fs/cgroup/x 2>/dev/null; echo "touch=$?"',
        {
          cgroupProcs: [join(dir, 'cgroup.procs')],
          cgroupfs: 'v2',
        },
      );
      expect(exit.exitCode).toBe(0);
      expect(out).toMatch(/^0::\/$/m);
      // only the container's processes, in its own pid numbers
      expect(out).toMatch(/^1$/m);
      expect(out).toMatch(/^touch=[1-9]/m);
    },
  );

  it.runIf(existsSync('/sys/fs/cgroup/unified/cgroup.procs') || existsSync('/sys/fs/cgroup/cgroup.controllers'))(
    "lets the container create device nodes but open only the allowed ones (cgroup2's BPF device filter)",
    async () => {
      const base = existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
      const dir = join(base, `onggi-test-${randomBytes(4).toString('hex')}`);
      await mkdir(dir);
      cgroups.push(dir);
      // tty0 is the host's console: a node for it is exactly what a container must not open
      const script =
        'mknod /tmp/tty0 c 4 0; echo "mknod=$?"; head -c 0 /tmp/tty0; echo "tty0=$?"; rm /tmp/tty0; cat /dev/null; echo "null=$?"; head -c 4 /dev/urandom | wc -c';
      const hostOpensTty0 = spawnSync('head', ['-c', '0', '/dev/tty0']).status === 0;
      if (hostOpensTty0) {
        const open = await runScript(script);
        expect(open.out).toMatch(/^tty0=0$/m); // the hole the filter closes
      }
      const { out, err } = await runScript(script, { cgroupProcs: [join(dir, 'cgroup.procs')], deviceAllow: DEFAULT_DEVICE_RULES });
      expect(out).toMatch(/^mknod=0$/m);
      expect(out).toMatch(/^tty0=1$/m);
      expect(err).toMatch(/\/tmp\/tty0: Operation not permitted/);
      expect(out).toMatch(/^null=0$/m);
      expect(out).toMatch(/^4$/m);

      const v1Only = await start({ deviceAllow: DEFAULT_DEVICE_RULES, cgroupProcs: [] });
      expect(await v1Only.nextReady()).toMatch(/^error --device-allow: none of the --cgroup-procs files is on cgroup2/);
    },
  );

  it.runIf(existsSync('/sys/fs/cgroup/unified/cgroup.procs') || existsSync('/sys/fs/cgroup/cgroup.controllers'))(
    "--device on cgroup2: the helper makes the node and the device's own rule lets it open; 'a' (--privileged) allows every device",
    async () => {
      const base = existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
      const cgroup = async () => {
        const dir = join(base, `onggi-test-${randomBytes(4).toString('hex')}`);
        await mkdir(dir);
        cgroups.push(dir);
        return [join(dir, 'cgroup.procs')];
      };
      // loop-control (10:237) is outside Docker's rules; given as /dev/mylc, read only. loop0 (7:0) is not given.
      const deviceNodes = [{ type: 'c' as const, major: 10, minor: 237, mode: 0o640, uid: 0, gid: 6, path: '/dev/mylc' }];
      const script = 'ls -l /dev/mylc; head -c 0 /dev/mylc; echo "read=$?"; mknod /tmp/loop0 b 7 0; head -c 0 /tmp/loop0; echo "other=$?"';
      const given = await runScript(script, {
        cgroupProcs: await cgroup(),
        deviceAllow: [...DEFAULT_DEVICE_RULES, 'c 10:237 r'],
        deviceNodes,
      });
      expect(given.out).toMatch(/^crw-r-----\s+1 0\s+6\s+10,\s+237\s/m);
      expect(given.out).toMatch(/^read=0$/m);
      expect(given.err).toMatch(/\/tmp\/loop0: Operation not permitted/);
      expect(given.out).toMatch(/^other=1$/m);
      const all = await runScript(script, {
        cgroupProcs: await cgroup(),
        deviceAllow: ['a'],
        deviceNodes,
        caps: CAPABILITIES,
      });
      expect(all.out).toMatch(/^read=0$/m);
      expect(all.out).toMatch(/^other=0$/m);
    },
  );

  it('writes output as JSON lines: escaped, invalid UTF-8 replaced, long lines in 16 KiB pieces, a partial last line kept', async () => {
    const script = [
      'printf \'a\\tb\\001"q"\\\\\\n\'',
      "printf '\\377\\300x\\n'",
      "printf 'err\\n' >&2",
      'head -c 40000 /dev/zero | tr "\\0" y; echo',
      // a three-byte character straddling the 16 KiB boundary
      "head -c 16383 /dev/zero | tr '\\0' z; printf '\\355\\225\\234end\\n'",
      "printf 'tail'",
    ].join('; ');
    const { entries } = await runScript(script);
    const stdout = entries.filter((e) => e.stream === 'stdout').map((e) => e.log);
    expect(stdout[0]).toBe('a\tb\u0001"q"\\\n');
    expect(stdout[1]).toBe('\ufffd\ufffdx\n');
    expect(entries.find((e) => e.stream === 'stderr')?.log).toBe('err\n');
    expect(stdout.slice(2, 5).map((s) => s.length)).toEqual([16384, 16384, 40000 - 2 * 16384 + 1]);
    expect(stdout.slice(2, 5).join('')).toBe(`${'y'.repeat(40000)}\n`);
    expect(stdout[5]).toBe('z'.repeat(16383));
    expect(stdout[6]).toBe('\ud55cend\n');
    expect(stdout[7]).toBe('tail');
    for (const entry of entries) expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  });

  it('outlives the process that started it', async () => {
    const dir = await mkdtemp(join(work, 'c-'));
    const args = plainRunArgs(dir, ['sh', '-c', 'sleep 1; echo survived; exit 5'], { pidFile: join(dir, 'pid') });
    // The launcher spawns the supervisor detached with stdio on /dev/null, as the agent does, and exits.
    const launcher = spawnSync(
      process.execPath,
      [
        '-e',
        'const c = require("node:child_process").spawn(process.argv[1], JSON.parse(process.argv[2]), { detached: true, stdio: "ignore" }); console.log(c.pid); c.unref();',
        helper,
        JSON.stringify(args),
      ],
      { encoding: 'utf8' },
    );
    expect(launcher.status).toBe(0);
    const supervisorPid = Number(launcher.stdout.trim());
    const pid = await waitFor(
      async () => Number((await readFile(join(dir, 'pid'), 'utf8').catch(() => '')).trim()) || undefined,
      'the pid file',
    );
    containerPids.add(pid);
    expect(alive(supervisorPid)).toBe(true);
    // its own session: a terminal hangup or the launcher's process group cannot reach it
    const stat = (await readFile(`/proc/${supervisorPid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    expect(Number(stat[3])).toBe(supervisorPid); // session id
    const exit = await waitFor(async () => {
      const text = await readFile(join(dir, 'exit.json'), 'utf8').catch(() => undefined);
      return text === undefined ? undefined : (JSON.parse(text) as ExitRecord);
    }, 'the exit file');
    expect(exit).toMatchObject({ exitCode: 5, signal: null });
    expect((await readLog(dir)).map((e) => e.log)).toEqual(['survived\n']);
    // It was orphaned: this machine's pid 1 reaps it, in its own time; a zombie has exited.
    await waitFor(() => (alive(supervisorPid) && !isZombie(supervisorPid) ? undefined : true), 'the supervisor to exit');
  });

  it('launch forks several supervisors, each with its own pipes, log and session, and says on its ready pipe why one could not start', async () => {
    const dirs = [await mkdtemp(join(work, 'c-')), await mkdtemp(join(work, 'c-'))];
    const runs = dirs.map((dir, i) => plainRunArgs(dir, ['sh', '-c', `echo container ${i}`], { readyFd: 3, goFd: 4 }));
    const missing = join(work, 'no-such-helper');
    const argv = ['launch', '3'];
    for (const [i, args] of runs.entries()) argv.push(join(dirs[i] ?? '', 'supervisor.log'), String(args.length + 1), helper, ...args);
    argv.push(join(work, 'never.log'), '1', missing);
    const child = spawn(helper, argv, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
    const ready = [3, 5, 7].map((fd) => lineReader(child.stdio[fd] as Readable).lines);
    for (const i of [0, 1]) {
      const created = await waitFor(() => ready[i]?.find((line) => line.startsWith('created ')), `supervisor ${i} created`);
      const pid = Number(created.slice('created '.length));
      containerPids.add(pid);
      const supervisor = Number((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[1]);
      // its own session, no child of the launch
      expect(Number((await readFile(`/proc/${supervisor}/stat`, 'utf8')).split(') ')[1]?.split(' ')[3])).toBe(supervisor);
      expect(supervisor).not.toBe(child.pid);
      (child.stdio[4 + 2 * i] as Writable).end('go\n');
    }
    await waitFor(() => (ready[0]?.includes('started') && ready[1]?.includes('started') ? true : undefined), 'both started');
    for (const [i, dir] of dirs.entries()) {
      await waitFor(() => (existsSync(join(dir, 'exit.json')) ? true : undefined), `exit file ${i}`);
      expect((await readLog(dir)).map((e) => e.log)).toEqual([`container ${i}\n`]);
      expect((await stat(join(dir, 'supervisor.log'))).mode & 0o777).toBe(0o600);
    }
    await waitFor(() => (ready[2]?.length ? true : undefined), 'the third supervisor to say why');
    expect(await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(child.exitCode)))).toBe(0);
    expect(ready[2]?.[0]).toMatch(new RegExp(`^error exec ${missing}: No such file or directory$`));
    // A malformed batch starts nothing and says why.
    const bad = spawnSync(helper, ['launch', '2', join(work, 'x.log'), '1', helper], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('onggi-init launch: expected LOG ARGC ARG... for each supervisor');
  });

  it('starts `true` quickly (median of 20, spawned from Node)', async () => {
    const times: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const begin = performance.now();
      const started = await start({ argv: ['true'] });
      await started.exited;
      times.push(performance.now() - begin);
      expect((await readExit(started.dir)).exitCode).toBe(0);
    }
    times.sort((a, b) => a - b);
    const median = ((times[9] ?? 0) + (times[10] ?? 0)) / 2;
    console.log(`onggi-init run -- true: median ${median.toFixed(1)} ms, min ${times[0]?.toFixed(1)} ms, max ${times[19]?.toFixed(1)} ms`);
    expect(median).toBeLessThan(500);
  });
});

describe.skipIf(!isRoot)("seccomp: Docker's default profile as an allow-list", () => {
  /** The probe's `name=result` lines as a map. */
  const results = (out: string): Record<string, string> =>
    Object.fromEntries(out.split('\n').flatMap((line) => (/^[a-z0-9_]+=/.test(line) ? [line.split('=', 2) as [string, string]] : [])));

  it("refuses what Docker's default refuses, with Docker's errno, and allows its personality values", async () => {
    const probed = results((await runScript('probe')).out);
    expect(probed).toMatchObject({
      personality_query: 'ok',
      personality_linux: 'ok',
      personality_addr_no_randomize: 'EPERM',
      clone_plain: 'ok',
      clone_newuser: 'EPERM',
      clone_newns: 'EPERM',
      clone_newnet: 'EPERM',
      clone3: 'ENOSYS',
      unshare_newns: 'EPERM',
      keyctl: 'EPERM',
      bpf: 'EPERM',
      userfaultfd: 'EPERM',
      socket_vsock: 'EPERM',
      socket_unix: 'ok',
      // above every number the profile names: ENOSYS (runc's answer), so libc falls back
      syscall_1000: 'ENOSYS',
      getpid: 'ok',
    });
  });

  it('refuses by the filter, not the kernel: with every capability the kernel would allow keyctl, bpf and userfaultfd', async () => {
    // the filter stays the one for Docker's 14 capabilities (start() passes it); the process keeps all
    const filtered = results((await runScript('probe', { caps: CAPABILITIES })).out);
    expect(filtered).toMatchObject({ keyctl: 'EPERM', bpf: 'EPERM', userfaultfd: 'EPERM', personality_addr_no_randomize: 'EPERM' });
    const open = results((await runScript('probe', { caps: CAPABILITIES, seccomp: undefined })).out);
    expect(open.userfaultfd).toBe('ok');
    expect(open.keyctl).not.toBe('EPERM');
    expect(open.bpf).not.toBe('EPERM');
    expect(open.socket_vsock).not.toBe('EPERM');
  });

  it('follows the capability set it is built for: with CAP_SYS_ADMIN, clone may make namespaces and clone3 runs', async () => {
    const { out } = await runScript('probe', { caps: CAPABILITIES, ...seccompSettings({}, CAPABILITIES).helper });
    expect(results(out)).toMatchObject({
      clone_newns: 'ok',
      clone_newuser: 'ok',
      clone3: 'ok',
      keyctl: 'EPERM',
      personality_addr_no_randomize: 'EPERM',
    });
  });

  it('unconfined: personality(ADDR_NO_RANDOMIZE) succeeds', async () => {
    const unconfined = seccompSettings({ seccomp: { kind: 'unconfined' } }, DEFAULT_CAPABILITIES);
    expect(unconfined.helper.seccomp).toBeUndefined();
    const { out } = await runScript('probe', { seccomp: undefined, ...unconfined.helper });
    expect(results(out).personality_addr_no_randomize).toBe('ok');
  });

  it('runs what ordinary programs need: busybox ls, cat, wget over loopback, a glibc and a musl program', async () => {
    const { out, err } = await runScript(
      [
        'ls -la / >/dev/null && echo ls=ok',
        'cat /proc/self/status >/dev/null && echo cat=ok',
        'mkdir -p /tmp/www && echo served > /tmp/www/index.html',
        'httpd -p 127.0.0.1:8080 -h /tmp/www',
        'for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:8080/index.html 2>/dev/null && break; sleep 0.1; done',
        'ordinary-glibc',
        'ordinary-musl',
        'tar -cf /tmp/a.tar -C / bin/busybox && gzip /tmp/a.tar && echo tar=ok',
        'find / -xdev -name busybox >/dev/null && ps >/dev/null && date >/dev/null && echo misc=ok',
      ].join('\n'),
    );
    expect(err).toBe('');
    expect(out.split('\n')).toEqual(['ls=ok', 'cat=ok', 'served', 'ordinary=ok', 'ordinary=ok', 'tar=ok', 'misc=ok', '']);
  });

  it('a profile of the user: refusing mkdir with EPERM while ls works; no-new-privileges=false leaves the bit unset', async () => {
    const profile = {
      defaultAction: 'SCMP_ACT_ALLOW' as const,
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' as const, errnoRet: 1 }],
    };
    const settings = seccompSettings(
      { seccomp: { kind: 'profile', name: 'no-mkdir.json', profile }, noNewPrivileges: false },
      DEFAULT_CAPABILITIES,
    );
    expect(settings.summary).toEqual({ profile: 'no-mkdir.json', rules: 2, noNewPrivileges: false });
    const { out } = await runScript(
      'mkdir /tmp/d; echo "mkdir=$?"; ls / >/dev/null; echo "ls=$?"; grep -E "NoNewPrivs|Seccomp:" /proc/self/status',
      settings.helper,
    );
    expect(out).toMatch(/^mkdir=1$/m);
    expect(out).toMatch(/^ls=0$/m);
    expect(field(out, 'NoNewPrivs')).toBe('0');
    expect(field(out, 'Seccomp')).toBe('2');
  });

  it('refuses, at the helper, a rule it cannot read: the command never runs', async () => {
    const started = await start({ seccomp: ['default errno:1', 'errno:5000 read'], script: 'echo ran' });
    const lines: string[] = [];
    for (let line = await started.nextReady(); line !== undefined; line = await started.nextReady()) lines.push(line);
    expect(lines.find((line) => line.startsWith('error '))).toMatch(/seccomp: "errno:5000 read": unknown action/);
    expect(lines).not.toContain('started');
    expect(await started.exited).not.toBe(0);
    expect(await readLog(started.dir)).not.toContainEqual(expect.objectContaining({ log: 'ran\n' }));
  });
});

describe.skipIf(!isRoot)('onggi-init exec', () => {
  it('joins a running container with its namespaces, cgroup and security settings', async () => {
    const dir = `/sys/fs/cgroup/pids/onggi-test-${randomBytes(4).toString('hex')}`;
    await mkdir(dir);
    cgroups.push(dir);
    const procs = [join(dir, 'cgroup.procs')];
    const started = await start({ cgroupProcs: procs, argv: ['sleep', '1000'] });
    const pid = Number(/^created (\d+)$/.exec((await started.nextReady()) ?? '')?.[1]);
    expect(await started.nextReady()).toBe('started');

    const execArgs = (argv: string[]): string[] =>
      initArgs({
        command: 'exec',
        targetPid: pid,
        cgroupProcs: procs,
        env: [PATH_ENV],
        ...DEFAULT_SECURITY_POLICY,
        ...DEFAULT_SECCOMP,
        cwd: '/tmp',
        argv,
      });
    const shown = spawnSync(
      helper,
      execArgs(['sh', '-c', 'echo "pid=$$"; hostname; pwd; grep pids /proc/self/cgroup; cat /proc/self/status; ps -o pid,comm']),
      {
        encoding: 'utf8',
      },
    );
    expect(shown.stderr).toBe('');
    expect(shown.status).toBe(0);
    const execPid = Number(/^pid=(\d+)$/m.exec(shown.stdout)?.[1]);
    expect(execPid).toBeGreaterThan(1);
    expect(execPid).toBeLessThan(10);
    expect(shown.stdout).toMatch(/^onggi-box$/m);
    expect(shown.stdout).toMatch(/^\/tmp$/m);
    expect(shown.stdout).toMatch(/^\d+:pids:\/$/m);
    expect(shown.stdout).toMatch(/^\s+1 sleep$/m);
    expect(field(shown.stdout, 'CapEff')).toBe(DOCKER_CAPS);
    expect(field(shown.stdout, 'CapBnd')).toBe(DOCKER_CAPS);
    expect(field(shown.stdout, 'NoNewPrivs')).toBe('1');
    expect(field(shown.stdout, 'Seccomp')).toBe('2');

    expect(spawnSync(helper, execArgs(['sh', '-c', 'exit 3'])).status).toBe(3);
    expect(spawnSync(helper, execArgs(['no-such-command'])).status).toBe(127);

    // A signal sent to the helper reaches the command; the helper reports it as 128+N.
    const sleeper = spawn(helper, execArgs(['sleep', '1000']), { stdio: 'ignore' });
    const sleeperExit = new Promise<number | null>((resolve) => sleeper.once('exit', (code) => resolve(code)));
    await waitFor(async () => {
      const children = await readFile(`/proc/${sleeper.pid}/task/${sleeper.pid}/children`, 'utf8').catch(() => '');
      return children.trim() ? true : undefined;
    }, 'the exec child');
    await new Promise((resolve) => setTimeout(resolve, 100));
    sleeper.kill('SIGTERM');
    expect(await sleeperExit).toBe(128 + 15);

    process.kill(pid, 'SIGKILL');
    expect(await started.exited).toBe(0);
    expect(await readExit(started.dir)).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
    expect(alive(pid)).toBe(false);
    await waitFor(() => (readFileSync(procs[0] ?? '', 'utf8').trim() === '' ? true : undefined), 'the cgroup to empty');
  });

  /** A container whose first process sleeps, and the exec arguments to enter it. */
  async function sleeper(): Promise<{
    pid: number;
    started: Started;
    execArgs: (extra: Partial<ExecSpec> & { argv: string[] }) => string[];
  }> {
    const started = await start({ argv: ['sleep', '1000'] });
    const pid = Number(/^created (\d+)$/.exec((await started.nextReady()) ?? '')?.[1]);
    expect(await started.nextReady()).toBe('started');
    return {
      pid,
      started,
      execArgs: (extra) =>
        initArgs({
          command: 'exec',
          targetPid: pid,
          env: [PATH_ENV, 'HOME=/root'],
          ...DEFAULT_SECURITY_POLICY,
          ...DEFAULT_SECCOMP,
          ...extra,
        }),
    };
  }

  /** The helper with pipes for stdio: what it relays from the pty, and how it ended. */
  function spawnExec(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
    const child = spawn(helper, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += `[stderr] ${chunk.toString()}`));
    child.stdin?.on('error', () => undefined);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, output: () => output, exited };
  }

  it("--tty gives the command a pty of the container's own devpts, sized by --tty-size, owned by its user", async () => {
    const { execArgs } = await sleeper();
    const script = 'tty; stty size; test -t 0 && echo interactive; test -t 1 && test -t 2 && echo all-three; exit 5';
    const exec = spawnExec(execArgs({ tty: true, ttySize: { rows: 33, cols: 77 }, argv: ['sh', '-c', script] }));
    exec.child.stdin?.end(); // EOF on our stdin does not end the session: the command does
    expect(await exec.exited).toBe(5);
    // Through a pty: the line discipline turns \n into \r\n.
    expect(exec.output()).toBe('/dev/pts/0\r\n33 77\r\ninteractive\r\nall-three\r\n');

    // As another user: the pty is theirs (group tty, mode 0620), as grantpt leaves it, so they
    // may reopen it by name.
    const other = spawnExec(
      execArgs({ tty: true, uid: 1000, gid: 1000, argv: ['sh', '-c', 'id -u; stat -c "%u %g %a" $(tty); echo hi > $(tty)'] }),
    );
    other.child.stdin?.end();
    expect(await other.exited).toBe(0);
    expect(other.output()).toBe('1000\r\n1000 5 620\r\nhi\r\n');
  });

  it('--tty drives an interactive shell: input through the pty, echo and line editing from its line discipline', async () => {
    const { execArgs } = await sleeper();
    const exec = spawnExec(execArgs({ tty: true, ttySize: { rows: 24, cols: 80 }, argv: ['sh'] }));
    await waitFor(() => (exec.output().includes('# ') ? true : undefined), 'the prompt');
    exec.child.stdin?.write('echo $((6*7))\r');
    await waitFor(() => (/^42\r$/m.test(exec.output()) ? true : undefined), 'the answer');
    exec.child.stdin?.write('exit 7\r');
    expect(await exec.exited).toBe(7);
    expect(exec.output()).toContain('echo $((6*7))'); // echoed by the container's pty
    expect(exec.output()).not.toContain('[stderr]');
  });

  it('--tty under a real terminal: its size is copied at start and on every SIGWINCH, a signal to the helper reaches the command', async () => {
    const { execArgs } = await sleeper();
    const nodePty = createRequire(__filename)('@lydell/node-pty') as typeof NodePty;
    const script = 'stty size; read line; stty size; trap "echo got-term; exit 9" TERM; echo trapped; while :; do sleep 0.05; done';
    // --tty-size is only for a helper without a terminal: this one has one, whose size wins.
    const [command, ...args] = [helper, ...execArgs({ tty: true, ttySize: { rows: 5, cols: 5 }, argv: ['sh', '-c', script] })];
    const outer = nodePty.spawn(command ?? helper, args, { cols: 100, rows: 30, env: {} });
    let output = '';
    outer.onData((data) => (output += data));
    const exited = new Promise<number>((resolve) => outer.onExit(({ exitCode }) => resolve(exitCode)));
    try {
      await waitFor(() => (output.includes('30 100') ? true : undefined), 'the first size');
      outer.resize(120, 40);
      await new Promise((resolve) => setTimeout(resolve, 200));
      outer.write('\r');
      await waitFor(() => (output.includes('40 120') ? true : undefined), 'the size after SIGWINCH');
      await waitFor(() => (output.includes('trapped') ? true : undefined), 'the trap');
      process.kill(outer.pid, 'SIGTERM');
      expect(await exited).toBe(9);
      expect(output).toContain('got-term');
    } finally {
      if (alive(outer.pid)) process.kill(outer.pid, 'SIGKILL');
    }
  });

  it('refuses a target that is not a running process', () => {
    const result = spawnSync(helper, ['exec', '--target-pid', '999999999', '--', 'true'], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/^onggi-init: open \/proc\/999999999\/ns\/ipc: No such file or directory$/m);
  });
});

describe.skipIf(!isRoot)('onggi-init whiteout and opaque', () => {
  it('makes markers overlayfs honours', async () => {
    const base = await mkdtemp(join(work, 'overlay-'));
    const [lower, upper, workdir, merged] = ['lower', 'upper', 'work', 'merged'].map((name) => join(base, name)) as [
      string,
      string,
      string,
      string,
    ];
    for (const dir of [
      lower,
      upper,
      workdir,
      merged,
      join(lower, 'dir'),
      join(lower, 'keep'),
      join(lower, 'sub'),
      join(upper, 'dir'),
      join(upper, 'sub'),
    ]) {
      await mkdir(dir, { recursive: true });
    }
    await writeFile(join(lower, 'gone.txt'), 'lower');
    await writeFile(join(lower, 'sub/replaced'), 'lower file');
    await writeFile(join(lower, 'dir/a'), 'a');
    await writeFile(join(lower, 'keep/b'), 'b');
    await writeFile(join(upper, 'sub/replaced'), 'upper file'); // an existing entry is replaced

    const whiteout = spawnSync(helper, initArgs({ command: 'whiteout', root: upper, paths: ['gone.txt', 'sub/replaced', 'sub/new/'] }), {
      encoding: 'utf8',
    });
    expect(whiteout.stderr).toBe('');
    expect(whiteout.status).toBe(0);
    for (const path of ['gone.txt', 'sub/replaced', 'sub/new']) {
      const info = await stat(join(upper, path));
      expect(info.isCharacterDevice()).toBe(true);
      expect(info.rdev).toBe(0);
      expect(info.mode & 0o7777).toBe(0);
    }
    const opaque = spawnSync(helper, initArgs({ command: 'opaque', root: upper, paths: ['dir'] }), { encoding: 'utf8' });
    expect(opaque.stderr).toBe('');
    expect(opaque.status).toBe(0);

    const mounted = spawnSync(
      'mount',
      ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${workdir}`, merged],
      { encoding: 'utf8' },
    );
    expect(mounted.stderr).toBe('');
    mounts.push(merged);
    try {
      expect((await readdir(merged)).sort()).toEqual(['dir', 'keep', 'sub']);
      expect(await readdir(join(merged, 'dir'))).toEqual([]); // opaque: the lower dir's "a" is hidden
      expect(await readdir(join(merged, 'keep'))).toEqual(['b']);
      expect(await readdir(join(merged, 'sub'))).toEqual([]);
    } finally {
      expect(spawnSync('umount', [merged]).status).toBe(0);
      mounts.splice(mounts.indexOf(merged), 1);
    }
  });

  it('refuses paths that leave the root, and directories', async () => {
    const base = await mkdtemp(join(work, 'escape-'));
    const root = join(base, 'root');
    const outside = join(base, 'outside');
    await mkdir(join(root, 'adir'), { recursive: true });
    await mkdir(outside);
    await symlink(outside, join(root, 'link'));
    await symlink('../outside', join(root, 'rel'));

    const cases: Array<[string, string[], RegExp]> = [
      ['whiteout', ['../outside/x'], /must be a path inside .* without "\.\."/],
      ['whiteout', ['adir/../../outside/x'], /without "\.\."/],
      ['whiteout', ['/abs'], /must be a path inside/],
      ['whiteout', ['link/x'], /open .*\/root\/link: /],
      ['whiteout', ['rel/x'], /open .*\/root\/rel: /],
      ['whiteout', ['adir'], /whiteout .*\/root\/adir: Is a directory/],
      ['opaque', ['link'], /open .*\/root\/link: /],
      ['opaque', ['..'], /without "\.\."/],
      ['whiteout', ['nodir/x'], /open .*\/root\/nodir: No such file or directory/],
    ];
    for (const [command, paths, message] of cases) {
      const result = spawnSync(helper, [command, root, ...paths], { encoding: 'utf8' });
      expect(result.status, `${command} ${paths.join(' ')}`).not.toBe(0);
      expect(result.stderr).toMatch(message);
    }
    expect(await readdir(outside)).toEqual([]);
    expect((await stat(join(root, 'adir'))).isDirectory()).toBe(true);
    expect((await readdir(root)).sort()).toEqual(['adir', 'link', 'rel']);
  });
});
