// The helper's protocol round trip: every option of protocol.json, written by the agent's
// initArgs, parsed by the real helper (`--print-spec` prints what arrived, runs nothing) and
// compared with what was sent; and the C side's generated table and usage match the definition.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELPER_OPTIONS, initArgs, initHelperName, type ExecSpec, type InitSpec, type RunSpec } from '../agent/runtime/helper-protocol.js';
import { OPTIONS_HEADER, PROTOCOL_FILE, renderOptionsHeader } from './gen-options.mjs';

const REPO = join(__dirname, '../..');
let work = '';
let helper = '';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'onggi-protocol-test-'));
  const build = spawnSync(process.execPath, [join(REPO, 'build/init.mjs'), work], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build/init.mjs failed: ${build.stderr}`);
  helper = join(work, initHelperName());
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

// Every option a value that is not its default, so arriving is visible. An option added to
// protocol.json without a value here fails 'sends every option'.
const run: RunSpec = {
  command: 'run',
  rootfs: '/var/lib/onggi/containers/abc/merged',
  overlay: 'lowerdir=/l1:/l2,upperdir=/u,workdir=/w',
  hostname: 'web "1"',
  cgroupProcs: ['/sys/fs/cgroup/a/cgroup.procs', '/sys/fs/cgroup/b/cgroup.procs'],
  cwd: '/app',
  uid: 1000,
  gid: 1001,
  groups: [5, 20],
  env: ['PATH=/bin', 'EMPTY=', 'A=b=c', 'U=한국 \\ "q"'],
  caps: ['CAP_CHOWN', 'CAP_KILL'],
  seccomp: ['default errno:1', 'arch x86', 'allow read,write', 'allow personality 0:eq:8', 'allow clone 0:me:2114060288:0 1:ne:0'],
  allowNewPrivileges: true,
  masked: ['/proc/kcore', '/sys/firmware'],
  readonly: ['/proc/sys'],
  deviceAllow: ['c 1:3 rwm', 'b *:* m'],
  cgroupfs: 'v2',
  logFile: '/x/log.json',
  logMaxSize: 10_485_760,
  logMaxFiles: 3,
  exitFile: '/x/exit.json',
  pidFile: '/x/pid',
  unmountRootfs: true,
  readyFd: 7,
  goFd: 8,
  mounts: [
    { type: 'bind', target: '/app', source: '/home/me/my app:v2, "x"', readonly: false },
    { type: 'bind', target: '/etc/app.conf', source: '/srv/app.conf', readonly: true },
    { type: 'bind', target: '/var/lib/db', source: '/var/lib/onggi/volumes/db/_data', readonly: false, copyUp: true },
    { type: 'tmpfs', target: '/run/cache', readonly: false, size: 67_108_864, mode: 0o1777 },
    { type: 'tmpfs', target: '/scratch', readonly: true, noexec: true },
  ],
  printSpec: true,
  console: '/x/console.sock',
  tty: true,
  stdinOpen: true,
  attachWaitMs: 5000,
  resolvConf: '/x/resolv.conf',
  hostsFile: '/x/hosts',
  readOnlyRootfs: true,
  shmSize: 128 * 1024 * 1024,
  privileged: true,
  deviceNodes: [
    { type: 'c', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0, path: '/dev/my null' },
    { type: 'b', major: 259, minor: 1048575, mode: 0o660, uid: 0, gid: 6, path: '/dev/disk:x' },
  ],
  sysctls: ['net/ipv4/ip_forward=1', 'kernel/sem=250 32000 32 128'],
  uidMap: { container: 0, host: 100_000, size: 65_536 },
  gidMap: { container: 0, host: 200_000, size: 65_537 },
  idmapLayers: true,
  argv: ['nginx', '-g', 'daemon off;'],
};
const exec: ExecSpec = {
  command: 'exec',
  targetPid: 4242,
  cgroupProcs: ['/sys/fs/cgroup/a/cgroup.procs'],
  cwd: '/srv',
  uid: 33,
  gid: 34,
  groups: [1],
  env: ['TERM=xterm'],
  caps: ['CAP_KILL'],
  seccomp: ['default kill-process', 'errno:38 clone3'],
  allowNewPrivileges: true,
  tty: true,
  ttySize: { rows: 33, cols: 77 },
  resizeFd: 9,
  printSpec: true,
  argv: ['sh', '-c', 'echo $0'],
};

function parsed(spec: InitSpec): Record<string, unknown> {
  const out = spawnSync(helper, initArgs(spec), { encoding: 'utf8' });
  expect(out.stderr).toBe('');
  expect(out.status).toBe(0);
  return JSON.parse(out.stdout) as Record<string, unknown>;
}

describe('the helper protocol (vm-assets/init/protocol.json)', () => {
  it('sends every option of each subcommand', () => {
    for (const spec of [run, exec]) {
      const args = initArgs(spec);
      const expected = HELPER_OPTIONS.filter((option) => option.for.includes(spec.command)).map((option) => option.name);
      expect(expected.filter((name) => !args.includes(name))).toEqual([]);
    }
  });

  it('delivers every value of run and exec to the real helper, as sent', () => {
    for (const spec of [run, exec]) {
      const arrived = parsed(spec);
      const sent = spec as unknown as Record<string, unknown>;
      for (const option of HELPER_OPTIONS.filter((o) => o.for.includes(spec.command)))
        expect(arrived[option.field], option.name).toEqual(sent[option.field]);
      expect(arrived.argv).toEqual(spec.argv);
    }
  });

  it('the helper refuses a value given twice unless the option is repeatable', () => {
    for (const option of HELPER_OPTIONS.filter((o) => o.for.includes('run') && o.arg !== undefined)) {
      const value = initArgs(run)[initArgs(run).indexOf(option.name) + 1] ?? '';
      const out = spawnSync(
        helper,
        ['run', '--print-spec', ...initArgs({ ...run, printSpec: false }).slice(1, -4), option.name, value, '--', 'sh'],
        {
          encoding: 'utf8',
        },
      );
      if (option.repeatable) expect(out.status, option.name).toBe(0);
      else expect(out.stderr, option.name).toContain(`${option.name} given twice`);
    }
  });

  it('the helper refuses an option of the other subcommand and a missing required one', () => {
    const wrong = spawnSync(helper, ['exec', '--target-pid', '1', '--rootfs', '/r', '--print-spec', '--', 'sh'], { encoding: 'utf8' });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('unknown option --rootfs');
    const missing = spawnSync(helper, ['exec', '--print-spec', '--', 'sh'], { encoding: 'utf8' });
    expect(missing.stderr).toContain('--target-pid is required');
  });

  it("options.h (the C parser's table and usage) is the one gen-options.mjs makes from protocol.json", async () => {
    const protocol: unknown = JSON.parse(await readFile(PROTOCOL_FILE, 'utf8'));
    expect(await readFile(OPTIONS_HEADER, 'utf8')).toBe(renderOptionsHeader(protocol));
    const usage = spawnSync(helper, [], { encoding: 'utf8' });
    for (const option of HELPER_OPTIONS) expect(usage.stderr).toContain(option.name);
  });
});
