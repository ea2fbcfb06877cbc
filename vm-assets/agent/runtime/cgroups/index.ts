import type { CgroupInfo } from '../../../../shared/system-info.js';
import type { ActivityLog } from '../../activity/activity-log.js';
import type { CgroupDriver } from './cgroup-driver.js';
import { CgroupV1Driver } from './cgroup-v1.js';
import { CgroupV2Driver } from './cgroup-v2.js';

/** Picks the hierarchy that holds cpu, memory and pids on this machine. */
export function createCgroupDriver(info: CgroupInfo, parent: string, activity: ActivityLog): CgroupDriver {
  if (info.version === 2) {
    const mount = info.controllers.find((c) => c.version === 2 && c.name === 'memory')?.mountPoint ?? '/sys/fs/cgroup';
    return new CgroupV2Driver(mount, parent, activity);
  }
  return new CgroupV1Driver(info, parent, activity);
}

export type { CgroupDriver, CgroupLimits, CgroupPlacement, CgroupUsage } from './cgroup-driver.js';
