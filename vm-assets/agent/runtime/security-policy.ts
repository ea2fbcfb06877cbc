// What a container may do, decided here and only here: the init helper (vm-assets/init) applies
// exactly what this module hands it on its command line and decides nothing itself. The defaults
// follow Docker's (moby oci/defaults.go, oci/caps/defaults.go and its default seccomp profile),
// so software that runs under Docker runs here, and what Docker keeps out stays out.

/** Every capability the helper knows, by number (linux/capability.h). */
export const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** Docker's default set: what a container's root keeps; everything else leaves the bounding set. */
export const DEFAULT_CAPABILITIES: readonly Capability[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/**
 * Syscalls refused with EPERM. Docker's profile is an allow list; a deny list is what a helper
 * with no libseccomp can apply, so this names what Docker's profile leaves out for a container
 * without extra capabilities: whatever reaches the kernel as a whole rather than the container
 * (modules, kexec, reboot, swap, clocks, keyrings, accounting), whatever rebuilds the container's
 * own walls from inside (mounts in both APIs, namespaces, pivot_root), and whatever reads other
 * processes or the kernel (ptrace and its relatives, bpf, perf, userfaultfd, io_uring, handles).
 * Listing `unshare` also makes the helper refuse clone() with any CLONE_NEW* flag and answer
 * clone3 with ENOSYS (its flags sit in memory a filter cannot read; libc then falls back to
 * clone), since either would otherwise undo the unshare ban.
 */
export const DEFAULT_SECCOMP_DENY: readonly string[] = [
  // the machine as a whole
  'kexec_load',
  'kexec_file_load',
  'init_module',
  'finit_module',
  'delete_module',
  'create_module',
  'get_kernel_syms',
  'query_module',
  'reboot',
  'swapon',
  'swapoff',
  'acct',
  'settimeofday',
  'stime',
  'clock_settime',
  'clock_adjtime',
  'adjtimex',
  'sethostname',
  'setdomainname',
  'syslog',
  'vhangup',
  'iopl',
  'ioperm',
  'quotactl',
  'lookup_dcookie',
  'nfsservctl',
  'uselib',
  'ustat',
  'sysfs',
  '_sysctl',
  'vm86',
  'vm86old',
  // keyrings are not namespaced
  'keyctl',
  'add_key',
  'request_key',
  // the container's own walls
  'mount',
  'umount',
  'umount2',
  'pivot_root',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
  'move_mount',
  'open_tree',
  'open_tree_attr',
  'mount_setattr',
  'unshare',
  'setns',
  // other processes and the kernel's insides
  'ptrace',
  'process_vm_readv',
  'process_vm_writev',
  'kcmp',
  'pidfd_getfd',
  'open_by_handle_at',
  'name_to_handle_at',
  'bpf',
  'perf_event_open',
  'userfaultfd',
  'io_uring_setup',
  'io_uring_enter',
  'io_uring_register',
];

/** Hidden inside the container: directories get an empty read-only tmpfs, files /dev/null. */
export const MASKED_PATHS: readonly string[] = [
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
];

/** Visible but read-only inside the container. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * Which device nodes a container may use, as cgroup v1 `devices.allow` lines; everything else is
 * denied. Docker's (runc's) defaults: creating any node is allowed (`m`), opening only the nodes
 * the helper puts in /dev, the pty devices, and tun. Without such rules a container's root, which
 * keeps CAP_MKNOD, can make and open a node for any host device (a disk, the console).
 * On cgroup v1 the cgroup driver writes `a` to devices.deny and then these to devices.allow; on
 * cgroup v2 there is no such file and the helper attaches an equivalent BPF program
 * (`deviceAllow` in RunSpec).
 */
export const DEFAULT_DEVICE_RULES: readonly string[] = [
  'c *:* m',
  'b *:* m',
  'c 1:3 rwm', // null
  'c 1:5 rwm', // zero
  'c 1:7 rwm', // full
  'c 1:8 rwm', // random
  'c 1:9 rwm', // urandom
  'c 5:0 rwm', // tty
  'c 5:1 rwm', // console
  'c 5:2 rwm', // ptmx
  'c 136:* rwm', // pts
  'c 10:200 rwm', // net/tun: useless without CAP_NET_ADMIN, which the container lacks
];

/** The four lists together, in the shape the container runtime takes. */
export interface SecurityPolicy {
  caps: readonly Capability[];
  seccompDeny: readonly string[];
  masked: readonly string[];
  readonly: readonly string[];
}

export const DEFAULT_SECURITY_POLICY: SecurityPolicy = {
  caps: DEFAULT_CAPABILITIES,
  seccompDeny: DEFAULT_SECCOMP_DENY,
  masked: MASKED_PATHS,
  readonly: READONLY_PATHS,
};

/** The capability mask as /proc/PID/status prints it (CapEff, CapBnd): 16 hex digits. */
export function capabilityMask(caps: readonly Capability[]): string {
  let mask = 0n;
  for (const cap of caps) mask |= 1n << BigInt(CAPABILITIES.indexOf(cap));
  return mask.toString(16).padStart(16, '0');
}

// ---- the helper's command line --------------------------------------------------------------

/** Who the process runs as and what it may do: the same for a container's first process and an exec. */
export interface ProcessSettings {
  /** The complete environment, `KEY=VALUE` each; the helper adds nothing. PATH in it is used to find argv[0]. */
  env?: readonly string[];
  /** Absolute, inside the container. Default `/`; `run` creates it when missing, as Docker does. */
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Supplementary groups; default none. */
  groups?: readonly number[];
  /** Capabilities to keep (held by root, bounding set for anyone). */
  caps: readonly Capability[];
  seccompDeny: readonly string[];
  /** The container cgroup's `cgroup.procs` files: one per v1 hierarchy, or the single v2 one. */
  cgroupProcs?: readonly string[];
  /** The command; without a slash in argv[0] it is looked up in the env's PATH. */
  argv: readonly string[];
}

export interface RunSpec extends ProcessSettings {
  command: 'run';
  /** The mounted overlay ("merged") dir. */
  rootfs: string;
  /** overlayfs mount options: the supervisor mounts the rootfs itself (no `mount` spawned per start). */
  overlay?: string;
  hostname?: string;
  masked?: readonly string[];
  readonly?: readonly string[];
  /**
   * Device rules (`c 1:3 rwm`, see DEFAULT_DEVICE_RULES) enforced by a BPF program the helper
   * attaches to each cgroup2 cgroup among cgroupProcs before the container enters it. Only for
   * cgroup2: the helper refuses rules when no cgroupProcs file is on cgroup2.
   */
  deviceAllow?: readonly string[];
  /** v2: mount cgroup2 read-only at /sys/fs/cgroup inside; none: leave it an empty dir. */
  cgroupfs?: 'v2' | 'none';
  /** Where the supervisor appends the container's output as JSON lines. */
  logFile?: string;
  /** Rotate the log file past this many bytes (log → log.1 → …), between two lines; absent: never. */
  logMaxSize?: number;
  /** Log files kept in all, the current one included (the oldest is dropped). */
  logMaxFiles?: number;
  /** Written atomically when the container ends: `{exitCode, signal, finishedAt, error}`. */
  exitFile?: string;
  /** The container's first process's host pid, written atomically once it is in its cgroups. */
  pidFile?: string;
  /** The supervisor unmounts the rootfs when the container ended (before writing the exit file, which then says so). */
  unmountRootfs?: boolean;
  /** An inherited pipe the supervisor reports on: `mounted MS` (with overlay), `created PID`, then `started` or `error MESSAGE`. */
  readyFd?: number;
  /** An inherited pipe to read `go` from before the container goes on (network set-up happens before). */
  goFd?: number;
}

export interface ExecSpec extends ProcessSettings, ExecTerminal {
  command: 'exec';
  /** Host pid of a process in the container (its first process) whose namespaces to join. */
  targetPid: number;
}

/** A terminal's size in character cells. */
export interface TtySize {
  rows: number;
  cols: number;
}

/** How one exec is attached: a choice of whoever runs it, not part of the container's policy. */
export interface ExecTerminal {
  /**
   * Give the command a new pty from the container's own devpts (`docker exec -t`): the helper
   * relays its stdio to the pty's master and copies its own terminal's size (and SIGWINCH) to it.
   */
  tty?: boolean;
  /** The pty's size when the helper's stdin (and stdout) is not a terminal to copy it from. Needs tty. */
  ttySize?: TtySize;
}

export interface MarkerSpec {
  /** whiteout: a 0:0 char device at each path; opaque: trusted.overlay.opaque=y on each dir. */
  command: 'whiteout' | 'opaque';
  /** The layer directory; paths are relative to it and never leave it. */
  root: string;
  paths: readonly string[];
}

export type InitSpec = RunSpec | ExecSpec | MarkerSpec | { command: 'version' };

/** A spec the helper would refuse, caught before a process is spawned. */
export class InitSpecError extends Error {}

const SYSCALL_NAME = /^[a-z_][a-z0-9_]*$/;
const DEVICE_RULE = /^(a|[cb] (\*|\d{1,7}):(\*|\d{1,7}) [rwm]{1,3})$/;
const MAX_DEVICE_NUMBER = 0xfffff;
const ENV_ENTRY = /^[^=\0]+=[^\0]*$/;
const MAX_ID = 0xfffffffe;

function check(ok: boolean, message: string): void {
  if (!ok) throw new InitSpecError(message);
}

function text(value: string, what: string): string {
  check(!value.includes('\0'), `${what} contains a NUL byte`);
  return value;
}

function absolute(value: string, what: string): string {
  check(value.startsWith('/'), `${what} must be an absolute path: "${value}"`);
  return text(value, what);
}

function id(value: number, what: string): string {
  check(Number.isInteger(value) && value >= 0 && value <= MAX_ID, `${what} must be an integer from 0 to ${MAX_ID}: ${value}`);
  return String(value);
}

function fd(value: number, what: string): string {
  check(Number.isInteger(value) && value >= 0 && value <= 0x7fffffff, `${what} must be a file descriptor: ${value}`);
  return String(value);
}

function repeated(option: string, values: readonly string[] | undefined, each: (value: string) => string = (v) => v): string[] {
  return (values ?? []).flatMap((value) => [option, each(value)]);
}

function processArgs(spec: ProcessSettings): string[] {
  check(spec.argv.length > 0 && spec.argv[0] !== '', 'argv must name a command');
  for (const cap of spec.caps) check((CAPABILITIES as readonly string[]).includes(cap), `unknown capability ${cap}`);
  return [
    ...repeated('--cgroup-procs', spec.cgroupProcs, (file) => absolute(file, 'cgroupProcs')),
    ...(spec.cwd === undefined ? [] : ['--cwd', absolute(spec.cwd, 'cwd')]),
    ...(spec.uid === undefined ? [] : ['--uid', id(spec.uid, 'uid')]),
    ...(spec.gid === undefined ? [] : ['--gid', id(spec.gid, 'gid')]),
    ...(spec.groups === undefined ? [] : ['--groups', spec.groups.map((group) => id(group, 'groups')).join(',')]),
    ...repeated('--env', spec.env, (entry) => {
      check(ENV_ENTRY.test(entry), `env entries must be KEY=VALUE: "${entry}"`);
      return entry;
    }),
    ...repeated('--cap', spec.caps),
    ...repeated('--seccomp-deny', spec.seccompDeny, (name) => {
      check(SYSCALL_NAME.test(name), `not a syscall name: "${name}"`);
      return name;
    }),
  ];
}

/** `--tty [--tty-size ROWSxCOLS]` for the helper's exec, to go before its `--`. */
export function ttyArgs(terminal: ExecTerminal): string[] {
  if (terminal.ttySize !== undefined) {
    check(terminal.tty === true, 'ttySize needs tty');
    const { rows, cols } = terminal.ttySize;
    for (const [what, value] of [
      ['rows', rows],
      ['cols', cols],
    ] as const)
      check(Number.isInteger(value) && value >= 1 && value <= 0xffff, `ttySize.${what} must be an integer from 1 to 65535: ${value}`);
    return ['--tty', '--tty-size', `${rows}x${cols}`];
  }
  return terminal.tty ? ['--tty'] : [];
}

/** Parses `ROWSxCOLS` (e.g. `24x80`) as --tty-size takes it; undefined when it is not one. */
export function parseTtySize(text: string): TtySize | undefined {
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const size = { rows: Number(match[1]), cols: Number(match[2]) };
  return size.rows >= 1 && size.rows <= 0xffff && size.cols >= 1 && size.cols <= 0xffff ? size : undefined;
}

/**
 * The helper's arguments (everything after the executable) for a spec, for spawn() with an argv
 * array: no shell ever sees them. Throws InitSpecError for what the helper would refuse.
 */
export function initArgs(spec: InitSpec): string[] {
  switch (spec.command) {
    case 'version':
      return ['version'];
    case 'whiteout':
    case 'opaque':
      check(spec.paths.length > 0, `${spec.command} needs at least one path`);
      for (const path of spec.paths) {
        check(
          path !== '' && !path.startsWith('/') && !path.split('/').includes('..'),
          `${spec.command} paths must stay inside the root: "${path}"`,
        );
        text(path, 'path');
      }
      return [spec.command, absolute(spec.root, 'root'), ...spec.paths];
    case 'exec':
      check(Number.isInteger(spec.targetPid) && spec.targetPid > 0, `targetPid must be a process id: ${spec.targetPid}`);
      return [
        'exec',
        '--target-pid',
        String(spec.targetPid),
        ...processArgs(spec),
        ...ttyArgs(spec),
        '--',
        ...spec.argv.map((arg) => text(arg, 'argv')),
      ];
    case 'run': {
      const out = ['run', '--rootfs', absolute(spec.rootfs, 'rootfs')];
      if (spec.overlay !== undefined) out.push('--overlay', text(spec.overlay, 'overlay'));
      if (spec.hostname !== undefined) out.push('--hostname', text(spec.hostname, 'hostname'));
      out.push(...processArgs(spec));
      out.push(...repeated('--mask', spec.masked, (path) => absolute(path, 'masked')));
      out.push(...repeated('--readonly', spec.readonly, (path) => absolute(path, 'readonly')));
      out.push(
        ...repeated('--device-allow', spec.deviceAllow, (rule) => {
          const numbers = rule.match(/\d+/g) ?? [];
          check(
            DEVICE_RULE.test(rule) && numbers.every((n) => Number(n) <= MAX_DEVICE_NUMBER),
            `device rules look like "c 1:3 rwm": "${rule}"`,
          );
          return rule;
        }),
      );
      if (spec.cgroupfs !== undefined) out.push('--cgroupfs', spec.cgroupfs);
      if (spec.logFile !== undefined) out.push('--log', absolute(spec.logFile, 'logFile'));
      if (spec.logMaxSize !== undefined) {
        check(
          Number.isSafeInteger(spec.logMaxSize) && spec.logMaxSize > 0,
          `logMaxSize must be a positive number of bytes: ${spec.logMaxSize}`,
        );
        out.push('--log-max-size', String(spec.logMaxSize));
      }
      if (spec.logMaxFiles !== undefined) {
        check(
          Number.isInteger(spec.logMaxFiles) && spec.logMaxFiles >= 1 && spec.logMaxFiles <= 1000,
          `logMaxFiles must be 1 to 1000: ${spec.logMaxFiles}`,
        );
        out.push('--log-max-files', String(spec.logMaxFiles));
      }
      if (spec.exitFile !== undefined) out.push('--exit-file', absolute(spec.exitFile, 'exitFile'));
      if (spec.pidFile !== undefined) out.push('--pid-file', absolute(spec.pidFile, 'pidFile'));
      if (spec.unmountRootfs) out.push('--unmount-rootfs');
      if (spec.readyFd !== undefined) out.push('--ready-fd', fd(spec.readyFd, 'readyFd'));
      if (spec.goFd !== undefined) out.push('--go-fd', fd(spec.goFd, 'goFd'));
      return [...out, '--', ...spec.argv.map((arg) => text(arg, 'argv'))];
    }
  }
}

/** The helper binary's file name for a Node `process.arch` value, as the build names them. */
export function initHelperName(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'onggi-init-amd64', arm64: 'onggi-init-arm64' };
  const name = names[arch];
  if (!name) throw new InitSpecError(`no init helper is built for ${arch}`);
  return name;
}
