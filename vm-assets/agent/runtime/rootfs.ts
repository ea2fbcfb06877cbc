// The container's root filesystem: the image's layers as overlayfs lowerdirs (shared, read-only)
// with a per-container upperdir and workdir. Mounted in the machine's mount namespace so the
// window can show what the container changed (the upperdir) whether it runs or not.
import { mkdir, readFile } from 'node:fs/promises';
import type { ActivityLog, ActivityScope } from '../activity/activity-log.js';
import type { ContainerPaths } from './container-record.js';

export function overlayOptions(layerDirs: readonly string[], paths: ContainerPaths): string {
  // overlayfs lists lowerdirs top first; images list layers bottom first.
  return `lowerdir=${[...layerDirs].reverse().join(':')},upperdir=${paths.upper},workdir=${paths.work}`;
}

export async function isMounted(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[4] === path.replace(/ /g, '\\040'));
}

export async function mountRootfs(
  activity: ActivityLog,
  layerDirs: readonly string[],
  paths: ContainerPaths,
  scope: ActivityScope,
): Promise<void> {
  if (await isMounted(paths.merged)) return;
  for (const dir of [paths.upper, paths.work, paths.merged]) await mkdir(dir, { recursive: true, mode: 0o755 });
  await activity.run(['mount', '-t', 'overlay', 'overlay', '-o', overlayOptions(layerDirs, paths), paths.merged], scope);
}

export async function unmountRootfs(activity: ActivityLog, paths: ContainerPaths, scope: ActivityScope): Promise<void> {
  if (await isMounted(paths.merged)) await activity.run(['umount', paths.merged], scope);
}
