// cgroup v1: one hierarchy per controller. The container gets a directory in each hierarchy we
// use, and its pid goes into each cgroup.procs.
import { existsSync } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { OnggiError } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
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
  type LimitRefusal,
  cpusetRefusal,
  waitForFile,
  writeLimitFiles,
} from './cgroup-driver.js';
import { readProcFile } from '../proc.js';

// cpuset, blkio and freezer: joined when mounted, so --cpuset-cpus, --blkio-weight and pause work on any container.
const WANTED = ['cpu', 'cpuacct', 'memory', 'pids', 'devices', 'cpuset', 'blkio', 'freezer'] as const;
type Controller = (typeof WANTED)[number];

/** v1 reports "no limit" as a huge page-aligned number. */
const V1_UNLIMITED = 2 ** 62;

export class CgroupV1Driver implements CgroupDriver {
  readonly version = 1 as const;
  private readonly mounts: Map<Controller, string>;
  /** Whether memory.memsw.* exists (swap accounting on); learnt from the first container's cgroup. */
  private swapAccounting: boolean | undefined;
  /** The blkio weight file the IO scheduler offers (CFQ: blkio.weight, BFQ: blkio.bfq.weight); none with mq-deadline/none. */
  private readonly blkioWeightFile: string | undefined;

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
    const blkio = this.mounts.get('blkio');
    this.blkioWeightFile = blkio ? ['blkio.weight', 'blkio.bfq.weight'].find((file) => existsSync(join(blkio, file))) : undefined;
  }

  unsupported(limits: CgroupLimits): LimitRefusal | undefined {
    const blkio = this.mounts.get('blkio');
    if (limits.cpusetCpus !== undefined && !this.mounts.has('cpuset'))
      return { field: 'cpusetCpus', message: 'needs the cpuset controller, which this machine has not mounted' };
    if (limits.blkioWeight !== undefined && !this.blkioWeightFile)
      return {
        field: 'blkioWeight',
        message:
          "this machine's block IO scheduler offers no weight (no blkio.weight or blkio.bfq.weight: only CFQ and BFQ have weights, its disks use none or mq-deadline)",
      };
    for (const field of ['deviceReadBps', 'deviceWriteBps'] as const)
      if (limits[field]?.length && !(blkio && existsSync(join(blkio, 'blkio.throttle.read_bps_device'))))
        return { field, message: 'needs the blkio controller with throttling, which this machine lacks' };
    const memory = this.mounts.get('memory') ?? '';
    if (limits.memorySwap !== undefined && limits.memorySwap !== -1 && !existsSync(join(memory, 'memory.memsw.limit_in_bytes')))
      return { field: 'memorySwap', message: "needs swap accounting, which this machine's kernel has off (boot with swapaccount=1)" };
    const cpuset = this.mounts.get('cpuset');
    return cpuset ? cpusetRefusal(limits.cpusetCpus, readProcFile(join(cpuset, 'cpuset.cpus')) ?? '') : undefined;
  }

  private dir(controller: Controller, id: string): string {
    return join(this.mounts.get(controller) ?? '', this.parent, id);
  }

  /**
   * Hierarchies may be co-mounted (cpu,cpuacct): each directory once. Given the limits, cpuset and
   * blkio only when they ask for them: two hierarchies fewer to make, join and remove per start
   * (~0.3 ms here); without, every one a container may be in (for removal, inspect and exec).
   */
  private hierarchies(limits?: CgroupLimits): string[] {
    const optional: Partial<Record<Controller, boolean>> | undefined = limits && {
      cpuset: limits.cpusetCpus !== undefined,
      blkio: limits.blkioWeight !== undefined || Boolean(limits.deviceReadBps?.length) || Boolean(limits.deviceWriteBps?.length),
    };
    return [...new Set([...this.mounts].filter(([controller]) => optional?.[controller] !== false).map(([, mount]) => mount))];
  }

  placement(id: string, limits?: CgroupLimits): CgroupPlacement {
    const dirs = this.hierarchies(limits).map((mount) => join(mount, this.parent, id));
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
      // With swap accounting, the same cap on memory+swap makes the limit hard, as users expect
      // (unless --memory-swap says how much swap on top).
      if (this.swapAccounting) set('memory', 'memory.memsw.limit_in_bytes', String(limits.memorySwap ?? limits.memory));
    }
    if (limits.pids !== undefined) set('pids', 'pids.max', String(limits.pids));
    if (limits.cpuShares !== undefined) set('cpu', 'cpu.shares', String(limits.cpuShares));
    if (limits.cpusetCpus !== undefined && this.mounts.has('cpuset')) set('cpuset', 'cpuset.cpus', limits.cpusetCpus);
    if (limits.blkioWeight !== undefined && this.blkioWeightFile) set('blkio', this.blkioWeightFile, String(limits.blkioWeight));
    if (this.mounts.has('blkio')) {
      const lines = (list: CgroupLimits['deviceReadBps']) => (list ?? []).map(({ device, rate }) => `${device} ${rate}`).join('\n');
      if (limits.deviceReadBps?.length) set('blkio', 'blkio.throttle.read_bps_device', lines(limits.deviceReadBps));
      if (limits.deviceWriteBps?.length) set('blkio', 'blkio.throttle.write_bps_device', lines(limits.deviceWriteBps));
    }
    return files;
  }

  async create(id: string, limits: CgroupLimits, scope: ActivityScope): Promise<CgroupPlacement> {
    const placement = this.placement(id, limits);
    // Independent hierarchies: made, read and removed side by side, one thread-pool round each.
    await Promise.all(placement.dirs.map((dir) => this.activity.mkdir(dir, scope)));
    this.swapAccounting ??= await exists(join(this.dir('memory', id), 'memory.memsw.limit_in_bytes'));
    if (this.mounts.has('cpuset') && limits.cpusetCpus !== undefined) await this.prepareCpuset(id, false, scope);
    placement.limits = this.limitFiles(id, limits);
    await writeLimitFiles(this.activity, placement.limits, scope);
    // Docker's device rules (mknod anything, open only the harmless character devices): without
    // them a container's root could mknod the host's disk and read it.
    if (this.mounts.has('devices')) {
      const dir = this.dir('devices', id);
      await this.activity.write(join(dir, 'devices.deny'), 'a', scope);
      await this.activity.writeLines(join(dir, 'devices.allow'), limits.deviceRules ?? DEFAULT_DEVICE_RULES, scope);
    }
    return placement;
  }

  /**
   * A new v1 cpuset starts with no CPUs and no memory nodes, and no process may join it until it
   * has both: each level below the mount gets its parent's (the container's CPUs, when asked for,
   * come with the other limit files).
   */
  private async prepareCpuset(id: string, inheritCpus: boolean, scope: ActivityScope): Promise<void> {
    let dir = this.mounts.get('cpuset') ?? '';
    for (const part of [...this.parent.split('/').filter(Boolean), id]) {
      const parentDir = dir;
      dir = join(dir, part);
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        if (file === 'cpuset.cpus' && part === id && !inheritCpus) continue;
        if ((readProcFile(join(dir, file)) ?? '').trim() !== '') continue;
        await this.activity.write(join(dir, file), (readProcFile(join(parentDir, file)) ?? '').trim(), scope);
      }
    }
  }

  async update(id: string, change: CgroupLimits, current: CgroupLimits, scope: ActivityScope): Promise<Record<string, string>> {
    for (const [controller, asked, field] of [
      ['cpuset', change.cpusetCpus !== undefined, 'cpusetCpus'],
      ['blkio', change.blkioWeight !== undefined, 'blkioWeight'],
    ] as const)
      if (asked && !existsSync(this.dir(controller, id)))
        throw new OnggiError(
          ErrorCode.InvalidParams,
          'invalid_params',
          `${field} can only be changed on a container started with it (its ${controller} cgroup is made at start)`,
          `params.${field}`,
        );
    const memory = change.memory ?? current.memory;
    // An agent restarted since the container's create has not learnt it yet.
    this.swapAccounting ??= await exists(join(this.dir('memory', id), 'memory.memsw.limit_in_bytes'));
    const files = this.limitFiles(id, {
      ...change,
      // memory and memory+swap go together: a new swap limit is written with the memory limit it covers.
      ...(change.memorySwap !== undefined || change.memory !== undefined
        ? { memory, memorySwap: change.memorySwap ?? (change.memory === undefined ? current.memorySwap : undefined) }
        : {}),
    });
    // memory.limit_in_bytes may never exceed memory.memsw.limit_in_bytes: when raising, swap's cap goes first.
    const memsw = join(this.dir('memory', id), 'memory.memsw.limit_in_bytes');
    const limit = join(this.dir('memory', id), 'memory.limit_in_bytes');
    const raising = memory !== undefined && memory > ((await readNumber(limit)) ?? 0);
    const ordered = Object.entries(files).sort(([a], [b]) => (raising ? rank(a, memsw) - rank(b, memsw) : rank(a, limit) - rank(b, limit)));
    const written = Object.fromEntries(ordered);
    await writeLimitFiles(this.activity, written, scope);
    return written;
  }

  async freeze(id: string, frozen: boolean, scope: ActivityScope): Promise<void> {
    if (!this.mounts.has('freezer')) throw new Error('the freezer controller is not mounted on this machine');
    const state = join(this.dir('freezer', id), 'freezer.state');
    if (!existsSync(state))
      throw new Error('the container was started without a freezer cgroup (by an older agent): restart it to pause it');
    const want = frozen ? 'FROZEN' : 'THAWED';
    await this.activity.write(state, want, scope);
    // FREEZING until every task has stopped: only then is the container really paused.
    await waitForFile(state, (text) => text.trim() === want, frozen ? 'pause' : 'unpause');
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

/** Sort key putting `first` ahead of every other file. */
function rank(path: string, first: string): number {
  return path === first ? 0 : 1;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
