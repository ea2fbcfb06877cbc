// From a spec's limits to what the cgroup drivers write: device paths become MAJOR:MINOR (read
// once, at create, on the machine that has the device), and options this machine's cgroups cannot
// honour are refused before anything is made, naming the option.
import { statSync } from 'node:fs';
import * as z from 'zod';
import { lazySchema } from '../../../shared/lazy-schema.js';
import type { ContainerSpec } from '../../../shared/containers.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { CgroupDriver, CgroupLimits } from './cgroups/index.js';

const DeviceLimitRecord = lazySchema(() => z.object({ device: z.string(), rate: z.number(), path: z.string().optional() }));

/** The record's part for these options (spread into its limits). */
export const RecordedResourceOptions = {
  cpusetCpus: z.string().optional(),
  cpuShares: z.number().optional(),
  memorySwap: z.number().optional(),
  blkioWeight: z.number().optional(),
  deviceReadBps: z.array(DeviceLimitRecord).optional(),
  deviceWriteBps: z.array(DeviceLimitRecord).optional(),
};

type SpecLimits = NonNullable<ContainerSpec['limits']>;

function invalid(field: string, message: string): OnggiError {
  return new OnggiError(ErrorCode.InvalidParams, 'invalid_params', `${field}: ${message}`, `params.limits.${field}`);
}

/** `/dev/vda` → `254:0`; only a block device will do. */
function blockDevice(path: string, field: string): string {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw invalid(field, `no device ${path} on this machine`);
  }
  if (!stat.isBlockDevice()) throw invalid(field, `${path} is not a block device`);
  const { major, minor } = deviceNumbers(stat.rdev);
  return `${major}:${minor}`;
}

/** Linux's dev_t: major in bits 8–19 (and 32+), minor in bits 0–7 and 20–31. */
export function deviceNumbers(rdev: number): { major: number; minor: number } {
  return { major: ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) * 0x1000), minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}

/** The cgroup limits a spec asks for, checked against what this machine's cgroups offer. */
export function resolveLimits(limits: SpecLimits | undefined, cgroups: CgroupDriver): CgroupLimits {
  const resolved: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(limits ?? {})) {
    if (value === undefined) continue;
    if (key === 'deviceReadBps' || key === 'deviceWriteBps')
      resolved[key] = (value as Array<{ path: string; rate: number }>).map(({ path, rate }, index) => ({
        path,
        rate,
        device: blockDevice(path, `${key}.${index}.path`),
      }));
    else resolved[key] = value;
  }
  checkSupported(resolved as CgroupLimits, cgroups);
  return resolved as CgroupLimits;
}

export function checkSupported(limits: CgroupLimits, cgroups: CgroupDriver): void {
  const refusal = cgroups.unsupported(limits);
  if (refusal) throw invalid(refusal.field, refusal.message);
}
