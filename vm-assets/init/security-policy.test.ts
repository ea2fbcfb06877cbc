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
  DEFAULT_SECCOMP_DENY,
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

  it('denies at least what Docker keeps from a container without extra capabilities', () => {
    const required = [
      'kexec_load',
      'kexec_file_load',
      'init_module',
      'finit_module',
      'delete_module',
      'mount',
      'umount2',
      'pivot_root',
      'swapon',
      'swapoff',
      'reboot',
      'ptrace',
      'process_vm_readv',
      'process_vm_writev',
      'open_by_handle_at',
      'name_to_handle_at',
      'bpf',
      'perf_event_open',
      'unshare',
      'setns',
      'keyctl',
      'add_key',
      'request_key',
      'acct',
      'settimeofday',
      'clock_settime',
      'clock_adjtime',
      'adjtimex',
      'sethostname',
      'setdomainname',
      'iopl',
      'ioperm',
      'create_module',
      'lookup_dcookie',
      'quotactl',
      'userfaultfd',
      'syslog',
      'vhangup',
      'fsopen',
      'fsmount',
      'move_mount',
      'open_tree',
      'fspick',
      'mount_setattr',
    ];
    for (const name of required) expect(DEFAULT_SECCOMP_DENY).toContain(name);
    expect(new Set(DEFAULT_SECCOMP_DENY).size).toBe(DEFAULT_SECCOMP_DENY.length);
    // clone's namespace flags are guarded because unshare is listed; clone itself must stay allowed
    expect(DEFAULT_SECCOMP_DENY).not.toContain('clone');
    expect(DEFAULT_SECCOMP_DENY).not.toContain('clone3');
  });

  it('names only syscalls the helper knows, and the essential ones exist on both architectures', () => {
    const table = source('syscall-table.h');
    const known = new Set([...table.matchAll(/\{"([a-z0-9_]+)", /g)].map((m) => m[1]));
    for (const name of DEFAULT_SECCOMP_DENY) expect(known, name).toContain(name);
    // the generic syscall table (aarch64) and x86_64 both have these
    for (const name of [
      'mount',
      'umount2',
      'pivot_root',
      'unshare',
      'setns',
      'ptrace',
      'bpf',
      'kexec_load',
      'open_tree',
      'fsopen',
      'clone',
      'clone3',
    ]) {
      expect(readFileSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h', 'utf8'), name).toMatch(new RegExp(`__NR_${name} `));
    }
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
      seccompDeny: DEFAULT_SECCOMP_DENY,
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
    seccompDeny: ['mount', 'unshare'],
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
      '--seccomp-deny',
      'mount',
      '--seccomp-deny',
      'unshare',
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
    expect(initArgs({ command: 'exec', targetPid: 4242, caps: ['CAP_KILL'], seccompDeny: ['bpf'], cwd: '/', argv: ['sh'] })).toEqual([
      'exec',
      '--target-pid',
      '4242',
      '--cwd',
      '/',
      '--cap',
      'CAP_KILL',
      '--seccomp-deny',
      'bpf',
      '--',
      'sh',
    ]);
    expect(initArgs({ command: 'whiteout', root: '/layers/1', paths: ['etc/gone', 'a b/c'] })).toEqual([
      'whiteout',
      '/layers/1',
      'etc/gone',
      'a b/c',
    ]);
    expect(initArgs({ command: 'opaque', root: '/layers/1', paths: ['var/cache'] })).toEqual(['opaque', '/layers/1', 'var/cache']);
    expect(initArgs({ command: 'version' })).toEqual(['version']);
    expect(initArgs({ command: 'run', rootfs: '/r', caps: [], seccompDeny: [], groups: [], argv: ['true'] })).toEqual([
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
      { seccompDeny: ['mount; reboot'] },
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
    expect(() => initArgs({ command: 'exec', targetPid: 0, caps: [], seccompDeny: [], argv: ['sh'] })).toThrow(InitSpecError);
    for (const path of ['../etc/passwd', 'a/../../b', '/abs', '']) {
      expect(() => initArgs({ command: 'whiteout', root: '/layer', paths: [path] }), path).toThrow(InitSpecError);
    }
    expect(() => initArgs({ command: 'opaque', root: '/layer', paths: [] })).toThrow(InitSpecError);
  });

  it("puts an exec's terminal choice (--tty, --tty-size ROWSxCOLS) before the command, and checks it", () => {
    const exec = { command: 'exec' as const, targetPid: 7, caps: [], seccompDeny: [], argv: ['sh'] };
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
