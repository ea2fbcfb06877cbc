import { createHash } from 'node:crypto';
import { homedir, userInfo } from 'node:os';
import path from 'node:path';

export { toolSearchDirs, toolEnv, findTool } from './tool-search.js';
export { sshAgentCandidates, sshAgentHint } from './ssh-agent.js';
export { vagrantDefaults, findHypervisors, type VagrantDefaults, type Hypervisors } from './vagrant-defaults.js';
export { portDeniedMessage, virtualboxMissingHint } from './messages.js';
export { prepareDataDir, legacyDataDir } from './data-dir.js';

/** The desktop operating systems Onggi runs on (the app, the CLI and `onggi serve`). */
export type DesktopOs = 'linux' | 'darwin' | 'win32';
export type DesktopArch = 'x64' | 'arm64';

/**
 * What the host-side code needs to know about the desktop it runs on. Everything that differs
 * per OS takes these facts instead of reading `process.platform`, so tests can hand it darwin or
 * win32 facts on a Linux machine.
 */
export interface PlatformFacts {
  os: DesktopOs;
  arch: DesktopArch;
  env: NodeJS.ProcessEnv;
  homedir: string;
  /** The account's login name (Windows: may hold spaces, e.g. `John Doe`); undefined when unknown. */
  username?: string;
  /** Whether this process runs as root (uid 0); undefined where there are no uids (Windows). */
  root?: boolean;
}

function desktopOs(platform: NodeJS.Platform): DesktopOs {
  // Onggi is built for Linux, macOS and Windows only; any other Unix is treated as Linux.
  if (platform === 'darwin' || platform === 'win32') return platform;
  return 'linux';
}

function desktopArch(arch: string): DesktopArch {
  return arch === 'arm64' ? 'arm64' : 'x64';
}

/** The facts of the running process: the only place that reads process.platform and process.arch. */
export function currentFacts(env: NodeJS.ProcessEnv = process.env): PlatformFacts {
  let username: string | undefined;
  try {
    username = userInfo().username;
  } catch {
    username = undefined; // no passwd entry (a container's uid): the account name is simply unknown
  }
  return {
    os: desktopOs(process.platform),
    arch: desktopArch(process.arch),
    env,
    homedir: homedir(),
    ...(username !== undefined ? { username } : {}),
    ...(process.getuid ? { root: process.getuid() === 0 } : {}),
  };
}

/** Path rules of the desktop (backslashes and drive letters on Windows). */
export function desktopPath(facts: Pick<PlatformFacts, 'os'>): path.PlatformPath {
  return facts.os === 'win32' ? path.win32 : path.posix;
}

/** Where the app, the CLI and browser mode keep their data (one folder for all three); ONGGI_HOME wins. */
export function dataDir(facts: PlatformFacts): string {
  const { env } = facts;
  if (env.ONGGI_HOME) return env.ONGGI_HOME;
  const p = desktopPath(facts);
  switch (facts.os) {
    case 'win32':
      return p.join(env.APPDATA || p.join(facts.homedir, 'AppData', 'Roaming'), 'Onggi');
    case 'darwin':
      return p.join(facts.homedir, 'Library', 'Application Support', 'Onggi');
    case 'linux':
      return p.join(env.XDG_CONFIG_HOME || p.join(facts.homedir, '.config'), 'onggi');
  }
}

/**
 * Whether this desktop can run the local machine: the Linux agent runs on the desktop itself, as
 * root (namespaces, cgroups, mounts). Without root the local machine is not offered and the window
 * opens on the welcome instead (a VM, an SSH host, or Onggi started as root).
 */
export function hasLocalMachine(facts: PlatformFacts): boolean {
  return facts.os === 'linux' && facts.root !== false;
}

/**
 * Whether a failed fsync of a directory may be ignored: Windows cannot fsync a directory (EPERM;
 * NTFS journals the rename itself), everywhere else it is what makes a rename durable.
 */
export function directorySyncIsBestEffort(facts: Pick<PlatformFacts, 'os'>): boolean {
  return facts.os === 'win32';
}

/**
 * `~`, `~/…` and, on Windows, `~\\…` as the user's home; anything else unchanged. The path rules are
 * the desktop's (a key file on Windows is `C:\\Users\\John Doe\\.ssh\\id_ed25519`).
 */
export function expandHome(path: string, facts: Pick<PlatformFacts, 'os' | 'homedir'>): string {
  if (path === '~') return facts.homedir;
  const p = desktopPath(facts);
  if (path.startsWith('~/') || (facts.os === 'win32' && path.startsWith('~\\'))) return p.join(facts.homedir, path.slice(2));
  return path;
}

/** The desktop account's login name (the default SSH user, as OpenSSH does); undefined when unknown. */
export function accountName(facts: PlatformFacts): string | undefined {
  const name = facts.username ?? (facts.os === 'win32' ? facts.env.USERNAME : (facts.env.USER ?? facts.env.LOGNAME));
  return name === undefined || name === '' ? undefined : name;
}

/** Where a machine's Docker API is offered on this desktop, and how a shell points docker at it. */
export interface DockerEndpoint {
  /** What node:net listens on: a unix socket path, or a Windows named pipe (`\\.\pipe\onggi-NAME`). */
  listen: string;
  /** DOCKER_HOST's value. */
  dockerHost: string;
  /** The line that sets DOCKER_HOST in the desktop's shell (POSIX `export`, PowerShell `$Env:`). */
  envLine: string;
}

/** The longest path bind(2) takes for a unix socket (sun_path less its NUL). */
const SOCKET_PATH_MAX = { darwin: 103, linux: 107 } as const;

/**
 * The socket in the data folder, unless that path is longer than a unix socket's may be (a long
 * home or machine name; macOS allows 103 bytes): then the account's own runtime or temporary
 * folder (XDG_RUNTIME_DIR, macOS's per-account TMPDIR: private and stable), the machine's name
 * hashed if need be. Never the shared /tmp, where another account could put its socket first.
 */
function dockerSocketPath(facts: PlatformFacts, dataDirectory: string, machine: string): string {
  const p = desktopPath(facts);
  const inData = p.join(dataDirectory, 'docker', `${machine}.sock`);
  const max = SOCKET_PATH_MAX[facts.os === 'darwin' ? 'darwin' : 'linux'];
  if (Buffer.byteLength(inData) <= max) return inData;
  const privateDir = facts.env.XDG_RUNTIME_DIR || facts.env.TMPDIR;
  if (privateDir) {
    const hashed = createHash('sha256').update(machine).digest('hex').slice(0, 16);
    for (const name of [machine, hashed]) {
      const candidate = p.join(privateDir, 'onggi-docker', `${name}.sock`);
      if (Buffer.byteLength(candidate) <= max) return candidate;
    }
  }
  throw new Error(
    `the Docker socket of machine ${machine} would be ${inData} (${Buffer.byteLength(inData)} bytes), longer than the ${max} bytes a unix socket path may have, and no private folder with a shorter path is set (XDG_RUNTIME_DIR or TMPDIR)`,
  );
}

export function dockerEndpoint(facts: PlatformFacts, dataDirectory: string, machine: string): DockerEndpoint {
  if (facts.os === 'win32') {
    // Pipe names are global to the desktop: the machine's name keeps two machines apart.
    const dockerHost = `npipe:////./pipe/onggi-${machine}`;
    return { listen: `\\\\.\\pipe\\onggi-${machine}`, dockerHost, envLine: `$Env:DOCKER_HOST="${dockerHost}"` };
  }
  const listen = dockerSocketPath(facts, dataDirectory, machine);
  const dockerHost = `unix://${listen}`;
  // Single quotes: a data folder with spaces (macOS's Application Support) stays one word.
  return { listen, dockerHost, envLine: `export DOCKER_HOST='${dockerHost.replace(/'/g, `'\\''`)}'` };
}
