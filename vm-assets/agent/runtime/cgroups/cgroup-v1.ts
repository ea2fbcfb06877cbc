// cgroup v1: one hierarchy per controller. The container gets a directory in each hierarchy we
// use, and its pid goes into each cgroup.procs.
import { existsSync } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CgroupInfo } from '../../../../shared/system-info.js';
import type { ActivityLog, ActivityScope } from '../../activity/activity-log.js';
import { DEFAULT_DEVICE_RULES } from '../security-policy.js';
import {
  CFS_PERIOD_US,
  cpuQuotaUs,
  readKeyed,
  readNumber,
  readPids,
  type CgroupDriver,
  type CgroupLimits,
  type CgroupPlacement,
} from './cgroup-driver.js';

const WANTED = ['cpu', 'cpuacct', 'memory', 'pids', 'devices'] as const;
type Controller = (typeof WANTED)[number];

/** v1 reports "no limit" as a huge page-aligned number. */
const V1_UNLIMITED = 2 ** 62;

export class CgroupV1Driver implements CgroupDriver {
  readonly version = 1 as const;
  private readonly mounts: Map<Controller, string>;
  /** Whether memory.memsw.* exists (swap accounting on); learnt from the first container's cgroup. */
  private swapAccounting: boolean | undefined;

  constructor(
    info: CgroupInfo,
    private readonly parent: string,
    private readonly activity: ActivityLog,
  ) {
    this.mounts = new Map();
    for (const controller of info.controllers) {
      if (controller.version === 1 && (WANTED as readonly string[]).includes(controller.name))
        this.mounts.set(controller.name as Controller, controller.mountPoint);
    }
    for (const needed of ['cpu', 'memory', 'pids'] as const) {
      if (!this.mounts.has(needed)) throw new Error(`cgroup v1 controller "${needed}" is not mounted`);
    }
  }

  private dir(controller: Controller, id: string): string {
    return join(this.mounts.get(controller) ?? '', this.parent, id);
  }

  /** Hierarchies may be co-mounted (cpu,cpuacct): each directory once. */
  private hierarchies(): string[] {
    return [...new Set(this.mounts.values())];
  }

  placement(id: string): CgroupPlacement {
    const dirs = this.hierarchies().map((mount) => join(mount, this.parent, id));
    return { version: 1, dirs, procsFiles: dirs.map((dir) => join(dir, 'cgroup.procs')), limits: {} };
  }

  limitFiles(id: string, limits: CgroupLimits): Record<string, string> {
    const files: Record<string, string> = {};
    const set = (controller: Controller, file: string, value: string) => (files[join(this.dir(controller, id), file)] = value);
    if (limits.cpus !== undefined) {
      set('cpu', 'cpu.cfs_period_us', String(CFS_PERIOD_US));
      set('cpu', 'cpu.cfs_quota_us', String(cpuQuotaUs(limits.cpus)));
    }
    if (limits.memory !== undefined) {
      set('memory', 'memory.limit_in_bytes', String(limits.memory));
      // With swap accounting, the same cap on memory+swap makes the limit hard, as users expect.
      if (this.swapAccounting) set('memory', 'memory.memsw.limit_in_bytes', String(limits.memory));
    }
    if (limits.pids !== undefined) set('pids', 'pids.max', String(limits.pids));
    return files;
  }

  async create(id: string, limits: CgroupLimits, scope: ActivityScope): Promise<CgroupPlacement> {
    const placement = this.placement(id);
    // Independent hierarchies: made, read and removed side by side, one thread-pool round each.
    await Promise.all(placement.dirs.map((dir) => this.activity.mkdir(dir, scope)));
    this.swapAccounting ??= await exists(join(this.dir('memory', id), 'memory.memsw.limit_in_bytes'));
    placement.limits = this.limitFiles(id, limits);
    for (const [path, value] of Object.entries(placement.limits)) await this.activity.write(path, value, scope);
    // Docker's device rules (mknod anything, open only the harmless character devices): without
    // them a container's root could mknod the host's disk and read it.
    if (this.mounts.has('devices')) {
      const dir = this.dir('devices', id);
      await this.activity.write(join(dir, 'devices.deny'), 'a', scope);
      for (const rule of DEFAULT_DEVICE_RULES) await this.activity.write(join(dir, 'devices.allow'), rule, scope);
    }
    return placement;
  }

  async usage(id: string) {
    const [memoryLimit, cpuUsageNs, memoryUsage, pidsCurrent, pidsLimit, oomKills] = await Promise.all([
      readNumber(join(this.dir('memory', id), 'memory.limit_in_bytes')),
      readNumber(join(this.dir(this.mounts.has('cpuacct') ? 'cpuacct' : 'cpu', id), 'cpuacct.usage')),
      readNumber(join(this.dir('memory', id), 'memory.usage_in_bytes')),
      readNumber(join(this.dir('pids', id), 'pids.current')),
      readNumber(join(this.dir('pids', id), 'pids.max')),
      this.oomKills(id),
    ]);
    return {
      cpuUsageNs: cpuUsageNs ?? 0,
      memoryUsage: memoryUsage ?? 0,
      memoryLimit: memoryLimit === null || memoryLimit >= V1_UNLIMITED ? null : memoryLimit,
      pidsCurrent: pidsCurrent ?? 0,
      pidsLimit,
      oomKills,
    };
  }

  oomKills(id: string): Promise<number> {
    return readKeyed(join(this.dir('memory', id), 'memory.oom_control'), 'oom_kill');
  }

  async pids(id: string): Promise<number[]> {
    return readPids(join(this.dir('pids', id), 'cgroup.procs'));
  }

  async remove(id: string, scope: ActivityScope): Promise<void> {
    await Promise.all(
      this.placement(id).dirs.map(async (dir) => {
        // A stat: synchronously, not a thread-pool trip per hierarchy.
        if (existsSync(dir)) await this.activity.rmdir(dir, scope);
      }),
    );
  }

  async list(): Promise<string[]> {
    // no parent cgroup yet: no containers' cgroups to list
    const entries = await readdir(join(this.mounts.get('pids') ?? '', this.parent), { withFileTypes: true }).catch(() => []);
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
