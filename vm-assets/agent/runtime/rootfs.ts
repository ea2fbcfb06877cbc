// The container's root filesystem: the image's layers as overlayfs lowerdirs (shared, read-only)
// with a per-container upperdir and workdir. Mounted in the machine's mount namespace so the
// window can show what the container changed (the upperdir) whether it runs or not.
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ActivityLog, ActivityScope } from '../activity/activity-log.js';
import type { ContainerPaths } from './container-record.js';

export function overlayOptions(layerDirs: readonly string[], paths: ContainerPaths): string {
  // overlayfs lists lowerdirs top first; images list layers bottom first.
  return `lowerdir=${[...layerDirs].reverse().join(':')},upperdir=${paths.upper},workdir=${paths.work}`;
}

/**
 * Whether a filesystem is mounted on `path` (the rootfs's overlay, which has a device of its own):
 * its device differs from its parent directory's. Two stats, where reading the mount table was
 * O(mounts) and it grows by each running container's overlay and netns name (100 concurrent
 * starts each read it), and the kernel builds it under the lock every mount takes.
 */
export async function isMounted(path: string): Promise<boolean> {
  const parent = statSync(dirname(path), { throwIfNoEntry: false });
  let own;
  try {
    // A path that is not there has nothing mounted on it.
    own = statSync(path, { throwIfNoEntry: false });
  } catch {
    // There, but its filesystem fails a stat (a broken mount): mounted, so that it gets unmounted.
    return true;
  }
  return own !== undefined && parent !== undefined && own.dev !== parent.dev;
}

/**
 * The container's directories (the overlay's three and the logs'), made at create; a start makes
 * any missing (a record from an older agent, a create cut short between its save and these).
 * Synchronously: a directory entry in the page cache costs less than a thread-pool trip, and one
 * that exists costs a failed mkdir and a stat. Each new one costs an inode: on ext4 without a
 * journal, in a directory whose group saw many recent deletions, 0.4-0.7 ms of CPU (measured here).
 */
export function makeContainerDirs(paths: ContainerPaths): void {
  for (const dir of [paths.upper, paths.work, paths.merged]) mkdirSync(dir, { recursive: true, mode: 0o755 });
  mkdirSync(paths.logDir, { recursive: true, mode: 0o700 });
}

/**
 * Makes the overlay's directories and returns the mount options when the rootfs is not mounted
 * yet, for a mounter other than `mount(8)` (the init helper's supervisor) to use.
 */
export async function prepareRootfs(layerDirs: readonly string[], paths: ContainerPaths): Promise<string | undefined> {
  if (await isMounted(paths.merged)) return undefined;
  makeContainerDirs(paths);
  return overlayOptions(layerDirs, paths);
}

/** The command line the overlay mount equals (what the activity log shows, whoever mounts). */
export function mountArgv(options: string, paths: ContainerPaths): string[] {
  return ['mount', '-t', 'overlay', 'overlay', '-o', options, paths.merged];
}

export async function mountRootfs(
  activity: ActivityLog,
  layerDirs: readonly string[],
  paths: ContainerPaths,
  scope: ActivityScope,
): Promise<void> {
  const options = await prepareRootfs(layerDirs, paths);
  if (options !== undefined) await activity.run(mountArgv(options, paths), scope);
}

/**
 * Idempotent: not mounted is success, and so is an umount that fails because someone else (the
 * container's supervisor) unmounted first. The mount table decides, never umount's message.
 */
export async function unmountRootfs(activity: ActivityLog, paths: ContainerPaths, scope: ActivityScope): Promise<void> {
  if (!(await isMounted(paths.merged))) return;
  try {
    await activity.run(['umount', paths.merged], scope);
  } catch (error) {
    if (await isMounted(paths.merged)) throw error;
  }
}
