// The container's root filesystem: the image's layers as overlayfs lowerdirs (shared, read-only)
// with a per-container upperdir and workdir. Mounted in the machine's mount namespace so the
// window can show what the container changed (the upperdir) whether it runs or not.
import { mkdirSync } from 'node:fs';
import { readProcFile } from './proc.js';
import type { ActivityLog, ActivityScope } from '../activity/activity-log.js';
import type { ContainerPaths } from './container-record.js';

export function overlayOptions(layerDirs: readonly string[], paths: ContainerPaths): string {
  // overlayfs lists lowerdirs top first; images list layers bottom first.
  return `lowerdir=${[...layerDirs].reverse().join(':')},upperdir=${paths.upper},workdir=${paths.work}`;
}

export async function isMounted(path: string): Promise<boolean> {
  const mounts = readProcFile('/proc/self/mountinfo') ?? '';
  return mounts.split('\n').some((line) => line.split(' ')[4] === path.replace(/ /g, '\\040'));
}

/**
 * Makes the overlay's directories and returns the mount options when the rootfs is not mounted
 * yet, for a mounter other than `mount(8)` (the init helper's supervisor) to use.
 */
export async function prepareRootfs(layerDirs: readonly string[], paths: ContainerPaths): Promise<string | undefined> {
  if (await isMounted(paths.merged)) return undefined;
  // Three directory entries in the page cache: synchronously, as three thread-pool trips cost more.
  for (const dir of [paths.upper, paths.work, paths.merged]) mkdirSync(dir, { recursive: true, mode: 0o755 });
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
