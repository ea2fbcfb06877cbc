// One interface over cgroup v1 and v2, so the runtime does the same thing on both: the CI host
// here is hybrid v1, the QEMU guest and most current distros are pure v2.
import { readProcFile } from '../proc.js';
import type { ActivityLog, ActivityScope } from '../../activity/activity-log.js';

export interface CgroupLimits {
  cpus?: number | undefined;
  memory?: number | undefined;
  pids?: number | undefined;
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
  placement(id: string): CgroupPlacement;
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
}

export const CFS_PERIOD_US = 100_000;

export function cpuQuotaUs(cpus: number): number {
  return Math.max(1000, Math.round(cpus * CFS_PERIOD_US));
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
