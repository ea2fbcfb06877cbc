// One interface over cgroup v1 and v2, so the runtime does the same thing on both: the CI host
// here is hybrid v1, the QEMU guest and most current distros are pure v2.
import { cpusetList } from '../../../../shared/resource-options.js';
import { readProcFile } from '../proc.js';
import type { ActivityLog, ActivityScope } from '../../activity/activity-log.js';

export interface CgroupLimits {
  cpus?: number | undefined;
  memory?: number | undefined;
  pids?: number | undefined;
  /** `--cpuset-cpus`, e.g. `0-1`. */
  cpusetCpus?: string | undefined;
  /** `--cpu-shares` (v2: mapped onto cpu.weight as Docker does). */
  cpuShares?: number | undefined;
  /** `--memory-swap`: memory plus swap in bytes, -1 for unlimited swap. */
  memorySwap?: number | undefined;
  /** `--blkio-weight`, 10–1000. */
  blkioWeight?: number | undefined;
  /** `--device-read-bps`/`--device-write-bps`, the device as MAJOR:MINOR. */
  deviceReadBps?: DeviceLimit[] | undefined;
  deviceWriteBps?: DeviceLimit[] | undefined;
  /** Device rules (`c 1:3 rwm`, `a` for all) replacing DEFAULT_DEVICE_RULES (--device, --privileged); v1 writes them at create. */
  deviceRules?: readonly string[] | undefined;
}

export interface LimitRefusal {
  field: keyof CgroupLimits;
  message: string;
}

/** The CPUs a cpuset may use must be ones the machine offers (its root cpuset, or the online CPUs on v2). */
export function cpusetRefusal(wanted: string | undefined, offered: string): LimitRefusal | undefined {
  if (wanted === undefined) return undefined;
  const have = new Set(cpusetList(offered.trim() || '0'));
  const missing = cpusetList(wanted).filter((cpu) => !have.has(cpu));
  if (missing.length === 0) return undefined;
  return { field: 'cpusetCpus', message: `CPU ${missing.join(', ')} is not available on this machine (it offers ${offered.trim()})` };
}

export interface DeviceLimit {
  /** `MAJOR:MINOR` of the block device. */
  device: string;
  rate: number;
  /** The device as the user named it (kept for inspect). */
  path?: string | undefined;
}

export interface CgroupPlacement {
  version: 1 | 2;
  /** The container's directory in each hierarchy. */
  dirs: string[];
  /** Where the supervisor writes the container's pid (one per hierarchy). */
  procsFiles: string[];
  /** Limit file → value written, for inspect and the Kernel tab. */
  limits: Record<string, string>;
}

export interface CgroupUsage {
  cpuUsageNs: number;
  memoryUsage: number;
  memoryLimit: number | null;
  pidsCurrent: number;
  pidsLimit: number | null;
  oomKills: number;
}

export interface CgroupDriver {
  readonly version: 1 | 2;
  /** With the container's limits: only the hierarchies those need (v1 leaves out cpuset and blkio unless asked); without: every one it may be in. */
  placement(id: string, limits?: CgroupLimits): CgroupPlacement;
  /** The limit files and the values create() writes to them, in write order (for inspect, without touching the kernel). */
  limitFiles(id: string, limits: CgroupLimits): Record<string, string>;
  create(id: string, limits: CgroupLimits, scope: ActivityScope): Promise<CgroupPlacement>;
  usage(id: string): Promise<CgroupUsage>;
  /** usage().oomKills alone: one file read where a container ends. */
  oomKills(id: string): Promise<number>;
  /** Every pid in the container's cgroup (host numbering). */
  pids(id: string): Promise<number[]>;
  remove(id: string, scope: ActivityScope): Promise<void>;
  /** Container ids that have a cgroup under our parent (for reconciliation after a crash). */
  list(): Promise<string[]>;
  /** Why this machine cannot apply these limits (a missing controller or file), or undefined when it can. */
  unsupported(limits: CgroupLimits): LimitRefusal | undefined;
  /** Writes changed limits into a running container's cgroup; answers the files written. */
  update(id: string, change: CgroupLimits, current: CgroupLimits, scope: ActivityScope): Promise<Record<string, string>>;
  /** Freezes (pause) or thaws (unpause) every process in the container, and waits until the kernel says it is done. */
  freeze(id: string, frozen: boolean, scope: ActivityScope): Promise<void>;
}

export const CFS_PERIOD_US = 100_000;

export function cpuQuotaUs(cpus: number): number {
  return Math.max(1000, Math.round(cpus * CFS_PERIOD_US));
}

/**
 * Writes limit files in order. A per-device file (blkio throttle, io.max) takes one device per
 * write, so its value holds one line per device.
 */
export async function writeLimitFiles(activity: ActivityLog, files: Record<string, string>, scope: ActivityScope): Promise<void> {
  for (const [path, value] of Object.entries(files)) await activity.writeLines(path, value.split('\n'), scope);
}

/** Polls until a file's text satisfies `done` (the freezer's state settles asynchronously); bounded. */
export async function waitForFile(path: string, done: (text: string) => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (done(readProcFile(path) ?? '')) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`${what}: ${path} did not settle within a second`);
}

export async function readNumber(path: string): Promise<number | null> {
  const text = (readProcFile(path) ?? '').trim();
  if (text === '' || text === 'max') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

export async function readKeyed(path: string, key: string): Promise<number> {
  const text = readProcFile(path) ?? '';
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return match?.[1] ? Number(match[1]) : 0;
}

export async function readPids(procsFile: string): Promise<number[]> {
  const text = readProcFile(procsFile) ?? '';
  return text
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

export type { ActivityLog };
