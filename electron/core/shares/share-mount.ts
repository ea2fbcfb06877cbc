// A desktop folder mounted on an SSH machine, over the machine's own SSH connection.
//
// The machine runs the init helper's `sharefs` (vm-assets/init/sharefs.c, as root, so the agent can
// bind the mount into containers and every container user may use it): a FUSE file system of
// ours that speaks SFTP to the unix socket S on the machine. The desktop asks the machine's sshd to
// listen on S (OpenSSH's streamlocal forward, `ssh -R /path:…`) and answers every connection there
// with serveShare (sftp-server.ts), confined to the shared folder.
//
// Why our own FUSE client and not sshfs (which did this before, with `dial` as its "ssh"): sshfs
// answers the kernel one name at a time; a `git status`-like walk of 20,000 files was ~23x the
// machine's own disk (bench case 15). sharefs hands the kernel each listing with its attributes and
// fetches sub-folders' listings ahead of the walk. It also needs nothing installed on the machine
// (sshfs had to be, from the distro), only the kernel's FUSE.
//
// Why not Lima's `sshfs -o slave` on an exec channel: a slave dies with its channel, so after a link
// cut the mount would have to be made again — and a running container's bind of the old, dead mount
// never sees the new one. sharefs's mount stays: while the link is down each request that needs the
// desktop fails at once (EIO, never a hang); once the desktop listens on S again, the next request
// reconnects and containers carry on.
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
 * How long the machine's kernel and sharefs keep names, attributes and listings. A `git status`-like
 * storm repeated within this time is answered on the machine alone; past it every folder is a
 * listing over the link again (bench case 15, with sshfs: with 1 s a warm storm of 20,000 files took
 * as long as a cold one). It is not how fast desktop changes show: the change events
 * (share-events.ts) touch a changed path and its folder at once (which refreshes the kernel's
 * attributes and drops sharefs's listing), drop a removed one (desktop-removals.ts), and are held
 * while the link is down and replayed on the next connection. Only a change the desktop never
 * reported (Onggi was not running) can stay unseen this long.
 */
export const CACHE_S = 60;

/**
 * The kernel's readahead on the mount, in KiB (its backing device's read_ahead_kb; FUSE starts at
 * 128). A sequential read keeps only the readahead in flight, so its speed is about readahead ÷
 * round trip through sshd and the desktop: with 128 KiB it was ~0.16 of the raw link; with sharefs,
 * 4 MiB gave 0.70 and 8 MiB 0.60–0.89 (bench case 15, runs on a noisy 2-core machine). Set after
 * mounting, on the mount's own device (0:N, from st_dev); where sysfs is read-only the mount works
 * at the default.
 */
const READ_AHEAD_KB = 8192;
const RAISE_READAHEAD = `d=$(stat -c %d -- "$mp") && echo ${READ_AHEAD_KB} 2>/dev/null >"/sys/class/bdi/$(((d >> 8) & 4095)):$(((d & 255) | ((d >> 12) & 1048320)))/read_ahead_kb"; true`;

/** The file system type sharefs mounts (`fuse.` and its subtype), as /proc/mounts shows it. */
export const SHAREFS_TYPE = 'fuse.onggi-share';

/**
 * Mounts with sharefs (loading the kernel's FUSE module first where it is not loaded yet), then
 * raises the readahead. $1 the helper, $2 the socket, $3 the mountpoint.
 */
const SHAREFS_SCRIPT = [
  '[ -e /dev/fuse ] || modprobe fuse 2>/dev/null || true',
  `"$1" sharefs "$2" "$3" ${CACHE_S} || exit`,
  'mp=$3',
  RAISE_READAHEAD,
].join('\n');

/** Raises a mounted share's readahead (READ_AHEAD_KB), run on the machine; exits 1 when `mountpoint` is no share mount (yet). */
export function raiseReadaheadArgv(mountpoint: string, type = SHAREFS_TYPE): string[] {
  return ['sh', '-c', `grep -qs " $1 $2 " /proc/mounts || exit 1; mp=$1; ${RAISE_READAHEAD}`, 'onggi-share', mountpoint, type];
}

/** The command that mounts a share on the machine (run as root). */
export function sharefsArgv(paths: Pick<RemotePaths, 'helper'>, socket: string, mountpoint: string): string[] {
  return ['sh', '-c', SHAREFS_SCRIPT, 'onggi-share', paths.helper, socket, mountpoint];
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
    const made = await this.root(target, sharefsArgv(paths, socket, mountpoint), true);
    if (made.code !== 0) {
      throw new OnggiError(
        ErrorCode.OperationFailed,
        'share_mount_failed',
        `${this.machine}: could not mount ${share.path}: ${made.stderr.trim() || `exit ${made.code}`}`,
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
