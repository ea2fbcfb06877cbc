// Paths removed on the desktop that the machine is told to drop from its kernel's cache
// (share-events.ts). The machine's kernel keeps a share's names long (share-mount.ts), and a
// name removed on the desktop has nothing left to touch; so the machine removes it through the
// mount, and the desktop's SFTP server (sftp-server.ts) answers that REMOVE or RMDIR "done"
// without touching the disk. A successful unlink or rmdir is the kernel's own, documented way to
// forget a dentry (every FUSE kernel drops the entry's cache on it; an ENOENT answer drops it only
// since Linux 6.3, not in Debian 12's 6.1), and it tells inotify watchers there IN_DELETE.
//
// The answer depends on the desktop as it is when the request arrives: the path still missing is
// "done"; the path there again (re-created on the desktop meanwhile) is refused, so the machine's
// drop can never remove a file of the desktop's. One per machine: two machines sharing a folder
// each drop the path on their own.

/** The machine runs the drop within this long of its line being sent. */
const EXPECTED_MS = 30_000;

export class DesktopRemovals {
  private readonly expected = new Map<string, number>();

  /** The desktop is about to ask the machine to drop `localPath` (gone on the desktop). */
  expect(localPath: string): void {
    const now = Date.now();
    for (const [path, at] of this.expected) if (now - at > EXPECTED_MS) this.expected.delete(path);
    this.expected.set(localPath, now);
  }

  /** Whether a REMOVE/RMDIR of `localPath` is the machine dropping it (and so never a removal on the desktop). */
  take(localPath: string): boolean {
    const at = this.expected.get(localPath);
    if (at === undefined || Date.now() - at > EXPECTED_MS) return false;
    this.expected.delete(localPath);
    return true;
  }
}
