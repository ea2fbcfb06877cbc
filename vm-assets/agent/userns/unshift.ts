// A --userns=auto container's files as the container sees them: its upper dir stores its range's
// ids (root inside is the range's first id on disk), so what leaves it as an image layer (commit)
// is shifted back, in a staging copy of ours.
import { lchown, lstat, readdir, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { IdMapping, UsernsMaps } from '../../../shared/userns.js';

function inside(id: number, map: readonly IdMapping[]): number {
  const line = map.find((m) => id >= m.host && id < m.host + m.size);
  // An id outside the range (a file the agent made as the machine's root) is root's inside too.
  return line ? id - line.host + line.container : 0;
}

/** Rewrites every owner under dir (dir included) from the machine's ids to the container's. */
export async function unshiftOwners(dir: string, maps: UsernsMaps): Promise<void> {
  const stat = await lstat(dir);
  await lchown(dir, inside(stat.uid, maps.uidMap), inside(stat.gid, maps.gidMap));
  // chown clears setuid and setgid bits: put the mode back (a symlink has none to keep).
  if (!stat.isSymbolicLink() && stat.mode & 0o6000) await chmod(dir, stat.mode & 0o7777);
  if (stat.isDirectory()) for (const name of await readdir(dir)) await unshiftOwners(join(dir, name), maps);
}
