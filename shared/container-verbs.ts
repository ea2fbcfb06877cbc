// The container verbs beyond the lifecycle (pause, update, top, diff, rename, …): their agent RPC
// methods. Kept apart from containers.ts, which every other change also touches.
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { ContainerSelector, ContainerSummary, CpuLimit, MemoryLimit } from './containers.js';
import { ResourceName } from './names.js';
import { BlkioWeight, CpuShares, CpusetCpus, MemorySwap, checkMemorySwap } from './resource-options.js';

const Ref = lazySchema(() => z.strictObject({ container: ContainerSelector }));

/** What `update` may change on a running (or stopped) container; kept for its next starts too. */
export const ContainerUpdate = lazySchema(() =>
  z
    .strictObject({
      container: ContainerSelector,
      cpus: CpuLimit.optional(),
      memory: MemoryLimit.optional(),
      memorySwap: MemorySwap.optional(),
      pids: z.number().int().min(1).max(4_194_304).optional(),
      cpuShares: CpuShares.optional(),
      cpusetCpus: CpusetCpus.optional(),
      blkioWeight: BlkioWeight.optional(),
    })
    .superRefine(checkMemorySwap)
    .refine((update) => Object.keys(update).length > 1, { message: 'names nothing to change', path: ['container'] }),
);
export type ContainerUpdate = z.infer<typeof ContainerUpdate>;

/** One process of a container, numbered both ways (`top`). */
export const ContainerProcess = lazySchema(() =>
  z.strictObject({
    /** As the container sees it (the last NSpid of /proc/PID/status). */
    pid: z.number().int().positive(),
    /** As the machine's kernel numbers it. */
    hostPid: z.number().int().positive(),
    /** The parent, in the container's numbering (0 for the container's init). */
    ppid: z.number().int().nonnegative(),
    uid: z.number().int().nonnegative(),
    /** The uid's name in the container's /etc/passwd, else the number. */
    user: z.string().max(256),
    command: z.string().max(65536),
  }),
);
export type ContainerProcess = z.infer<typeof ContainerProcess>;

/** One change of the container's filesystem against its image (`diff`): Added, Changed, Deleted. */
export const FileChange = lazySchema(() => z.strictObject({ kind: z.enum(['A', 'C', 'D']), path: z.string().max(4096) }));
export type FileChange = z.infer<typeof FileChange>;

/** A path on the machine the agent runs on (where `cp` and `export` read and write files). */
const MachinePath = lazySchema(() => z.string().min(1).max(4096).startsWith('/', 'must be an absolute path on the machine'));
/** A path inside the container (resolved with its rootfs as `/`). */
const ContainerPath = lazySchema(() => z.string().min(1, 'must not be empty').max(4096));

export const containerVerbMethods = {
  'containers.pause': { params: Ref, result: ContainerSummary },
  'containers.unpause': { params: Ref, result: ContainerSummary },
  /** Changes limits live (cgroup files) and in the record; answers the limit files written. */
  'containers.update': {
    params: ContainerUpdate,
    result: lazySchema(() => z.strictObject({ container: ContainerSummary, written: z.record(z.string(), z.string()) })),
  },
  'containers.top': { params: Ref, result: lazySchema(() => z.strictObject({ processes: z.array(ContainerProcess) })) },
  'containers.diff': { params: Ref, result: lazySchema(() => z.strictObject({ changes: z.array(FileChange) })) },
  'containers.rename': {
    params: lazySchema(() => z.strictObject({ container: ContainerSelector, name: ResourceName })),
    result: ContainerSummary,
  },
  /** `cp CONTAINER:PATH DEST`: into DEST when it is a directory; answers where it landed. */
  'containers.copyFrom': {
    params: lazySchema(() => z.strictObject({ container: ContainerSelector, path: ContainerPath, dest: MachinePath })),
    result: lazySchema(() => z.strictObject({ dest: z.string() })),
  },
  /** `cp SOURCE CONTAINER:PATH`: into PATH when it is a directory in the container. */
  'containers.copyTo': {
    params: lazySchema(() => z.strictObject({ container: ContainerSelector, source: MachinePath, path: ContainerPath })),
    result: lazySchema(() => z.strictObject({ path: z.string() })),
  },
  /** `export`: the container's filesystem as a tar written to DEST. */
  'containers.export': {
    params: lazySchema(() => z.strictObject({ container: ContainerSelector, dest: MachinePath })),
    result: lazySchema(() => z.strictObject({ dest: z.string() })),
  },
} as const;
