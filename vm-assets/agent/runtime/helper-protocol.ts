// The init helper's command line: what each subcommand takes and how a spec becomes argv. The
// options themselves (name, value, subcommands, repeatable, required, the spec field, the kind of
// value) are defined once, in vm-assets/init/protocol.json, which the C parser's table and usage
// (options.h, made by gen-options.mjs) come from too; what a container may do is decided in
// security-policy.ts, not here.
import protocol from '../../init/protocol.json';
import { CAPABILITIES, type Capability } from './security-policy.js';

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
  /** The seccomp filter as seccomp-policy.ts writes it (`default errno:1`, `allow read,write`…); absent: none. */
  seccomp?: readonly string[];
  /** Leave no_new_privs unset (`--security-opt no-new-privileges=false`). */
  allowNewPrivileges?: boolean;
  /** The container cgroup's `cgroup.procs` files: one per v1 hierarchy, or the single v2 one. */
  cgroupProcs?: readonly string[];
  /** The command; without a slash in argv[0] it is looked up in the env's PATH. */
  argv: readonly string[];
  /** Parse only: the helper prints what arrived as JSON and runs nothing (the protocol's round-trip test). */
  printSpec?: boolean;
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
  /** The unix socket the supervisor serves the container's console on (`attach`); see vm-assets/init/console.h. */
  console?: string;
  /** The container's first process gets a pty of its own, kept by the supervisor (`run -t`). Needs console. */
  tty?: boolean;
  /** Its stdin stays open for attachers' input (`run -i`): a pipe, or the pty's input with tty. Needs console. */
  stdinOpen?: boolean;
  /** Output waits for the first attacher at most this long (`start -a`: nothing printed before it is lost). */
  attachWaitMs?: number;
  /** A file bind-mounted at the container's /etc/resolv.conf (a symlink there is replaced inside the root, never followed out). */
  resolvConf?: string;
  /** A file bind-mounted at the container's /etc/hosts the same way: the agent's hosts file for a networked container. */
  hostsFile?: string;
  /** Mount the root filesystem read-only (`--read-only`); the kernel filesystems and /etc files on it keep their modes. */
  readOnlyRootfs?: boolean;
  /** /dev/shm's size in bytes; default 64 MiB. */
  shmSize?: number;
  /** The container's bind mounts (volumes are binds of their data directory) and tmpfs, parents first. */
  mounts?: readonly HelperMount[];
  /** `--privileged`: /sys (and cgroup2 at /sys/fs/cgroup) writable; the rest of it is in the other lists. */
  privileged?: boolean;
  /** Device nodes made in the container (`--device`, and the machine's devices with `--privileged`). */
  deviceNodes?: readonly DeviceNode[];
  /** `PATH=VALUE` written to /proc/sys/PATH inside the container before its command (`--sysctl`). */
  sysctls?: readonly string[];
  /** A user namespace of its own (`--userns=auto`): one line of its uid_map and gid_map each, both or neither. */
  uidMap?: IdMap;
  gidMap?: IdMap;
  /** Mount the overlay's layers idmapped through that namespace (needs overlay and the maps). */
  idmapLayers?: boolean;
}

/** A device node made inside the container (see privileges.ts). */
export interface DeviceNode {
  type: 'c' | 'b';
  major: number;
  minor: number;
  /** Permission bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Absolute, inside the container. */
  path: string;
}

/** One line of a user namespace's map: `size` ids from `container` inside are `host` onwards outside. */
export interface IdMap {
  container: number;
  host: number;
  size: number;
}

/** One mount the helper makes inside the rootfs, resolved there as the container would see it. */
export interface HelperMount {
  type: 'bind' | 'tmpfs';
  /** Absolute, inside the container; no `:` (the encoding's separator). */
  target: string;
  /** bind: an absolute path on the machine. */
  source?: string;
  readonly: boolean;
  /** tmpfs: bytes (absent: the kernel's default, half the memory). */
  size?: number;
  /** tmpfs: permission bits of its root. */
  mode?: number;
  /** tmpfs: mounted noexec (it is always nosuid and nodev). */
  noexec?: boolean;
  /** bind of a volume: while it is empty, first fill it with the image's directory at the target (Docker's copy-up). */
  copyUp?: boolean;
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
  /** An fd of the helper's from which `ROWSxCOLS` lines resize the pty while it runs (the Docker API's exec resize). Needs tty. */
  resizeFd?: number;
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

/** One `--seccomp` line (vm-assets/init/seccomp.h): the helper reads the same grammar. */
const SECCOMP_LINE =
  /^(default [a-z-]+(:\d{1,5})?|arch [a-z0-9_]+|[a-z-]+(:\d{1,5})? [a-z_][a-z0-9_]*(,[a-z_][a-z0-9_]*)*( [0-5]:(ne|lt|le|eq|ge|gt|me):\d{1,20}(:\d{1,20})?){0,6})$/;
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

type Subcommand = 'run' | 'exec';

/** One option of protocol.json. */
export interface HelperOption {
  name: string;
  /** The value's placeholder in the usage; none for a flag. */
  arg?: string;
  for: readonly Subcommand[];
  repeatable?: boolean;
  required?: boolean;
  /** The RunSpec / ExecSpec field it carries. */
  field: string;
  kind: string;
}

/** How each kind of value is checked and written; the C side checks the same kinds. */
const ENCODE = {
  pid: (value: number, what: string) => {
    check(Number.isInteger(value) && value > 0, `${what} must be a process id: ${value}`);
    return String(value);
  },
  absolute: (value: string, what: string) => absolute(value, what),
  text: (value: string, what: string) => text(value, what),
  id: (value: number, what: string) => id(value, what),
  ids: (value: readonly number[], what: string) => value.map((group) => id(group, what)).join(','),
  env: (entry: string) => {
    check(ENV_ENTRY.test(entry), `env entries must be KEY=VALUE: "${entry}"`);
    return entry;
  },
  capability: (cap: string) => {
    check((CAPABILITIES as readonly string[]).includes(cap), `unknown capability ${cap}`);
    return cap;
  },
  'seccomp-rule': (line: string) => {
    check(SECCOMP_LINE.test(line), `not a seccomp rule: "${line}"`);
    return line;
  },
  'device-rule': (rule: string) => {
    const numbers = rule.match(/\d+/g) ?? [];
    check(DEVICE_RULE.test(rule) && numbers.every((n) => Number(n) <= MAX_DEVICE_NUMBER), `device rules look like "c 1:3 rwm": "${rule}"`);
    return rule;
  },
  choice: (value: string, what: string, option: HelperOption) => {
    check((option.arg ?? '').split('|').includes(value), `${what} must be one of ${option.arg}: "${value}"`);
    return value;
  },
  fd: (value: number, what: string) => fd(value, what),
  bytes: (value: number, what: string) => {
    check(Number.isSafeInteger(value) && value > 0, `${what} must be a positive number of bytes: ${value}`);
    return String(value);
  },
  count: (value: number, what: string) => {
    check(Number.isInteger(value) && value >= 1 && value <= 1000, `${what} must be 1 to 1000: ${value}`);
    return String(value);
  },
  'tty-size': ({ rows, cols }: TtySize) => {
    for (const [what, value] of [
      ['rows', rows],
      ['cols', cols],
    ] as const)
      check(Number.isInteger(value) && value >= 1 && value <= 0xffff, `ttySize.${what} must be an integer from 1 to 65535: ${value}`);
    return `${rows}x${cols}`;
  },
  /** `TYPE:FLAGS:TARGET:SOURCE`: only the source may hold a `:`, so it goes last. */
  mount: (mount: HelperMount, what: string) => {
    check(mount.type === 'bind' || mount.type === 'tmpfs', `${what}.type must be bind or tmpfs: "${String(mount.type)}"`);
    absolute(mount.target, `${what}.target`);
    check(mount.target !== '/' && !mount.target.includes(':'), `${what}.target must not be / or contain ":": "${mount.target}"`);
    if (mount.type === 'bind') absolute(mount.source ?? '', `${what}.source`);
    else check(mount.source === undefined, `${what}.source: a tmpfs takes none`);
    const flags = [mount.readonly ? 'ro' : 'rw'];
    if (mount.noexec) {
      check(mount.type === 'tmpfs', `${what}.noexec: only a tmpfs takes it`);
      flags.push('noexec');
    }
    if (mount.copyUp) {
      check(mount.type === 'bind', `${what}.copyUp: only a bind (of a volume) is copied up to`);
      flags.push('copy');
    }
    if (mount.size !== undefined) {
      check(
        mount.type === 'tmpfs' && Number.isSafeInteger(mount.size) && mount.size > 0,
        `${what}.size must be a positive number of bytes of a tmpfs`,
      );
      flags.push(`size=${mount.size}`);
    }
    if (mount.mode !== undefined) {
      check(
        mount.type === 'tmpfs' && Number.isInteger(mount.mode) && mount.mode >= 0 && mount.mode <= 0o7777,
        `${what}.mode must be permission bits of a tmpfs`,
      );
      flags.push(`mode=${mount.mode.toString(8)}`);
    }
    return `${mount.type}:${flags.join(',')}:${mount.target}:${mount.source ?? ''}`;
  },
  /** `TYPE:MAJOR:MINOR:MODE:UID:GID:PATH` (mode in octal; the path last, as it may hold a `:`). */
  'device-node': (node: DeviceNode, what: string) => {
    check(node.type === 'c' || node.type === 'b', `${what}.type must be c or b`);
    for (const [field, value] of [
      ['major', node.major],
      ['minor', node.minor],
    ] as const)
      check(Number.isInteger(value) && value >= 0 && value <= MAX_DEVICE_NUMBER, `${what}.${field} must be a device number: ${value}`);
    check(Number.isInteger(node.mode) && node.mode >= 0 && node.mode <= 0o7777, `${what}.mode must be permission bits`);
    absolute(node.path, `${what}.path`);
    check(
      node.path !== '/' && !node.path.endsWith('/') && !node.path.split('/').includes('..'),
      `${what}.path must name a file inside the container: "${node.path}"`,
    );
    return `${node.type}:${node.major}:${node.minor}:${node.mode.toString(8)}:${id(node.uid, `${what}.uid`)}:${id(node.gid, `${what}.gid`)}:${node.path}`;
  },
  sysctl: (entry: string, what: string) => {
    const key = entry.slice(0, entry.indexOf('='));
    check(
      /^[^/=\0]+(\/[^/=\0]+)*$/.test(key) && !key.split('/').includes('..') && !/[\0\n]/.test(entry),
      `${what} entries must be PATH=VALUE under /proc/sys: "${entry}"`,
    );
    return entry;
  },
  ms: (value: number, what: string) => {
    check(Number.isInteger(value) && value >= 1 && value <= 600_000, `${what} must be 1 to 600000 milliseconds: ${value}`);
    return String(value);
  },
  idmap: ({ container, host, size }: IdMap, what: string) => {
    const ok = [container, host, size].every((n) => Number.isInteger(n) && n >= 0) && size >= 1;
    check(ok && container + size <= 0xffffffff && host + size <= 0xffffffff, `${what} must be C:H:N ids within 32 bits`);
    return `${container}:${host}:${size}`;
  },
  flag: () => '',
} satisfies Record<string, (value: never, what: string, option: HelperOption) => string>;

/** protocol.json's options, in the order argv is written. */
export const HELPER_OPTIONS: readonly HelperOption[] = protocol.options.map((option) => {
  if (!(option.kind in ENCODE)) throw new Error(`protocol.json: ${option.name} has unknown kind ${option.kind}`);
  return option as HelperOption;
});

/** The options (in protocol order) for the fields of `spec` that are set. */
function optionArgs(options: readonly HelperOption[], spec: object): string[] {
  const values = spec as Record<string, unknown>;
  return options.flatMap((option) => {
    const value = values[option.field];
    if (value === undefined || value === false) {
      check(!option.required, `${option.field} is required`);
      return [];
    }
    if (option.kind === 'flag') return [option.name];
    const encode = ENCODE[option.kind as keyof typeof ENCODE] as (value: unknown, what: string, option: HelperOption) => string;
    const each = option.repeatable ? (value as readonly unknown[]) : [value];
    return each.flatMap((item) => [option.name, encode(item, option.field, option)]);
  });
}

const optionsFor = (command: Subcommand) => HELPER_OPTIONS.filter((option) => option.for.includes(command));
const TTY_OPTIONS = HELPER_OPTIONS.filter((option) => ['tty', 'ttySize', 'resizeFd'].includes(option.field));

/** `--tty [--tty-size ROWSxCOLS] [--resize-fd N]` for the helper's exec, to go before its `--`. */
export function ttyArgs(terminal: ExecTerminal): string[] {
  check(terminal.ttySize === undefined || terminal.tty === true, 'ttySize needs tty');
  check(terminal.resizeFd === undefined || terminal.tty === true, 'resizeFd needs tty');
  return optionArgs(TTY_OPTIONS, terminal);
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
    case 'run':
      check(spec.argv.length > 0 && spec.argv[0] !== '', 'argv must name a command');
      if (spec.command === 'exec') {
        check(spec.ttySize === undefined || spec.tty === true, 'ttySize needs tty');
        check(spec.resizeFd === undefined || spec.tty === true, 'resizeFd needs tty');
      }
      if (spec.command === 'run')
        check(
          spec.console !== undefined || (!spec.tty && !spec.stdinOpen && !spec.attachWaitMs),
          'tty, stdinOpen and attachWaitMs need console',
        );
      if (spec.command === 'run') {
        check((spec.uidMap === undefined) === (spec.gidMap === undefined), 'uidMap and gidMap go together');
        check(!spec.idmapLayers || (spec.uidMap !== undefined && spec.overlay !== undefined), 'idmapLayers needs uidMap and overlay');
      }
      return [spec.command, ...optionArgs(optionsFor(spec.command), spec), '--', ...spec.argv.map((arg) => text(arg, 'argv'))];
  }
}

/** The helper binary's file name for a Node `process.arch` value, as the build names them. */
export function initHelperName(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'onggi-init-amd64', arm64: 'onggi-init-arm64' };
  const name = names[arch];
  if (!name) throw new InitSpecError(`no init helper is built for ${arch}`);
  return name;
}
