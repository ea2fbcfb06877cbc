// What a remote machine is, from one probe command's output, and whether the agent can run there:
// x86_64 or aarch64, glibc at least as new as the bundled Node needs, root or sudo.
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { SUDO_STDIN } from './sudo.js';

export type RuntimeArch = 'x64' | 'arm64';

export interface TargetFacts {
  /** `uname -m`. */
  machine: string;
  /** `getconf GNU_LIBC_VERSION` (e.g. `glibc 2.36`), empty when absent. */
  getconfLibc: string;
  /** The first line of `ldd --version` (stdout and stderr). */
  lddFirstLine: string;
  /** musl's dynamic loaders found (`/lib/ld-musl-*`). */
  muslLoaders: string[];
  uid: number;
  sudo: 'root' | 'nopasswd' | 'password' | 'absent';
  systemd: boolean;
  /** PID 1's name, for messages. */
  init: string;
  xz: boolean;
  sha256sum: boolean;
  /** /etc/os-release PRETTY_NAME. */
  os: string;
  /** Of the paths asked about, those that exist. */
  existing: string[];
  /** The probe went on to the helper's `dial` to the agent on the same channel (the parts were there). */
  dialed: boolean;
}

export type Libc = { kind: 'glibc'; version: string } | { kind: 'musl' } | { kind: 'unknown' };

/**
 * The probe, run as the login user, and — when the machine already has this build's runtime and
 * agent — the dial, in the same exec channel (one round trip for a machine that is up to date).
 * The facts go to stderr (`key=value` lines up to `end=1`); stdout stays free for the agent link.
 * Arguments: N, N paths to test for existence, the socket, then triples UNAME_M AGENT HELPER: this
 * build's agent and its init helper for a machine of that architecture (the helper's `dial`, a
 * static C bridge, connects the channel to the agent's socket: no Node starts for it).
 */
export const PROBE_SCRIPT = `
exec 3>&1 1>&2
echo "uname=$(uname -m)"
echo "getconf=$(getconf GNU_LIBC_VERSION 2>/dev/null)"
echo "ldd=$(ldd --version 2>&1 | head -n 1)"
for f in /lib/ld-musl-* /usr/lib/ld-musl-*; do [ -e "$f" ] && echo "musl=$f"; done
echo "uid=$(id -u)"
if [ "$(id -u)" = 0 ]; then sudo=root
elif command -v sudo >/dev/null 2>&1; then if sudo -n true >/dev/null 2>&1; then sudo=nopasswd; else sudo=password; fi
else sudo=absent; fi
echo "sudo=$sudo"
if [ -d /run/systemd/system ]; then echo systemd=yes; fi
echo "init=$(cat /proc/1/comm 2>/dev/null)"
command -v xz >/dev/null 2>&1 && echo xz=yes
command -v sha256sum >/dev/null 2>&1 && echo sha256sum=yes
echo "os=$(sed -n 's/^PRETTY_NAME=//p' /etc/os-release 2>/dev/null | tr -d '"')"
n=$1; shift
while [ "$n" -gt 0 ]; do [ -e "$1" ] && echo "exists=$1"; shift; n=$((n-1)); done
sock=$1; shift
m=$(uname -m)
while [ $# -ge 3 ]; do
  if [ "$1" = "$m" ] && [ -f "$2" ] && [ -x "$3" ]; then
    case $sudo in
      root) echo dial=1; echo end=1; exec "$3" dial "$sock" 1>&3 3>&- ;;
      nopasswd) echo dial=1; echo end=1; exec sudo -n -- "$3" dial "$sock" 1>&3 3>&- ;;
    esac
  fi
  shift 3
done
echo end=1
`;

/** `uname -m` of the machines each runtime architecture serves. */
export const UNAME_MACHINE: Record<RuntimeArch, string> = { x64: 'x86_64', arm64: 'aarch64' };

export function parseProbe(output: string): TargetFacts {
  const facts: TargetFacts = {
    machine: '',
    getconfLibc: '',
    lddFirstLine: '',
    muslLoaders: [],
    uid: -1,
    sudo: 'absent',
    systemd: false,
    init: '',
    xz: false,
    sha256sum: false,
    os: '',
    existing: [],
    dialed: false,
  };
  let complete = false;
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).trim();
    switch (key) {
      case 'uname':
        facts.machine = value;
        break;
      case 'getconf':
        facts.getconfLibc = value;
        break;
      case 'ldd':
        facts.lddFirstLine = value;
        break;
      case 'musl':
        facts.muslLoaders.push(value);
        break;
      case 'uid':
        facts.uid = /^\d+$/.test(value) ? Number(value) : -1;
        break;
      case 'sudo':
        if (value === 'root' || value === 'nopasswd' || value === 'password' || value === 'absent') facts.sudo = value;
        break;
      case 'systemd':
        facts.systemd = value === 'yes';
        break;
      case 'init':
        facts.init = value;
        break;
      case 'xz':
        facts.xz = value === 'yes';
        break;
      case 'sha256sum':
        facts.sha256sum = value === 'yes';
        break;
      case 'os':
        facts.os = value;
        break;
      case 'exists':
        facts.existing.push(value);
        break;
      case 'dial':
        facts.dialed = value === '1';
        break;
      case 'end':
        complete = true;
        break;
    }
  }
  if (!complete) {
    throw new OnggiError(
      ErrorCode.OperationFailed,
      'probe_failed',
      `the machine's probe did not finish; it printed: ${output.slice(0, 500)}`,
    );
  }
  return facts;
}

export function detectLibc(facts: Pick<TargetFacts, 'getconfLibc' | 'lddFirstLine' | 'muslLoaders'>): Libc {
  const getconf = /^glibc\s+(\d+\.\d+)/i.exec(facts.getconfLibc);
  if (getconf?.[1]) return { kind: 'glibc', version: getconf[1] };
  if (/musl/i.test(facts.lddFirstLine) || facts.muslLoaders.length > 0) return { kind: 'musl' };
  // `ldd (GNU libc) 2.17`, `ldd (Ubuntu GLIBC 2.35-0ubuntu3.1) 2.35`, `ldd (Debian GLIBC 2.36-9) 2.36`
  if (/glibc|gnu libc/i.test(facts.lddFirstLine)) {
    const version = /(\d+\.\d+)\s*$/.exec(facts.lddFirstLine);
    if (version?.[1]) return { kind: 'glibc', version: version[1] };
  }
  return { kind: 'unknown' };
}

export function runtimeArch(machine: string): RuntimeArch | undefined {
  if (machine === 'x86_64' || machine === 'amd64') return 'x64';
  if (machine === 'aarch64' || machine === 'arm64') return 'arm64';
  return undefined;
}

/** The glibc the bundled Node needs when no staged manifest says otherwise (Node 18+ builds). */
export const DEFAULT_GLIBC_MIN = '2.28';

export function checkArch(facts: Pick<TargetFacts, 'machine' | 'os'>, host: string): RuntimeArch {
  const arch = runtimeArch(facts.machine);
  if (!arch) {
    const os = facts.os ? ` (${facts.os})` : '';
    throw unsupported(host, `its architecture is ${facts.machine || 'unknown'}${os}; the agent runs on x86_64 and aarch64 Linux`);
  }
  return arch;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function unsupported(host: string, message: string): OnggiError {
  return new OnggiError(ErrorCode.OperationFailed, 'unsupported_target', `${host} cannot run the Onggi agent: ${message}`);
}

/**
 * Refuses machines the bundled Node cannot run on, saying which and why, and otherwise names the
 * runtime architecture to deploy. `glibcMin` comes from the staged runtime's manifest.
 */
export function checkTarget(facts: TargetFacts, host: string, glibcMin: string, nodeVersion: string): RuntimeArch {
  const os = facts.os ? ` (${facts.os})` : '';
  const arch = checkArch(facts, host);
  const libc = detectLibc(facts);
  if (libc.kind === 'musl') {
    throw unsupported(
      host,
      `it uses musl libc${os || ' (Alpine Linux?)'}, and the bundled Node ${nodeVersion} is built for glibc ${glibcMin} or newer; use a glibc distribution (Debian, Ubuntu, RHEL/Alma/Rocky 8+, Fedora, Amazon Linux 2023) as the host — Alpine is fine inside containers`,
    );
  }
  if (libc.kind === 'unknown') {
    throw unsupported(
      host,
      `no GNU C library found${os} (getconf GNU_LIBC_VERSION and ldd --version said nothing usable); the bundled Node needs glibc ${glibcMin} or newer`,
    );
  }
  if (compareVersions(libc.version, glibcMin) < 0) {
    throw unsupported(
      host,
      `glibc ${libc.version} is older than the ${glibcMin} the bundled Node ${nodeVersion} needs${os}. Amazon Linux 2 (glibc 2.26), CentOS/RHEL 7 (2.17) and Ubuntu 18.04 (2.27) are too old; Amazon Linux 2023, RHEL/Alma/Rocky 8+, Ubuntu 20.04+ and Debian 10+ work`,
    );
  }
  return arch;
}

/**
 * How root commands run: directly, through sudo without a password, or through `sudo -S` reading
 * the password (asked once, see sudo.ts) as the first line of the command's stdin.
 */
export function privilegePrefix(facts: TargetFacts, who: string): string[] {
  if (facts.sudo === 'root') return [];
  if (facts.sudo === 'nopasswd') return ['sudo', '-n', '--'];
  if (facts.sudo === 'password') return [...SUDO_STDIN];
  throw new OnggiError(
    ErrorCode.Forbidden,
    'sudo_absent',
    `${who} is not root and sudo is not installed; the agent runs as root. Log in as root, or install sudo and allow this user passwordless sudo`,
  );
}
