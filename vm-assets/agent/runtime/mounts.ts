// A container's mounts, from what was asked (`-v`, `--mount`, `--tmpfs`) and the image's VOLUMEs
// to what its record keeps and the init helper makes. At create they are planned first — every
// check, nothing touched — so a refused request leaves nothing behind; then made (missing `-v`
// host paths, named and anonymous volumes), and what was made is undone if the create fails later.
import { mkdir, realpath, rmdir } from 'node:fs/promises';
import { posix } from 'node:path';
import * as z from 'zod';
import { lazySchema } from '../../../shared/lazy-schema.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { desktopPathOf } from '../../../shared/shares.js';
import { FORBIDDEN_TARGETS, type MountPoint, type MountSpec } from '../../../shared/volumes.js';
import type { VolumeStore } from '../volumes/store.js';
import type { HelperMount } from './helper-protocol.js';

/** A mount as the container's record keeps it: volumes by name (anonymous ones got theirs at create). */
export const ResolvedMount = lazySchema(() =>
  z.strictObject({
    type: z.enum(['bind', 'volume', 'tmpfs']),
    target: z.string(),
    /** bind: the path on the machine; volume: its name; tmpfs: none. */
    source: z.string().optional(),
    readonly: z.boolean(),
    /** A volume made for this container alone: `rm -v` and `--rm` remove it with the container. */
    anonymous: z.boolean().optional(),
    tmpfsSize: z.number().int().positive().optional(),
    tmpfsMode: z.number().int().min(0).max(0o7777).optional(),
    tmpfsNoexec: z.boolean().optional(),
  }),
);
export type ResolvedMount = z.infer<typeof ResolvedMount>;

/**
 * Machine paths no container may bind: the kernel's filesystems (a container writing the machine's
 * /proc/sys or /dev would own it; `--privileged` is the security issue's), and the agent's state
 * root, where the records of every container and the volumes' data live.
 */
const FORBIDDEN_SOURCES = ['/proc', '/sys', '/dev'] as const;

export interface MountContext {
  /** Absent: volumes are unavailable (the agent could not open their directory). */
  volumes: VolumeStore | undefined;
  /** The agent's state directory (containers/, images/, volumes/ …). */
  stateDir: string;
}

/** What a plan is made into: host directories `-v` creates, volumes that do not exist yet. */
interface PlannedMount {
  mount: ResolvedMount;
  /** bind with a missing source that `-v` creates. */
  createSource?: boolean;
}

/** What makeMounts created, for undoMounts. */
export interface MadeMounts {
  dirs: string[];
  volumes: string[];
}

const within = (path: string, root: string): boolean => path === root || root === '/' || path.startsWith(`${root}/`);

function invalid(index: number, field: string, message: string): OnggiError {
  return new OnggiError(ErrorCode.InvalidParams, 'invalid_params', message, `params.mounts.${index}.${field}`);
}

/** `path` with its symlinks resolved as far as it exists (where a bind of it would land), and whether all of it exists. */
async function realHostPath(path: string): Promise<{ real: string; exists: boolean }> {
  const missing: string[] = [];
  for (let existing = path; ; existing = posix.dirname(existing)) {
    try {
      return { real: posix.join(await realpath(existing), ...missing), exists: missing.length === 0 };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || existing === '/') throw error;
      missing.unshift(posix.basename(existing));
    }
  }
}

/**
 * Checks every mount and the image's VOLUMEs against the machine, touching nothing; throws an
 * error naming the mount's field for what cannot be mounted.
 */
export async function planMounts(
  mounts: readonly MountSpec[],
  imageVolumes: readonly string[],
  ctx: MountContext,
): Promise<PlannedMount[]> {
  const planned: PlannedMount[] = [];
  // Only a bind needs it: a create without one costs no syscall here.
  const stateDir = mounts.some((m) => m.type === 'bind') ? (await realHostPath(posix.resolve(ctx.stateDir))).real : '';
  for (const [index, spec] of mounts.entries()) {
    const base = { target: posix.resolve(spec.target), readonly: spec.readonly ?? false };
    if (spec.type === 'bind') {
      const source = posix.resolve(spec.source ?? '/');
      const { real, exists } = await realHostPath(source);
      // A bind is recursive: a folder above one of these (`/`, `/var/lib`) would carry it in too.
      for (const path of new Set([source, real])) {
        const forbidden = FORBIDDEN_SOURCES.find((root) => within(path, root) || within(root, path));
        if (forbidden) throw invalid(index, 'source', `cannot bind ${source}: ${forbidden} of the machine is not given to containers`);
        if (within(path, stateDir))
          throw invalid(index, 'source', `cannot bind ${source}: it is inside the agent's state directory ${stateDir}`);
        if (within(stateDir, path))
          throw invalid(index, 'source', `cannot bind ${source}: it holds the agent's state directory ${stateDir}`);
      }
      // Docker's words: `--mount` refuses a missing path, `-v` makes it.
      if (!exists && !spec.createSource) throw invalid(index, 'source', `bind source path does not exist: ${source}`);
      planned.push({ mount: { type: 'bind', source, ...base }, createSource: !exists });
    } else if (spec.type === 'volume') {
      if (!ctx.volumes) throw new OnggiError(ErrorCode.Unavailable, 'volumes_unavailable', 'volumes are unavailable on this machine');
      planned.push({ mount: { type: 'volume', ...base, ...(spec.source ? { source: spec.source } : { anonymous: true }) } });
    } else {
      planned.push({
        mount: {
          type: 'tmpfs',
          ...base,
          ...(spec.tmpfsSize !== undefined ? { tmpfsSize: spec.tmpfsSize } : {}),
          ...(spec.tmpfsMode !== undefined ? { tmpfsMode: spec.tmpfsMode } : {}),
          ...(spec.tmpfsNoexec ? { tmpfsNoexec: true } : {}),
        },
      });
    }
  }
  // Each VOLUME no mount covers becomes an anonymous volume, as Docker does; one the helper could
  // not mount (a path over /proc, or with a ":") is left out rather than failing every run of the image.
  const covered = new Set(planned.map((p) => p.mount.target));
  for (const declared of imageVolumes) {
    const target = posix.resolve('/', declared);
    const unusable = target === '/' || target.includes(':') || FORBIDDEN_TARGETS.some((root) => within(target, root));
    if (unusable || covered.has(target)) continue;
    if (!ctx.volumes) throw new OnggiError(ErrorCode.Unavailable, 'volumes_unavailable', 'volumes are unavailable on this machine');
    covered.add(target);
    planned.push({ mount: { type: 'volume', target, readonly: false, anonymous: true } });
  }
  // Parents before what goes inside them (Docker sorts by the target's depth too).
  const depth = (path: string) => path.split('/').length;
  return planned.sort((a, b) => depth(a.mount.target) - depth(b.mount.target));
}

/** Makes what a plan needs; what was made is pushed to `made` as it happens, for undoMounts. */
export async function makeMounts(plan: readonly PlannedMount[], ctx: MountContext, made: MadeMounts): Promise<ResolvedMount[]> {
  const mounts: ResolvedMount[] = [];
  for (const { mount, createSource } of plan) {
    if (mount.type === 'bind' && createSource && mount.source) {
      // Docker makes a missing `-v` source as a directory; mkdir answers the first one it made.
      const first = await mkdir(mount.source, { recursive: true, mode: 0o755 });
      for (let dir = mount.source; first && within(dir, first); dir = posix.dirname(dir)) made.dirs.push(dir);
    }
    if (mount.type === 'volume' && ctx.volumes) {
      const { record, created } = await ctx.volumes.create(mount.source, { anonymous: mount.anonymous ?? false });
      if (created) made.volumes.push(record.name);
      mounts.push({ ...mount, source: record.name });
      continue;
    }
    mounts.push(mount);
  }
  return mounts;
}

/** Removes what makeMounts made for a create that then failed. */
export async function undoMounts(made: MadeMounts, ctx: MountContext): Promise<void> {
  for (const name of made.volumes) await ctx.volumes?.remove(name);
  // Only the directories this create made, deepest first, each only while still empty (rmdir).
  for (const dir of made.dirs) {
    // Not empty or gone: then it holds something that is not ours to remove, or nothing at all.
    await rmdir(dir).catch(() => undefined);
  }
}

/** The mounts as inspect shows them: volumes with their data directory, binds of desktop folders with the desktop's path. */
export function mountPoints(
  mounts: readonly ResolvedMount[],
  volumes: VolumeStore | undefined,
  labels?: Readonly<Record<string, string>>,
): MountPoint[] {
  return mounts.map((mount) => {
    const desktopPath = mount.type === 'bind' ? desktopPathOf(labels, mount) : undefined;
    return {
      type: mount.type,
      ...(mount.type === 'volume' && mount.source ? { name: mount.source } : {}),
      ...(mount.type === 'bind' && mount.source ? { source: mount.source } : {}),
      ...(desktopPath !== undefined ? { desktopPath } : {}),
      ...(mount.type === 'volume' && mount.source && volumes ? { source: volumes.dataDir(mount.source) } : {}),
      target: mount.target,
      readonly: mount.readonly,
    };
  });
}

/** The helper's mounts: a volume is a bind of its data directory, filled from the image while empty (Docker's copy-up). */
export function helperMounts(mounts: readonly ResolvedMount[], volumes: VolumeStore | undefined): HelperMount[] {
  return mounts.map((mount) => {
    if (mount.type === 'tmpfs')
      return {
        type: 'tmpfs',
        target: mount.target,
        readonly: mount.readonly,
        ...(mount.tmpfsSize !== undefined ? { size: mount.tmpfsSize } : {}),
        ...(mount.tmpfsMode !== undefined ? { mode: mount.tmpfsMode } : {}),
        ...(mount.tmpfsNoexec ? { noexec: true } : {}),
      };
    if (mount.type === 'bind') return { type: 'bind', target: mount.target, source: mount.source ?? '', readonly: mount.readonly };
    if (!volumes) throw new OnggiError(ErrorCode.Unavailable, 'volumes_unavailable', 'volumes are unavailable on this machine');
    return { type: 'bind', target: mount.target, source: volumes.dataDir(mount.source ?? ''), readonly: mount.readonly, copyUp: true };
  });
}
