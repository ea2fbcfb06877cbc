// A desktop folder mounted on an SSH machine: reverse SSHFS over the machine's own SSH connection.
//
// The machine runs `sshfs -o reconnect,ssh_command=<onggi-init dial S>` (as root, so the agent
// can bind the mount into containers and `allow_other` lets every container user in). Its "ssh" is
// the init helper's `dial`, which bridges stdio to the unix socket S on the machine; the desktop asks the
// machine's sshd to listen on S (OpenSSH's streamlocal forward, `ssh -R /path:…`) and answers every
// connection there with serveShare (sftp-server.ts), confined to the shared folder.
//
// Why not Lima's `sshfs -o slave` on an exec channel: a slave sshfs dies with its channel, so after a
// link cut the mount would have to be made again — and a running container's bind of the old, dead
// mount never sees the new one. With `-o reconnect` the FUSE mount itself stays: while the link is
// down, `dial` finds no socket and each request fails at once (EIO/ENOTCONN, never a hang); once the
// desktop is back and listens on S again, the next request reconnects and containers carry on.
// The same SFTP server serves both (the test of the confinement pipes a slave sshfs to it).
import { createHash } from 'node:crypto';
import { OnggiError, errorMessage } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { SharedFolder } from '../../../shared/shares.js';
import type { RemotePaths } from '../deploy/deploy.js';
import { knownSudoPassword, readsSudoPassword, sudoInput } from '../deploy/sudo.js';
import { shellCommand } from '../machines/ssh/quote.js';
import type { SshConnection } from '../machines/ssh/ssh-connection.js';
import { serveShare } from './sftp-server.js';
import type { ShareRemovals } from './machine-removals.js';

/**
 * How long the machine's kernel and sshfs keep names, attributes and listings (FUSE
 * entry_timeout/attr_timeout, sshfs's dcache_timeout). A `git status`-like storm repeated within
 * this time is answered on the machine alone; past it every file is a request to sshfs again, and
 * every folder a listing over the link (bench case 15: with 1 s a warm storm of 20,000 files took as
 * long as a cold one). It is not how fast desktop changes show: the change events (share-events.ts)
 * touch a changed path and its folder at once (which refreshes the kernel's attributes and drops
 * sshfs's entry and listing), drop a removed one (desktop-removals.ts), and are held while the link
 * is down and replayed on the next connection. Only a change the desktop never reported (Onggi was
 * not running) can stay unseen this long.
 */
const CACHE_S = 60;

/**
 * WRITE requests of up to 256 KiB (the most our SFTP server, as OpenSSH's, takes), not sshfs's
 * 32 KiB: an eighth of the requests, replies, writes and packets for a sequential write, where the
 * desktop's CPU per MiB is what limits it. On the loopback machine the host core's CPU for a
 * 256 MiB write fell from ~2.0 s to ~1.0 s (the raw link's: 0.3 s).
 */
const MAX_WRITE = 256 * 1024;

/**
 * Options both ways of running sshfs share. `allow_other`: containers run as any user (root may
 * use it without fuse.conf's user_allow_other); the caches (CACHE_S); the WRITE size (MAX_WRITE).
 * sshfs's default 32 KiB READs, not `-o max_read=65536`: with 64 KiB ones a 64 MiB read took
 * 3.0 s instead of 1.7 s on the loopback machine (bench case 15, two runs each).
 */
const SSHFS_COMMON = [
  '-o',
  'allow_other',
  '-o',
  `dcache_timeout=${CACHE_S}`,
  '-o',
  `entry_timeout=${CACHE_S}`,
  '-o',
  `attr_timeout=${CACHE_S}`,
  '-o',
  `max_write=${MAX_WRITE}`,
];

/**
 * The kernel's readahead on the mount, in KiB (its backing device's read_ahead_kb; FUSE starts at
 * 128, and `-o max_readahead` cannot go above that). A sequential read keeps only the readahead in
 * flight, so its speed is about readahead ÷ round trip through dial, sshd and the desktop: with
 * 128 KiB it was ~0.16 of the raw link (bench case 15). Set after mounting, on the mount's own
 * device (0:N, from st_dev); where sysfs is read-only the mount works at the default.
 */
const READ_AHEAD_KB = 4096;
const RAISE_READAHEAD = `d=$(stat -c %d -- "$mp") && echo ${READ_AHEAD_KB} 2>/dev/null >"/sys/class/bdi/$(((d >> 8) & 4095)):$(((d & 255) | ((d >> 12) & 1048320)))/read_ahead_kb"; true`;

/**
 * Runs sshfs, installing it first where the distro packages it (Debian/Ubuntu: sshfs; Fedora/RHEL:
 * fuse-sshfs), the first time a share is mounted there; 127 when it is still missing.
 */
const SSHFS_SCRIPT = [
  'if ! command -v sshfs >/dev/null; then',
  '  if command -v apt-get >/dev/null; then',
  '    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sshfs >/dev/null 2>&1 ||',
  '      { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sshfs >/dev/null 2>&1; }',
  '  elif command -v dnf >/dev/null; then dnf install -y -q fuse-sshfs >/dev/null 2>&1',
  '  fi',
  '  command -v sshfs >/dev/null || exit 127',
  'fi',
  'sshfs "$@" || exit',
  'for mp; do :; done', // the mountpoint is the last argument
  RAISE_READAHEAD,
].join('\n');

/**
 * sshfs on this stdin/stdout (Lima's way): the confinement test pipes it to serveShare, and bench
 * case 15's peer to OpenSSH's sftp-server, which serves `remotePath` of the whole file system.
 */
export function sshfsSlaveArgs(mountpoint: string, remotePath = '/'): string[] {
  return ['-o', 'slave', ...SSHFS_COMMON, `:${remotePath}`, mountpoint];
}

/** Raises a mounted share's readahead (READ_AHEAD_KB), run on the machine; exits 1 when `mountpoint` is no sshfs mount (yet). */
export function raiseReadaheadArgv(mountpoint: string): string[] {
  return ['sh', '-c', `grep -qs " $1 fuse.sshfs " /proc/mounts || exit 1; mp=$1; ${RAISE_READAHEAD}`, 'onggi-share', mountpoint];
}

/**
 * sshfs through the init helper's `dial` (vm-assets/init/dial.c) to the forwarded socket: every byte
 * of the share crosses it, and the static C bridge costs the machine a fraction of the CPU the
 * agent's Node `dial` did (bench case 15). sshfs splits ssh_command on blanks (no quoting: the
 * remote paths are plain, checkRemotePath) and appends its own ssh flags and host; the trailing
 * `--` makes `dial` ignore them.
 */
export function sshfsDialArgs(mountpoint: string, paths: Pick<RemotePaths, 'helper'>, socket: string): string[] {
  const dial = [paths.helper, 'dial', socket, '--'];
  return ['-o', `ssh_command=${dial.join(' ')}`, '-o', 'reconnect', ...SSHFS_COMMON, 'onggi-share:/', mountpoint];
}

/** A share's name on the machine: the same desktop folder always gets the same mount. */
export function shareId(desktopPath: string): string {
  return createHash('sha256').update(desktopPath).digest('hex').slice(0, 16);
}

export function shareMountpoint(runDir: string, desktopPath: string): string {
  return `${runDir}/shares/${shareId(desktopPath)}`;
}

/** The login user's own dir (0700) for the forwarded sockets: sshd binds them as that user. */
function socketDir(runDir: string): string {
  return `${runDir}/share-sockets`;
}

export function shareSocket(runDir: string, desktopPath: string): string {
  return `${socketDir(runDir)}/${shareId(desktopPath)}.sock`;
}

/** What a mount needs of the machine: its connection and where the deployed agent is. */
export interface ShareMachine {
  connection: SshConnection;
  paths: RemotePaths;
  runDir: string;
  /** The SSH login user (owns the socket dir). */
  user: string;
}

/**
 * The shares of one machine, served on each of its SSH connections. `serve` is called for every new
 * connection (the mounts made earlier reconnect through it); `mount` makes the mount once.
 */
export class ShareServing {
  /** The sockets forwarded on each connection, and the share each serves. */
  private readonly forwarded = new WeakMap<SshConnection, Map<string, SharedFolder>>();

  constructor(
    private readonly machine: string,
    /** The machine's notes of removals, shared with its change events (share-events.ts). */
    private readonly removals: ShareRemovals,
  ) {}

  /** Listens on every share's socket on this connection (a stale socket of an old connection is removed first). */
  async serve(connection: SshConnection, runDir: string, shares: readonly SharedFolder[]): Promise<void> {
    // a share that cannot be served now fails, with its reason, when a container asks for it (mount)
    await Promise.all(shares.map((share) => this.forward(connection, runDir, share).catch(() => undefined)));
  }

  /** Stops serving a share on this connection. */
  async stop(connection: SshConnection, runDir: string, desktopPath: string): Promise<void> {
    const socket = shareSocket(runDir, desktopPath);
    const sockets = this.forwarded.get(connection);
    if (!sockets?.delete(socket)) return;
    await new Promise<void>((resolve) => connection.client.openssh_unforwardInStreamLocal(socket, () => resolve()));
  }

  /** Mounts the share on the machine (reused when mounted); its mountpoint there. */
  async mount(target: ShareMachine, share: SharedFolder): Promise<string> {
    const { connection, paths, runDir, user } = target;
    const mountpoint = shareMountpoint(runDir, share.path);
    const socket = shareSocket(runDir, share.path);
    await this.root(target, [
      'sh',
      '-c',
      'mkdir -p -- "$1" && install -d -m 0700 -o "$3" -- "$2"',
      'onggi-share',
      mountpoint,
      socketDir(runDir),
      user,
    ]);
    await this.forward(connection, runDir, share);
    const mounted = await this.root(target, raiseReadaheadArgv(mountpoint), true);
    if (mounted.code === 0) return mountpoint;
    const sshfs = await this.root(target, ['sh', '-c', SSHFS_SCRIPT, 'sshfs', ...sshfsDialArgs(mountpoint, paths, socket)], true);
    if (sshfs.code === 127) {
      throw new OnggiError(
        ErrorCode.Unavailable,
        'sshfs_missing',
        `${this.machine} has no sshfs, which shared folders need, and Onggi could not install it (apt-get install sshfs or dnf install fuse-sshfs): install it there and try again`,
      );
    }
    if (sshfs.code !== 0) {
      throw new OnggiError(
        ErrorCode.OperationFailed,
        'share_mount_failed',
        `${this.machine}: sshfs could not mount ${share.path}: ${sshfs.stderr.trim()}`,
      );
    }
    return mountpoint;
  }

  /** Unmounts a share on the machine (lazily: a container still using it sees it go). */
  async unmount(target: ShareMachine, desktopPath: string): Promise<void> {
    const mountpoint = shareMountpoint(target.runDir, desktopPath);
    await this.root(
      target,
      [
        'sh',
        '-c',
        'fusermount3 -u -z -- "$1" 2>/dev/null || fusermount -u -z -- "$1" 2>/dev/null || umount -l -- "$1" 2>/dev/null; rmdir -- "$1" 2>/dev/null; true',
        'onggi-share',
        mountpoint,
      ],
      true,
    );
    await this.stop(target.connection, target.runDir, desktopPath);
  }

  private async forward(connection: SshConnection, runDir: string, share: SharedFolder): Promise<void> {
    let sockets = this.forwarded.get(connection);
    if (!sockets) {
      const routes = new Map<string, SharedFolder>();
      sockets = routes;
      this.forwarded.set(connection, routes);
      connection.client.on('unix connection', (info, accept, reject) => {
        const served = routes.get(info.socketPath);
        if (!served) return reject();
        const stream = accept();
        serveShare(stream, { root: served.path, readOnly: served.readOnly, removals: this.removals });
      });
    }
    const socket = shareSocket(runDir, share.path);
    if (sockets.has(socket)) {
      sockets.set(socket, share); // read-only may have changed
      return;
    }
    // sshd does not unlink a socket an earlier connection left (StreamLocalBindUnlink is off by default).
    await connection.exec(shellCommand(['rm', '-f', '--', socket]));
    await new Promise<void>((resolve, reject) =>
      connection.client.openssh_forwardInStreamLocal(socket, (error) =>
        error
          ? reject(
              new OnggiError(
                ErrorCode.Unavailable,
                'share_forward_failed',
                `${this.machine}: cannot listen on ${socket} for ${share.path}: ${errorMessage(error)}`,
              ),
            )
          : resolve(),
      ),
    );
    sockets.set(socket, share);
  }

  /** A command as root on the machine; a failure is an error unless `allowFailure`. */
  private async root(target: ShareMachine, argv: string[], allowFailure = false) {
    const { connection, paths } = target;
    const password = readsSudoPassword(paths.privilege) ? knownSudoPassword(connection) : undefined;
    const result = await connection.exec(
      shellCommand([...paths.privilege, ...argv]),
      password !== undefined ? { stdin: sudoInput(password), timeoutMs: 30_000 } : { timeoutMs: 30_000 },
    );
    if (!allowFailure && result.code !== 0) {
      throw new OnggiError(ErrorCode.OperationFailed, 'share_mount_failed', `${this.machine}: ${argv[0]} failed: ${result.stderr.trim()}`);
    }
    return result;
  }
}
