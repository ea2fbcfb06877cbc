// The policy module on its own: that its lists are Docker's, that they agree with the helper's C
// tables (a name the helper does not know would silently not be applied), and that initArgs
// builds exactly the argv the helper parses and refuses what the helper would refuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CAPABILITIES,
  DEFAULT_CAPABILITIES,
  DEFAULT_DEVICE_RULES,
  DEFAULT_SECURITY_POLICY,
  MASKED_PATHS,
  READONLY_PATHS,
  capabilityMask,
  type Capability,
} from '../agent/runtime/security-policy.js';
import { InitSpecError, initArgs, initHelperName, parseTtySize, ttyArgs, type RunSpec } from '../agent/runtime/helper-protocol.js';

const source = (file: string): string => readFileSync(join(__dirname, file), 'utf8');

describe('default policy', () => {
  it("keeps Docker's 14 capabilities (CapEff 00000000a80425fb)", () => {
    expect(DEFAULT_CAPABILITIES).toHaveLength(14);
    expect(new Set(DEFAULT_CAPABILITIES).size).toBe(14);
    expect(capabilityMask(DEFAULT_CAPABILITIES)).toBe('00000000a80425fb');
    expect(capabilityMask(CAPABILITIES)).toBe('000001ffffffffff');
  });

  it('names capabilities in the order of the helper table (the capability numbers)', () => {
    const table = /cap_names\[\] = \{([^}]*)\}/.exec(source('security.c'))?.[1] ?? '';
    const names = [...table.matchAll(/"([a-z_]+)"/g)].map((m) => `CAP_${(m[1] ?? '').toUpperCase()}`);
    expect(names).toEqual([...CAPABILITIES]);
  });

  it("masks and write-protects Docker's paths", () => {
    expect(MASKED_PATHS).toEqual([
      '/proc/acpi',
      '/proc/asound',
      '/proc/interrupts',
      '/proc/kcore',
      '/proc/keys',
      '/proc/latency_stats',
      '/proc/sched_debug',
      '/proc/scsi',
      '/proc/timer_list',
      '/proc/timer_stats',
      '/sys/firmware',
      '/sys/devices/virtual/powercap',
    ]);
    expect(READONLY_PATHS).toEqual(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
    expect(DEFAULT_SECURITY_POLICY).toEqual({
      caps: DEFAULT_CAPABILITIES,
      masked: MASKED_PATHS,
      readonly: READONLY_PATHS,
    });
  });
});

describe('initArgs', () => {
  const run: RunSpec = {
    command: 'run',
    rootfs: '/var/lib/onggi/containers/abc/merged',
    hostname: 'web',
    cwd: '/app',
    uid: 1000,
    gid: 1000,
    groups: [5, 20],
    env: ['PATH=/bin', 'EMPTY=', 'A=b=c'],
    caps: ['CAP_CHOWN', 'CAP_KILL'],
    seccomp: ['default errno:1', 'allow read,write'],
    masked: ['/proc/kcore'],
    readonly: ['/proc/sys'],
    deviceAllow: ['c 1:3 rwm', 'b *:* m'],
    cgroupProcs: ['/sys/fs/cgroup/pids/onggi/abc/cgroup.procs', '/sys/fs/cgroup/memory/onggi/abc/cgroup.procs'],
    cgroupfs: 'none',
    logFile: '/var/lib/onggi/containers/abc/log.json',
    exitFile: '/var/lib/onggi/containers/abc/exit.json',
    pidFile: '/var/lib/onggi/containers/abc/pid',
    readyFd: 3,
    goFd: 4,
    argv: ['nginx', '-g', 'daemon off;'],
  };

  it('builds the run command line', () => {
    expect(initArgs(run)).toEqual([
      'run',
      '--rootfs',
      '/var/lib/onggi/containers/abc/merged',
      '--hostname',
      'web',
      '--cgroup-procs',
      '/sys/fs/cgroup/pids/onggi/abc/cgroup.procs',
      '--cgroup-procs',
      '/sys/fs/cgroup/memory/onggi/abc/cgroup.procs',
      '--cwd',
      '/app',
      '--uid',
      '1000',
      '--gid',
      '1000',
      '--groups',
      '5,20',
      '--env',
      'PATH=/bin',
      '--env',
      'EMPTY=',
      '--env',
      'A=b=c',
      '--cap',
      'CAP_CHOWN',
      '--cap',
      'CAP_KILL',
      '--seccomp',
      'default errno:1',
      '--seccomp',
      'allow read,write',
      '--mask',
      '/proc/kcore',
      '--readonly',
      '/proc/sys',
      '--device-allow',
      'c 1:3 rwm',
      '--device-allow',
      'b *:* m',
      '--cgroupfs',
      'none',
      '--log',
      '/var/lib/onggi/containers/abc/log.json',
      '--exit-file',
      '/var/lib/onggi/containers/abc/exit.json',
      '--pid-file',
      '/var/lib/onggi/containers/abc/pid',
      '--ready-fd',
      '3',
      '--go-fd',
      '4',
      '--',
      'nginx',
      '-g',
      'daemon off;',
    ]);
  });

  it('passes the command after -- untouched, however it looks', () => {
    const argv = ['sh', '-c', 'echo "$(id)"; rm -rf / #', '--', '--cap', ''];
    const args = initArgs({ ...run, argv });
    expect(args.slice(args.indexOf('--') + 1)).toEqual(argv);
  });

  it('builds exec, whiteout, opaque and version', () => {
    expect(
      initArgs({ command: 'exec', targetPid: 4242, caps: ['CAP_KILL'], seccomp: ['default errno:1'], cwd: '/', argv: ['sh'] }),
    ).toEqual(['exec', '--target-pid', '4242', '--cwd', '/', '--cap', 'CAP_KILL', '--seccomp', 'default errno:1', '--', 'sh']);
    expect(initArgs({ command: 'whiteout', root: '/layers/1', paths: ['etc/gone', 'a b/c'] })).toEqual([
      'whiteout',
      '/layers/1',
      'etc/gone',
      'a b/c',
    ]);
    expect(initArgs({ command: 'opaque', root: '/layers/1', paths: ['var/cache'] })).toEqual(['opaque', '/layers/1', 'var/cache']);
    expect(initArgs({ command: 'version' })).toEqual(['version']);
    expect(initArgs({ command: 'run', rootfs: '/r', caps: [], groups: [], argv: ['true'] })).toEqual([
      'run',
      '--rootfs',
      '/r',
      '--groups',
      '',
      '--',
      'true',
    ]);
  });

  it('refuses what the helper would refuse, before anything is spawned', () => {
    const bad: Array<Partial<RunSpec>> = [
      { rootfs: 'relative/merged' },
      { cwd: 'app' },
      { env: ['NOEQUALS'] },
      { env: ['=value'] },
      { env: ['A=nul\0byte'] },
      { uid: -1 },
      { uid: 1.5 },
      { gid: 2 ** 32 },
      { groups: [Number.NaN] },
      { caps: ['CAP_EVERYTHING' as Capability] },
      { seccomp: ['allow mount; reboot'] },
      { seccomp: ['allow mount 6:eq:1'] },
      { seccomp: ['allow mount 0:like:1'] },
      { masked: ['proc/kcore'] },
      { readyFd: -3 },
      { argv: [] },
      { argv: [''] },
      { argv: ['sh', 'a\0b'] },
      { hostname: 'a\0b' },
      { cgroupProcs: ['cgroup.procs'] },
      { deviceAllow: ['c 1:3 rwx'] },
      { deviceAllow: ['c 1:3'] },
      { deviceAllow: ['c 99999999:1 r'] },
      { deviceAllow: ['x *:* m'] },
    ];
    for (const change of bad) expect(() => initArgs({ ...run, ...change }), JSON.stringify(change)).toThrow(InitSpecError);
    expect(() => initArgs({ command: 'exec', targetPid: 0, caps: [], argv: ['sh'] })).toThrow(InitSpecError);
    for (const path of ['../etc/passwd', 'a/../../b', '/abs', '']) {
      expect(() => initArgs({ command: 'whiteout', root: '/layer', paths: [path] }), path).toThrow(InitSpecError);
    }
    expect(() => initArgs({ command: 'opaque', root: '/layer', paths: [] })).toThrow(InitSpecError);
  });

  it("puts an exec's terminal choice (--tty, --tty-size ROWSxCOLS) before the command, and checks it", () => {
    const exec = { command: 'exec' as const, targetPid: 7, caps: [], argv: ['sh'] };
    expect(initArgs({ ...exec, tty: true, ttySize: { rows: 33, cols: 77 } })).toEqual([
      'exec',
      '--target-pid',
      '7',
      '--tty',
      '--tty-size',
      '33x77',
      '--',
      'sh',
    ]);
    expect(initArgs({ ...exec, tty: true })).toEqual(['exec', '--target-pid', '7', '--tty', '--', 'sh']);
    expect(initArgs({ ...exec, tty: false })).toEqual(['exec', '--target-pid', '7', '--', 'sh']);
    expect(ttyArgs({})).toEqual([]);
    for (const ttySize of [
      { rows: 0, cols: 80 },
      { rows: 24, cols: 65536 },
      { rows: 2.5, cols: 80 },
    ])
      expect(() => ttyArgs({ tty: true, ttySize }), JSON.stringify(ttySize)).toThrow(InitSpecError);
    expect(() => ttyArgs({ ttySize: { rows: 24, cols: 80 } })).toThrow(/needs tty/);
    expect(parseTtySize('24x80')).toEqual({ rows: 24, cols: 80 });
    expect(parseTtySize('65535x1')).toEqual({ rows: 65535, cols: 1 });
    for (const text of ['24', 'x80', '24x', '0x80', '24x65536', '24X80', ' 24x80', '24x80x1', '-1x80'])
      expect(parseTtySize(text), text).toBeUndefined();
  });

  it("accepts Docker's device rules", () => {
    const args = initArgs({ ...run, deviceAllow: DEFAULT_DEVICE_RULES });
    expect(args.filter((_, i) => args[i - 1] === '--device-allow')).toEqual(DEFAULT_DEVICE_RULES);
    expect(DEFAULT_DEVICE_RULES).toContain('c *:* m');
    expect(DEFAULT_DEVICE_RULES).toContain('c 1:3 rwm');
  });

  it('names the helper binary for each architecture', () => {
    expect(initHelperName('x64')).toBe('onggi-init-amd64');
    expect(initHelperName('arm64')).toBe('onggi-init-arm64');
    expect(() => initHelperName('ia32')).toThrow(InitSpecError);
  });
});
