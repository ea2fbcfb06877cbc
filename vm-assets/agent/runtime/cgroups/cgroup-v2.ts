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
  type LimitRefusal,
  cpusetRefusal,
  waitForFile,
  writeLimitFiles,
} from './cgroup-driver.js';
import { readProcFile } from '../proc.js';

const CONTROLLERS = ['cpu', 'memory', 'pids'] as const;
/** Enabled too where the machine offers them, for --cpuset-cpus and the io options. */
const OPTIONAL_CONTROLLERS = ['cpuset', 'io'] as const;

/** Docker's (runc's) mapping of --cpu-shares (2–262144) onto cpu.weight (1–10000). */
export function cpuWeight(shares: number): number {
  return Math.floor(1 + ((shares - 2) * 9999) / 262_142);
}

/** runc's mapping of --blkio-weight (10–1000) onto io.weight (1–10000), where BFQ's io.bfq.weight is absent. */
export function ioWeight(blkioWeight: number): number {
  return Math.floor(1 + ((blkioWeight - 10) * 9999) / 990);
}

export class CgroupV2Driver implements CgroupDriver {
  readonly version = 2 as const;
  private parentReady = false;
  /** Whether memory.swap.max exists (swap accounting on); learnt from the first container's cgroup. */
  private swapControl: boolean | undefined;
  /** BFQ's io.bfq.weight (same range as blkio) when the scheduler offers it, else io.weight; learnt from the first container's cgroup. */
  private bfqWeight: boolean | undefined;

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

  /** The controllers the machine's root offers (cgroup.controllers). */
  private offered(): Set<string> {
    return new Set((readProcFile(join(this.root, 'cgroup.controllers')) ?? '').split(/\s+/).filter(Boolean));
  }

  private async enableControllers(dir: string, scope: ActivityScope): Promise<void> {
    // unreadable: taken as none enabled, so each is written below, where a real failure surfaces (activity log)
    const enabled = new Set((await readFile(join(dir, 'cgroup.subtree_control'), 'utf8').catch(() => '')).split(/\s+/).filter(Boolean));
    const offered = this.offered();
    for (const controller of [...CONTROLLERS, ...OPTIONAL_CONTROLLERS.filter((name) => offered.has(name))]) {
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
    if (limits.memorySwap !== undefined && this.swapControl) {
      // v2 caps swap alone: what --memory-swap (memory plus swap) leaves over the memory limit.
      files[join(dir, 'memory.swap.max')] = limits.memorySwap === -1 ? 'max' : String(limits.memorySwap - (limits.memory ?? 0));
    }
    if (limits.cpuShares !== undefined) files[join(dir, 'cpu.weight')] = String(cpuWeight(limits.cpuShares));
    if (limits.cpusetCpus !== undefined) files[join(dir, 'cpuset.cpus')] = limits.cpusetCpus;
    if (limits.blkioWeight !== undefined) {
      if (this.bfqWeight) files[join(dir, 'io.bfq.weight')] = String(limits.blkioWeight);
      else files[join(dir, 'io.weight')] = `default ${ioWeight(limits.blkioWeight)}`;
    }
    const rates = [
      ...(limits.deviceReadBps ?? []).map(({ device, rate }) => `${device} rbps=${rate}`),
      ...(limits.deviceWriteBps ?? []).map(({ device, rate }) => `${device} wbps=${rate}`),
    ];
    if (rates.length > 0) files[join(dir, 'io.max')] = rates.join('\n');
    return files;
  }

  unsupported(limits: CgroupLimits): LimitRefusal | undefined {
    const offered = this.offered();
    if (limits.cpusetCpus !== undefined && !offered.has('cpuset'))
      return { field: 'cpusetCpus', message: 'needs the cpuset controller, which this machine does not offer' };
    for (const field of ['blkioWeight', 'deviceReadBps', 'deviceWriteBps'] as const) {
      const asked = field === 'blkioWeight' ? limits.blkioWeight !== undefined : (limits[field]?.length ?? 0) > 0;
      if (asked && !offered.has('io')) return { field, message: 'needs the io controller, which this machine does not offer' };
    }
    const online = readProcFile(join(this.root, 'cpuset.cpus.effective')) ?? readProcFile('/sys/devices/system/cpu/online') ?? '';
    return cpusetRefusal(limits.cpusetCpus, online);
  }

  async update(id: string, change: CgroupLimits, current: CgroupLimits, scope: ActivityScope): Promise<Record<string, string>> {
    // memory.swap.max depends on the memory limit: both are written when either changes.
    const memoryParts =
      change.memory !== undefined || change.memorySwap !== undefined
        ? { memory: change.memory ?? current.memory, memorySwap: change.memorySwap ?? current.memorySwap }
        : {};
    const files = this.limitFiles(id, { ...change, ...memoryParts });
    await writeLimitFiles(this.activity, files, scope);
    return files;
  }

  async freeze(id: string, frozen: boolean, scope: ActivityScope): Promise<void> {
    await this.activity.write(join(this.dir(id), 'cgroup.freeze'), frozen ? '1' : '0', scope);
    // cgroup.events says `frozen 1` once every process has stopped.
    await waitForFile(
      join(this.dir(id), 'cgroup.events'),
      (text) => new RegExp(`^frozen ${frozen ? 1 : 0}$`, 'm').test(text),
      frozen ? 'pause' : 'unpause',
    );
  }

  async create(id: string, limits: CgroupLimits, scope: ActivityScope): Promise<CgroupPlacement> {
    await this.ensureParent(scope);
    const placement = this.placement(id);
    const dir = this.dir(id);
    await this.activity.mkdir(dir, scope);
    this.swapControl ??= await exists(join(dir, 'memory.swap.max'));
    this.bfqWeight ??= await exists(join(dir, 'io.bfq.weight'));
    placement.limits = this.limitFiles(id, limits);
    await writeLimitFiles(this.activity, placement.limits, scope);
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
