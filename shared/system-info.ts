import { z } from 'zod';

export const CgroupController = z.strictObject({
  name: z.string().max(64),
  /** Which hierarchy serves it: a v1 per-controller mount or the v2 unified tree. */
  version: z.union([z.literal(1), z.literal(2)]),
  mountPoint: z.string().max(4096),
});

export const CgroupInfo = z.strictObject({
  /** The hierarchy limits are applied through: 2 only when cpu, memory and pids live in cgroup2. */
  version: z.union([z.literal(1), z.literal(2)]),
  /** `unified` (pure v2), `hybrid` (v1 controllers plus a cgroup2 tree), `legacy` (v1 only). */
  mode: z.enum(['unified', 'hybrid', 'legacy']),
  /** What `/sys/fs/cgroup` itself is: `cgroup2` on unified hosts, `tmpfs` holding v1 mounts otherwise. */
  rootFsType: z.string().max(64),
  controllers: z.array(CgroupController).max(64),
});
export type CgroupInfo = z.infer<typeof CgroupInfo>;

export const Distro = z.strictObject({
  id: z.string().max(128),
  name: z.string().max(256),
  version: z.string().max(128),
  prettyName: z.string().max(256),
});

export const SystemInfo = z.strictObject({
  hostname: z.string().max(255),
  kernelRelease: z.string().max(256),
  kernelVersion: z.string().max(512),
  /** `uname -m` as the kernel says it (`x86_64`, `aarch64`). */
  machine: z.string().max(64),
  /** Normalised for bundles and images: `amd64` or `arm64`. */
  arch: z.string().max(64),
  distro: Distro,
  cgroup: CgroupInfo,
  cpus: z.number().int().nonnegative(),
  memoryBytes: z.number().int().nonnegative(),
  uptimeSeconds: z.number().nonnegative(),
  agent: z.strictObject({
    version: z.string().max(64),
    buildId: z.string().max(128),
    pid: z.number().int().positive(),
    startedAt: z.string().max(64),
  }),
});
export type SystemInfo = z.infer<typeof SystemInfo>;
