// Docker's finer resource options (`--cpuset-cpus`, `--cpu-shares`, `--memory-swap`,
// `--blkio-weight`, `--device-read-bps`, `--device-write-bps`), checked once for the CLI, the window
// and the agent. Ranges are Docker's; the agent maps them onto cgroup v1 or v2 files.
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { UnitError, parseMemory } from './units.js';

const CPU_LIST = /^\d{1,4}(-\d{1,4})?(,\d{1,4}(-\d{1,4})?)*$/;

/** `0-3`, `0,2`, `1-2,5`: CPUs the container may run on (cpuset.cpus). */
export const CpusetCpus = lazySchema(() =>
  z
    .string()
    .max(256)
    .regex(CPU_LIST, 'must be a CPU list such as 0-3 or 0,2')
    .refine((text) => !CPU_LIST.test(text) || text.split(',').every((range) => cpuRange(range)[0] <= cpuRange(range)[1]), {
      message: 'has a range whose start is above its end',
    }),
);

/** The CPUs a list names, e.g. `0-2,5` → [0, 1, 2, 5]. */
export function cpusetList(text: string): number[] {
  const cpus = new Set<number>();
  for (const range of text.split(',')) {
    const [from, to] = cpuRange(range);
    for (let cpu = from; cpu <= to; cpu += 1) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

function cpuRange(range: string): [number, number] {
  const [from = '0', to = from] = range.split('-');
  return [Number(from), Number(to)];
}

/** A relative CPU weight (cpu.shares on v1; cpu.weight on v2 after Docker's mapping); Docker's range. */
export const CpuShares = lazySchema(() => z.number().int().min(2, 'must be at least 2').max(262_144, 'must be at most 262144'));

/** Memory plus swap in bytes (or a size such as `1g`); -1 means unlimited swap, as in Docker. */
export const MemorySwap = lazySchema(() =>
  z.union([z.string().max(32), z.number()]).transform((value, ctx) => {
    if (value === -1 || value === '-1') return -1;
    try {
      return parseMemory(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof UnitError ? error.message : String(error) });
      return z.NEVER;
    }
  }),
);

/** Relative block-IO weight, Docker's range (0 there means "not set": leave the option out instead). */
export const BlkioWeight = lazySchema(() => z.number().int().min(10, 'must be from 10 to 1000').max(1000, 'must be from 10 to 1000'));

/** One `--device-read-bps /dev/sda:1mb`: a block device on the machine and bytes per second. */
export const DeviceRate = lazySchema(() =>
  z.strictObject({
    path: z.string().max(4096).startsWith('/dev/', 'must be a device under /dev/'),
    rate: z.union([z.string().max(32), z.number()]).transform((value, ctx) => {
      try {
        return parseMemory(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof UnitError ? error.message : String(error) });
        return z.NEVER;
      }
    }),
  }),
);
export type DeviceRate = z.infer<typeof DeviceRate>;
export const DeviceRates = lazySchema(() => z.array(DeviceRate).max(64));

/** `PATH:RATE` as typed after `--device-read-bps`. */
export function parseDeviceRate(text: string): { path: string; rate: string } {
  const at = text.lastIndexOf(':');
  if (at <= 0 || at === text.length - 1) throw new UnitError(`"${text}" is not DEVICE:RATE (e.g. /dev/sda:1mb)`);
  return { path: text.slice(0, at), rate: text.slice(at + 1) };
}

/** The fields ResourceLimits gains from these options (spread into its shape). */
export const ResourceOptionFields = {
  cpusetCpus: CpusetCpus.optional(),
  cpuShares: CpuShares.optional(),
  memorySwap: MemorySwap.optional(),
  blkioWeight: BlkioWeight.optional(),
  deviceReadBps: DeviceRates.optional(),
  deviceWriteBps: DeviceRates.optional(),
};

/** Docker's rule: a swap limit needs a memory limit, and covers at least that memory. */
export function checkMemorySwap(limits: { memory?: number | undefined; memorySwap?: number | undefined }, ctx: z.RefinementCtx): void {
  if (limits.memorySwap === undefined || limits.memorySwap === -1) return;
  if (limits.memory === undefined)
    ctx.addIssue({ code: 'custom', path: ['memorySwap'], message: 'needs a memory limit too (memory-swap is memory plus swap)' });
  else if (limits.memorySwap < limits.memory)
    ctx.addIssue({ code: 'custom', path: ['memorySwap'], message: 'must be at least the memory limit (it is memory plus swap)' });
}
