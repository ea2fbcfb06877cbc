import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';

export const CgroupController = lazySchema(() =>
  z.strictObject({
    name: z.string().max(64),
    /** Which hierarchy serves it: a v1 per-controller mount or the v2 unified tree. */
    version: z.union([z.literal(1), z.literal(2)]),
    mountPoint: z.string().max(4096),
  }),
);

export const CgroupInfo = lazySchema(() =>
  z.strictObject({
    /** The hierarchy limits are applied through: 2 only when cpu, memory and pids live in cgroup2. */
    version: z.union([z.literal(1), z.literal(2)]),
    /** `unified` (pure v2), `hybrid` (v1 controllers plus a cgroup2 tree), `legacy` (v1 only). */
    mode: z.enum(['unified', 'hybrid', 'legacy']),
    /** What `/sys/fs/cgroup` itself is: `cgroup2` on unified hosts, `tmpfs` holding v1 mounts otherwise. */
    rootFsType: z.string().max(64),
    controllers: z.array(CgroupController).max(64),
  }),
);
export type CgroupInfo = z.infer<typeof CgroupInfo>;

export const Distro = lazySchema(() =>
  z.strictObject({
    id: z.string().max(128),
    name: z.string().max(256),
    version: z.string().max(128),
    prettyName: z.string().max(256),
  }),
);

/** Namespace inodes by kind (`readlink /proc/PID/ns/KIND` → `net:[4026531840]`). */
export const NamespaceInodes = lazySchema(() => z.record(z.string().max(16), z.number().int().nonnegative()));

/**
 * The namespaces a container is compared with. `machine` is PID 1's (the namespaces a login on the
 * machine lands in: sshd and the shells it starts are PID 1's children), read by the agent as
 * `/proc/1/ns/*`; where the agent cannot read them it reports its own and says so (`machineFrom`).
 * `agent` is the agent's own, which containers start from: under systemd a unit with PrivateTmp or
 * ProtectSystem gets a mount namespace of its own, and an agent run inside a netns or a container
 * differs from PID 1 in those kinds.
 */
export const MachineNamespaces = lazySchema(() =>
  z.strictObject({
    machine: NamespaceInodes,
    machineFrom: z.enum(['init', 'agent']),
    agent: NamespaceInodes,
  }),
);
export type MachineNamespaces = z.infer<typeof MachineNamespaces>;

export const SystemInfo = lazySchema(() =>
  z.strictObject({
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
    /** Absent from agents older than this field. */
    namespaces: MachineNamespaces.optional(),
  }),
);
export type SystemInfo = z.infer<typeof SystemInfo>;
