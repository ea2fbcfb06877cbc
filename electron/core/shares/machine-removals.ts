// Paths the machine itself removed through a share, noted by the desktop's SFTP server
// (sftp-server.ts). The desktop's change event for such a removal is only the echo of the
// machine's own doing, and the machine's kernel dropped the entry itself: share-events.ts sends
// no drop for it (a `rm -rf` of 5,000 files would otherwise be 5,000 drops over the link).

/** An echo arrives within this long of the removal (the watcher's delay and the event batching). */
const ECHO_MS = 5000;
/** Past this many notes the old ones are dropped at the next note. */
const PRUNE_AT = 10_000;

const removed = new Map<string, number>();

export function noteMachineRemoval(localPath: string): void {
  const now = Date.now();
  if (removed.size >= PRUNE_AT) {
    for (const [path, at] of removed) if (now - at > ECHO_MS) removed.delete(path);
  }
  removed.set(localPath, now);
}

/** Whether the machine removed this path lately (a removal may be reported more than once). */
export function removedByMachine(localPath: string): boolean {
  const at = removed.get(localPath);
  return at !== undefined && Date.now() - at <= ECHO_MS;
}

/** The path is there again on the desktop: a later removal of it is not the machine's. */
export function forgetMachineRemoval(localPath: string): void {
  removed.delete(localPath);
}
