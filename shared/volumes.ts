// Mounts a container asks for (`-v`, `--mount`, `--tmpfs`, the image's VOLUMEs) and the named
// volumes the agent keeps under its state root (`volumes/NAME/_data`), with Docker's names and
// semantics (issue 13).
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { UnitError, parseMemory } from './units.js';

/**
 * A volume's name: Docker's rule (a letter or digit, then letters, digits, `_ . -`), which keeps
 * it one path component under the state root; `..` anywhere is refused as well, so no name ever
 * reads as a way up.
 */
export const VolumeName = lazySchema(() =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(128, 'must be at most 128 characters')
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must start with a letter or digit and use only letters, digits, _ . - (no "/")')
    .refine((name) => !name.includes('..'), { message: 'must not contain ".."' }),
);
export type VolumeName = z.infer<typeof VolumeName>;

/**
 * A path inside the container. `:` is refused because `-v` cannot express it either and the
 * helper's compact `--mount` encoding uses it as the separator; `/` itself cannot be mounted over.
 */
const ContainerPath = lazySchema(() =>
  z
    .string()
    .min(2, 'must be an absolute path inside the container other than /')
    .max(4096)
    .startsWith('/', 'must be an absolute path inside the container')
    .refine((path) => !path.includes(':') && !path.includes('\0'), { message: 'must not contain ":" or a NUL byte' })
    .refine((path) => !path.split('/').includes('..'), { message: 'must not contain ".."' }),
);

const TmpfsSize = lazySchema(() =>
  z.union([z.string().max(32), z.number()]).transform((value, ctx) => {
    try {
      return parseMemory(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof UnitError ? error.message : String(error) });
      return z.NEVER;
    }
  }),
);

/** Where a container's mounts may not go: the kernel's own filesystems, which the helper mounts and masks. */
export const FORBIDDEN_TARGETS = ['/proc', '/sys'] as const;

/**
 * One mount, the same shape for all three kinds (Docker's `--mount`):
 * - `bind`: `source` is an absolute path on the machine; `createSource` makes it when missing (`-v`
 *   does, `--mount` refuses, as Docker);
 * - `volume`: `source` names a volume (created when missing); without one, a new anonymous volume;
 * - `tmpfs`: no source; `tmpfsSize` (bytes or `64m`), `tmpfsMode` (octal permission bits) and
 *   `tmpfsNoexec` (`--tmpfs /run:noexec`; every tmpfs is nosuid and nodev).
 */
export const MountSpec = lazySchema(() =>
  z
    .strictObject({
      type: z.enum(['bind', 'volume', 'tmpfs']),
      source: z.string().min(1).max(4096).optional(),
      target: ContainerPath,
      readonly: z.boolean().optional(),
      createSource: z.boolean().optional(),
      tmpfsSize: TmpfsSize.optional(),
      tmpfsMode: z.number().int().min(0).max(0o7777).optional(),
      tmpfsNoexec: z.boolean().optional(),
    })
    .superRefine((mount, ctx) => {
      const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
      if (mount.type === 'bind') {
        if (mount.source === undefined) issue('source', 'a bind mount needs a source path on the machine');
        else if (!mount.source.startsWith('/')) issue('source', `must be an absolute path on the machine: "${mount.source}"`);
        else if (mount.source.includes('\0')) issue('source', 'must not contain a NUL byte');
      }
      if (mount.type === 'volume' && mount.source !== undefined) {
        const name = VolumeName.safeParse(mount.source);
        if (!name.success) issue('source', `not a volume name: ${name.error.issues[0]?.message ?? ''}`);
      }
      if (mount.type === 'tmpfs' && mount.source !== undefined) issue('source', 'a tmpfs mount takes no source');
      if (mount.type !== 'tmpfs')
        for (const key of ['tmpfsSize', 'tmpfsMode', 'tmpfsNoexec'] as const)
          if (mount[key] !== undefined) issue(key, 'only a tmpfs mount takes a size, mode or noexec');
      if (mount.type !== 'bind' && mount.createSource !== undefined) issue('createSource', 'only a bind mount creates its source');
      for (const forbidden of FORBIDDEN_TARGETS)
        if (mount.target === forbidden || mount.target.startsWith(`${forbidden}/`))
          issue('target', `cannot mount over ${forbidden} (the kernel's own filesystem inside the container)`);
    }),
);
export type MountSpecInput = z.input<typeof MountSpec>;
export type MountSpec = z.infer<typeof MountSpec>;

/** A container's mounts: at most one per target (Docker: "Duplicate mount point"). */
export const MountList = lazySchema(() =>
  z
    .array(MountSpec)
    .max(256)
    .superRefine((mounts, ctx) => {
      const seen = new Set<string>();
      mounts.forEach((mount, index) => {
        const target = mount.target.replace(/\/+$/, '');
        if (seen.has(target)) ctx.addIssue({ code: 'custom', path: [index, 'target'], message: `duplicate mount point ${target}` });
        seen.add(target);
      });
    }),
);

/** A container's mount as inspect shows it (Docker's `Mounts`). */
export const MountPoint = lazySchema(() =>
  z.strictObject({
    type: z.enum(['bind', 'volume', 'tmpfs']),
    /** volume: its name. */
    name: z.string().max(128).optional(),
    /** bind: the path on the machine; volume: its data directory; tmpfs: none. */
    source: z.string().max(4096).optional(),
    /** A bind of a desktop folder through a share (shared/shares.ts): the desktop's path behind `source`. */
    desktopPath: z.string().max(4096).optional(),
    target: z.string().max(4096),
    readonly: z.boolean(),
  }),
);
export type MountPoint = z.infer<typeof MountPoint>;

export const VolumeSummary = lazySchema(() =>
  z.strictObject({
    name: VolumeName,
    createdAt: z.string().max(64),
    /** Made for one container (`-v /data`, an image's VOLUME); `rm -v` and `--rm` remove it with the container. */
    anonymous: z.boolean(),
    /** Its data directory on the machine. */
    mountpoint: z.string().max(4096),
    labels: z.record(z.string().max(1024), z.string().max(65536)),
    /** Names of the containers whose mounts use it (running or not). */
    containers: z.array(z.string().max(128)).max(100_000),
    /** Bytes on disk (du), when asked for. */
    size: z.number().int().nonnegative().optional(),
  }),
);
export type VolumeSummary = z.infer<typeof VolumeSummary>;

const VolumeRef = lazySchema(() => z.strictObject({ volume: VolumeName }));

export const VolumePruneResult = lazySchema(() =>
  z.strictObject({
    dryRun: z.boolean(),
    volumes: z.array(z.string().max(128)).max(100_000),
    /** Bytes freed (or that would be), counted as system.df counts them. */
    reclaimed: z.number().int().nonnegative(),
  }),
);
export type VolumePruneResult = z.infer<typeof VolumePruneResult>;

export const volumeMethods = {
  /** A named volume (anonymous with a random name when none is given); an existing name answers that volume, as Docker does. */
  'volumes.create': {
    params: lazySchema(() =>
      z.strictObject({ name: VolumeName.optional(), labels: z.record(z.string().max(1024), z.string().max(65536)).optional() }).optional(),
    ),
    result: VolumeSummary,
  },
  'volumes.list': {
    params: lazySchema(() => z.strictObject({ size: z.boolean().optional() }).optional()),
    result: lazySchema(() => z.array(VolumeSummary)),
  },
  'volumes.inspect': { params: VolumeRef, result: VolumeSummary },
  /** Refused while a container uses it (naming them), even with force: remove the containers first. */
  'volumes.remove': { params: VolumeRef, result: lazySchema(() => z.strictObject({ name: z.string().max(128) })) },
  /** Volumes no container uses: anonymous ones, or with `all` named ones too (Docker 23's rule). */
  'volumes.prune': {
    params: lazySchema(() => z.strictObject({ all: z.boolean().optional(), dryRun: z.boolean().optional() }).optional()),
    result: VolumePruneResult,
  },
} as const;
