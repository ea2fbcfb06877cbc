// cgroup v2: one unified tree. Controllers must be enabled in every ancestor's
// cgroup.subtree_control, and only leaves hold processes, so containers live in their own leaf
// under a parent that holds none.
import { existsSync } from 'node:fs';
import { access, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActivityLog, ActivityScope } from '../../activity/activity-log.js';
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

const CONTROLLERS = ['cpu', 'memory', 'pids'] as const;

export class CgroupV2Driver implements CgroupDriver {
  readonly version = 2 as const;
  private parentReady = false;
  /** Whether memory.swap.max exists (swap accounting on); learnt from the first container's cgroup. */
  private swapControl: boolean | undefined;

  constructor(
    private readonly root: string,
    private readonly parent: string,
    private readonly activity: ActivityLog,
  ) {}

  private dir(id: string): string {
    return join(this.root, this.parent, id);
  }

  placement(id: string): CgroupPlacement {
    return { version: 2, dirs: [this.dir(id)], procsFiles: [join(this.dir(id), 'cgroup.procs')], limits: {} };
  }

  private async ensureParent(scope: ActivityScope): Promise<void> {
    if (this.parentReady) return;
    const parentDir = join(this.root, this.parent);
    await this.enableControllers(this.root, scope);
    if (!(await exists(parentDir))) await this.activity.mkdir(parentDir, scope);
    await this.enableControllers(parentDir, scope);
    this.parentReady = true;
  }

  private async enableControllers(dir: string, scope: ActivityScope): Promise<void> {
    // unreadable: taken as none enabled, so each is written below, where a real failure surfaces (activity log)
    const enabled = new Set((await readFile(join(dir, 'cgroup.subtree_control'), 'utf8').catch(() => '')).split(/\s+/).filter(Boolean));
    for (const controller of CONTROLLERS) {
      if (!enabled.has(controller)) await this.activity.write(join(dir, 'cgroup.subtree_control'), `+${controller}`, scope);
    }
  }

  limitFiles(id: string, limits: CgroupLimits): Record<string, string> {
    const dir = this.dir(id);
    const files: Record<string, string> = {};
    if (limits.cpus !== undefined) files[join(dir, 'cpu.max')] = `${cpuQuotaUs(limits.cpus)} ${CFS_PERIOD_US}`;
    if (limits.memory !== undefined) {
      files[join(dir, 'memory.max')] = String(limits.memory);
      // No swap on top: the limit is what the user typed, as on v1 with memsw.
      if (this.swapControl) files[join(dir, 'memory.swap.max')] = '0';
    }
    if (limits.pids !== undefined) files[join(dir, 'pids.max')] = String(limits.pids);
    return files;
  }

  async create(id: string, limits: CgroupLimits, scope: ActivityScope): Promise<CgroupPlacement> {
    await this.ensureParent(scope);
    const placement = this.placement(id);
    const dir = this.dir(id);
    await this.activity.mkdir(dir, scope);
    this.swapControl ??= await exists(join(dir, 'memory.swap.max'));
    placement.limits = this.limitFiles(id, limits);
    for (const [path, value] of Object.entries(placement.limits)) await this.activity.write(path, value, scope);
    return placement;
  }

  async usage(id: string) {
    const dir = this.dir(id);
    return {
      cpuUsageNs: (await readKeyed(join(dir, 'cpu.stat'), 'usage_usec')) * 1000,
      memoryUsage: (await readNumber(join(dir, 'memory.current'))) ?? 0,
      memoryLimit: await readNumber(join(dir, 'memory.max')),
      pidsCurrent: (await readNumber(join(dir, 'pids.current'))) ?? 0,
      pidsLimit: await readNumber(join(dir, 'pids.max')),
      oomKills: await this.oomKills(id),
    };
  }

  oomKills(id: string): Promise<number> {
    return readKeyed(join(this.dir(id), 'memory.events'), 'oom_kill');
  }

  async pids(id: string): Promise<number[]> {
    return readPids(join(this.dir(id), 'cgroup.procs'));
  }

  async remove(id: string, scope: ActivityScope): Promise<void> {
    if (existsSync(this.dir(id))) await this.activity.rmdir(this.dir(id), scope);
  }

  async list(): Promise<string[]> {
    // no parent cgroup yet: no containers' cgroups to list
    const entries = await readdir(join(this.root, this.parent), { withFileTypes: true }).catch(() => []);
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
