// Paths the machine itself removed through a share, noted by the desktop's SFTP server
// (sftp-server.ts). The desktop's change event for such a removal is only the echo of the
// machine's own doing, and the machine's kernel dropped the entry itself: share-events.ts sends
// that machine no drop for it (a `rm -rf` of 5,000 files would otherwise be 5,000 drops over the
// link). One per machine: another machine sharing the folder did not see the removal and is sent
// its drops.
import { DesktopRemovals } from './desktop-removals.js';

/** An echo arrives within this long of the removal (the watcher's delay and the event batching). */
const ECHO_MS = 5000;
/** Past this many notes the old ones are dropped at the next note. */
const PRUNE_AT = 10_000;

export class MachineRemovals {
  private readonly removed = new Map<string, number>();

  note(localPath: string): void {
    const now = Date.now();
    if (this.removed.size >= PRUNE_AT) {
      for (const [path, at] of this.removed) if (now - at > ECHO_MS) this.removed.delete(path);
    }
    this.removed.set(localPath, now);
  }

  /** Whether the machine removed this path lately (a removal may be reported more than once). */
  removedLately(localPath: string): boolean {
    const at = this.removed.get(localPath);
    return at !== undefined && Date.now() - at <= ECHO_MS;
  }

  /** The path is there again on the desktop: a later removal of it is not the machine's. */
  forget(localPath: string): void {
    this.removed.delete(localPath);
  }
}

/** What one machine's share servers and change events both keep of removals. */
export interface ShareRemovals {
  desktop: DesktopRemovals;
  machine: MachineRemovals;
}

export function shareRemovals(): ShareRemovals {
  return { desktop: new DesktopRemovals(), machine: new MachineRemovals() };
}
