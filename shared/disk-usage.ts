// Disk use on a machine and pruning what nothing uses: `system.df`, `images.prune`,
// `containers.prune`, `system.prune` (issue 21). The window's disk panel and the CLI show the same
// numbers. Sizes are bytes on disk as `du -s -x -B1` counts them (allocated blocks, hard links once).
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { ContainerId, ContainerSummary } from './containers.js';
import { Digest } from './images.js';

/** What disk use is split into (the result is a list of rows keyed by type). */
export const DiskUsageType = lazySchema(() => z.enum(['images', 'containers', 'logs', 'volumes']));
export type DiskUsageType = z.infer<typeof DiskUsageType>;

const Bytes = lazySchema(() => z.number().int().nonnegative());
const Count = lazySchema(() => z.number().int().nonnegative());

/** One row of `docker system df`. */
export const DiskUsageRow = lazySchema(() =>
  z.strictObject({
    type: DiskUsageType,
    total: Count,
    /** Images a container uses; running containers; logs of running containers. */
    active: Count,
    size: Bytes,
    /** What prune (`system prune -a` for images) would free. */
    reclaimable: Bytes,
  }),
);
export type DiskUsageRow = z.infer<typeof DiskUsageRow>;

export const ImageDiskUsage = lazySchema(() =>
  z.strictObject({
    id: Digest,
    names: z.array(z.string().max(512)).max(256),
    /** Its layers' bytes, shared ones included. */
    size: Bytes,
    /** Bytes of its layers that other images use too. */
    shared: Bytes,
    /** Containers that use it (it is never pruned while any does). */
    containers: Count,
  }),
);

export const ContainerDiskUsage = lazySchema(() =>
  ContainerSummary.pick({ id: true, name: true, image: true, state: true }).extend({
    /** The container's directory (its writable upper layer, overlay work dir, records) without its logs. */
    size: Bytes,
    /** Every `log.jsonl*` file (the current log and rotated ones). */
    logs: Bytes,
  }),
);

export const VolumeDiskUsage = lazySchema(() =>
  z.strictObject({
    name: z.string().max(128),
    anonymous: z.boolean(),
    /** Containers whose mounts use it (it is never pruned while any does). */
    containers: Count,
    size: Bytes,
  }),
);

export const DiskUsage = lazySchema(() =>
  z.strictObject({
    rows: z.array(DiskUsageRow).max(16),
    images: z.array(ImageDiskUsage).max(100_000),
    containers: z.array(ContainerDiskUsage).max(100_000),
    /** Absent from an agent that has no volumes. */
    volumes: z.array(VolumeDiskUsage).max(100_000).optional(),
  }),
);
export type DiskUsage = z.infer<typeof DiskUsage>;

const PruneParams = lazySchema(() =>
  z.strictObject({
    /** Only say what would be removed (and the space it holds). */
    dryRun: z.boolean().optional(),
  }),
);
const ImagePruneParams = PruneParams.extend({
  /** Every image no container uses, not only the dangling (nameless) ones. */
  all: z.boolean().optional(),
});

export const PruneResult = lazySchema(() =>
  z.strictObject({
    dryRun: z.boolean(),
    containers: z.array(z.strictObject({ id: ContainerId, name: z.string().max(128) })).max(100_000),
    images: z.array(z.strictObject({ id: Digest, names: z.array(z.string().max(512)).max(256) })).max(100_000),
    /** Volume names (system.prune with `volumes`). */
    volumes: z.array(z.string().max(128)).max(100_000).optional(),
    /** Bytes freed (or that would be), counted as system.df counts them. */
    reclaimed: Bytes,
  }),
);
export type PruneResult = z.infer<typeof PruneResult>;

export const diskMethods = {
  'system.df': { params: lazySchema(() => z.strictObject({}).optional()), result: DiskUsage },
  /** Removes stopped containers: exited and created ones (as Docker does), never running ones. */
  'containers.prune': { params: PruneParams.optional(), result: PruneResult },
  /** Removes dangling images (no name, no container), or with `all` every image no container uses. */
  'images.prune': { params: ImagePruneParams.optional(), result: PruneResult },
  /** containers.prune, then images.prune (so images only pruned containers used go too), then with `volumes` volumes.prune. */
  'system.prune': {
    params: ImagePruneParams.extend({
      /** Unused anonymous volumes too (`system prune --volumes`; with `all`, every unused volume). */
      volumes: z.boolean().optional(),
    }).optional(),
    result: PruneResult,
  },
} as const;
