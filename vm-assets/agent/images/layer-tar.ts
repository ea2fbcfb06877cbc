// An overlay-form directory (a container's upper dir, or an unpacked image layer) back as an OCI
// layer tar: a 0:0 character device (overlayfs's deletion mark) becomes an empty `.wh.NAME`, and a
// directory marked trusted.overlay.opaque=y gets `.wh..wh..opq` — the reverse of what unpacking
// does. The directory is copied to a staging dir first (reflinked where the filesystem can), the
// marks converted there, and GNU tar writes the archive with numeric owners.
import { lstat, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActivityLog, ActivityScope } from '../activity/activity-log.js';
import { isWhiteout, opaqueDirs } from '../runtime/diff.js';
import type { UsernsMaps } from '../../../shared/userns.js';
import { unshiftOwners } from '../userns/unshift.js';

export async function overlayDirToTar(
  activity: ActivityLog,
  dir: string,
  staging: string,
  dest: string,
  scope: ActivityScope = {},
  shift?: UsernsMaps,
): Promise<void> {
  const opaque = await opaqueDirs(dir);
  await activity.run(['cp', '-a', '--reflink=auto', '--', `${dir}/.`, staging], scope);
  try {
    await convertWhiteouts(staging, '');
    // A --userns=auto container's upper dir holds its range's ids: the layer gets them as seen inside.
    if (shift) await unshiftOwners(staging, shift);
    for (const rel of opaque) await writeFile(join(staging, rel, '.wh..wh..opq'), '');
    await activity.run(['tar', '--numeric-owner', '--sort=name', '-C', staging, '-cf', dest, '.'], scope);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function convertWhiteouts(root: string, rel: string): Promise<void> {
  for (const name of await readdir(join(root, rel))) {
    const path = join(root, rel, name);
    const stat = await lstat(path);
    if (isWhiteout(stat)) {
      await rm(path);
      await writeFile(join(root, rel, `.wh.${name}`), '');
    } else if (stat.isDirectory()) await convertWhiteouts(root, join(rel, name));
  }
}
