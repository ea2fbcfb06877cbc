// Cgroup layout detection from /proc/self/mountinfo. The same host can be pure v2 (the QEMU
// guest), hybrid (this CI machine: v1 controllers, a cgroup2 tree with only hugetlb) or legacy
// v1; the runtime applies limits through whichever hierarchy holds cpu, memory and pids.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CgroupInfo } from '../../../shared/system-info.js';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** Parses mountinfo lines (`proc(5)`): fields, optional fields, `-`, fstype, source, super options. */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const tail = right.split(' ');
    const mountPoint = fields[4];
    const fsType = tail[0];
    if (mountPoint === undefined || fsType === undefined) continue;
    entries.push({ mountPoint: unescapeOctal(mountPoint), fsType, superOptions: (tail[2] ?? '').split(',') });
  }
  return entries;
}

function unescapeOctal(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

const RESOURCE_CONTROLLERS = new Set(['cpu', 'memory', 'pids']);
const GENERIC_OPTIONS = new Set([
  'rw',
  'ro',
  'nsdelegate',
  'memory_recursiveprot',
  'clone_children',
  'noprefix',
  'cpuset_v2_mode',
  'xattr',
  'favordynmods',
]);

/**
 * Classifies the layout. `readControllers` returns the controllers a cgroup2 mount offers
 * (its `cgroup.controllers`); it is injected so the logic is testable against fixtures.
 */
export async function classifyCgroups(
  mounts: MountEntry[],
  readControllers: (mountPoint: string) => Promise<string[]>,
  root = '/sys/fs/cgroup',
): Promise<CgroupInfo> {
  const controllers: CgroupInfo['controllers'] = [];
  let v1Resource = false;
  let hasV2 = false;
  for (const mount of mounts) {
    if (mount.fsType === 'cgroup') {
      for (const option of mount.superOptions) {
        if (GENERIC_OPTIONS.has(option) || option.startsWith('name=') || option.startsWith('release_agent=')) continue;
        controllers.push({ name: option, version: 1, mountPoint: mount.mountPoint });
        if (RESOURCE_CONTROLLERS.has(option)) v1Resource = true;
      }
    } else if (mount.fsType === 'cgroup2') {
      hasV2 = true;
      for (const name of await readControllers(mount.mountPoint)) controllers.push({ name, version: 2, mountPoint: mount.mountPoint });
    }
  }
  const rootMount = mounts.filter((mount) => mount.mountPoint === root).at(-1);
  const mode = !v1Resource && hasV2 ? 'unified' : v1Resource && hasV2 ? 'hybrid' : 'legacy';
  return { version: mode === 'unified' ? 2 : 1, mode, rootFsType: rootMount?.fsType ?? 'none', controllers };
}

export async function detectCgroups(): Promise<CgroupInfo> {
  const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  return classifyCgroups(mounts, async (mountPoint) => {
    try {
      return (await readFile(join(mountPoint, 'cgroup.controllers'), 'utf8')).split(/\s+/).filter(Boolean);
    } catch {
      return [];
    }
  });
}
