// `system df` and the prune verbs over the image store and the container runtime: what each
// holds on disk (counted like du, see du.ts), what nothing uses, and removing that.
//
// Prune removes through the same calls as `rm` and `image rm`, so their rules hold: a container
// that started meanwhile is refused (running), an image a container took meanwhile is refused
// (in use); prune skips those instead of failing. Reclaimed bytes are measured just before each
// removal, so they are the bytes that removal freed, counted as system.df counts them.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerSummary } from '../../../shared/containers.js';
import type { DiskUsage, DiskUsageRow, PruneResult } from '../../../shared/disk-usage.js';
import { OnggiError } from '../../../shared/errors.js';
import type { ImageStore } from '../images/store.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { LOG_DIR } from '../runtime/container-record.js';
import type { VolumeService } from '../volumes/handlers.js';
import { diskUsage } from './du.js';

/** A container's log files: the current one and rotated ones (`log.jsonl.1`, …). */
export const isLogFile = (name: string): boolean => name.startsWith('log.jsonl');

/** Docker's `container prune` removes created containers too (never started): so do we. */
const PRUNABLE: ReadonlySet<ContainerSummary['state']> = new Set(['exited', 'created']);

type Container = ContainerSummary & { dir: string };

export interface DiskSources {
  /** An Error where containers cannot run on this machine (then there are none to count). */
  runtime: ContainerRuntime | Error;
  images: ImageStore | Error;
  /** An Error where volumes are unavailable (then there are none to count). */
  volumes?: VolumeService | Error;
}

export class DiskService {
  constructor(private readonly sources: DiskSources) {}

  private containers(): Container[] {
    return this.sources.runtime instanceof Error ? [] : this.sources.runtime.directories();
  }

  private store(): ImageStore | undefined {
    return this.sources.images instanceof Error ? undefined : this.sources.images;
  }

  async df(): Promise<DiskUsage> {
    const store = this.store();
    const containers = this.containers();
    const records = store?.snapshot() ?? [];
    const usersOf = (id: string) => containers.filter((c) => c.imageId === id).length;
    // Each layer once, however many images list it.
    const layerBytes = new Map<string, number>();
    const layerImages = new Map<string, number>();
    for (const record of records)
      for (const diffId of new Set(record.layers.map((l) => l.diffId))) layerImages.set(diffId, (layerImages.get(diffId) ?? 0) + 1);
    for (const diffId of layerImages.keys()) layerBytes.set(diffId, store ? await diskUsage(store.layerDir(diffId)) : 0);
    const activeLayers = new Set(records.filter((r) => usersOf(r.id) > 0).flatMap((r) => r.layers.map((l) => l.diffId)));
    const images = records.map((record) => {
      const layers = [...new Set(record.layers.map((l) => l.diffId))];
      const bytes = (ids: string[]) => ids.reduce((sum, d) => sum + (layerBytes.get(d) ?? 0), 0);
      return {
        id: record.id,
        names: [...record.names],
        size: bytes(layers),
        shared: bytes(layers.filter((d) => (layerImages.get(d) ?? 0) > 1)),
        containers: usersOf(record.id),
      };
    });
    const sized = await Promise.all(containers.map(async (c) => ({ container: c, ...(await containerUsage(c.dir)) })));
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const volumeService = this.sources.volumes instanceof Error ? undefined : this.sources.volumes;
    const volumes = (await volumeService?.list(true)) ?? [];
    const prunable = sized.filter((s) => PRUNABLE.has(s.container.state));
    const rows: DiskUsageRow[] = [
      {
        type: 'images',
        total: records.length,
        active: images.filter((i) => i.containers > 0).length,
        size: sum([...layerBytes.values()]),
        reclaimable: sum([...layerBytes].filter(([d]) => !activeLayers.has(d)).map(([, b]) => b)),
      },
      {
        type: 'containers',
        total: sized.length,
        active: sized.filter((s) => s.container.state === 'running').length,
        size: sum(sized.map((s) => s.size)),
        reclaimable: sum(prunable.map((s) => s.size)),
      },
      {
        type: 'logs',
        total: sized.filter((s) => s.logFiles > 0).length,
        active: sized.filter((s) => s.logFiles > 0 && s.container.state === 'running').length,
        size: sum(sized.map((s) => s.logs)),
        reclaimable: sum(prunable.map((s) => s.logs)),
      },
      {
        type: 'volumes',
        total: volumes.length,
        active: volumes.filter((v) => v.containers.length > 0).length,
        size: sum(volumes.map((v) => v.size ?? 0)),
        // As Docker counts it: every volume no container uses (`volume prune -a` frees it all).
        reclaimable: sum(volumes.filter((v) => v.containers.length === 0).map((v) => v.size ?? 0)),
      },
    ];
    return {
      rows,
      images,
      containers: sized.map(({ container: c, size, logs }) => ({ id: c.id, name: c.name, image: c.image, state: c.state, size, logs })),
      volumes: volumes.map((v) => ({ name: v.name, anonymous: v.anonymous, containers: v.containers.length, size: v.size ?? 0 })),
    };
  }

  /** Stopped containers (exited, created); never running ones. */
  async pruneContainers({ dryRun = false } = {}): Promise<PruneResult> {
    const result: PruneResult = { dryRun, containers: [], images: [], reclaimed: 0 };
    const runtime = this.sources.runtime;
    for (const container of this.containers().filter((c) => PRUNABLE.has(c.state))) {
      const usage = await containerUsage(container.dir);
      if (!dryRun && !(runtime instanceof Error)) {
        const removed = await runtime.remove(container.id, false).catch(skipRefused);
        if (!removed) continue;
      }
      result.containers.push({ id: container.id, name: container.name });
      result.reclaimed += usage.size + usage.logs;
    }
    return result;
  }

  /**
   * Dangling images (no name) no container uses, or with `all` every image no container uses.
   * `goneContainers`: containers a dry run of system prune would remove first (their images count as unused).
   */
  async pruneImages({ all = false, dryRun = false } = {}, goneContainers: ReadonlySet<string> = new Set()): Promise<PruneResult> {
    const result: PruneResult = { dryRun, containers: [], images: [], reclaimed: 0 };
    const store = this.store();
    if (!store) return result;
    const used = new Set(
      this.containers()
        .filter((c) => !goneContainers.has(c.id))
        .map((c) => c.imageId),
    );
    const doomed = store.snapshot().filter((r) => !used.has(r.id) && (all || r.names.length === 0));
    const doomedIds = new Set(doomed.map((r) => r.id));
    const counted = new Set<string>();
    for (const record of doomed) {
      let freed: string[];
      if (dryRun) {
        // Layers no surviving image lists, each counted once.
        const surviving = new Set(
          store
            .snapshot()
            .filter((r) => !doomedIds.has(r.id))
            .flatMap((r) => r.layers.map((l) => store.layerDir(l.diffId))),
        );
        freed = record.layers.map((l) => store.layerDir(l.diffId)).filter((d) => !surviving.has(d) && !counted.has(d));
      } else {
        // A name given meanwhile makes a dangling image wanted again.
        if (!all && store.snapshot().find((r) => r.id === record.id)?.names.length !== 0) continue;
        freed = store.layersOnlyIn(record.id);
      }
      const bytes = await sumUsage(freed);
      if (!dryRun) {
        const removed = await store.remove(record.id, true).catch(skipRefused);
        if (!removed) continue;
      }
      for (const dir of freed) counted.add(dir);
      result.images.push({ id: record.id, names: [...record.names] });
      result.reclaimed += bytes;
    }
    return result;
  }

  /**
   * Containers first, then images: an image only pruned containers used is unused by then. With
   * `volumes`, unused anonymous volumes last (Docker's `system prune --volumes`; named ones are
   * only ever removed by name or `volume prune -a`).
   */
  async pruneSystem({ all = false, dryRun = false, volumes = false } = {}): Promise<PruneResult> {
    const containers = await this.pruneContainers({ dryRun });
    const images = await this.pruneImages({ all, dryRun }, new Set(dryRun ? containers.containers.map((c) => c.id) : []));
    const service = volumes && !(this.sources.volumes instanceof Error) ? this.sources.volumes : undefined;
    const pruned = (await service?.prune({ dryRun })) ?? { volumes: [], reclaimed: 0 };
    return {
      dryRun,
      containers: containers.containers,
      images: images.images,
      ...(volumes ? { volumes: pruned.volumes } : {}),
      reclaimed: containers.reclaimed + images.reclaimed + pruned.reclaimed,
    };
  }
}

/** A container's directory split into its logs (`logs/`, or `log.jsonl*` beside the record) and the rest, hard links counted once. */
export async function containerUsage(dir: string): Promise<{ size: number; logs: number; logFiles: number }> {
  // Removed since it was listed (a container pruned meanwhile): it takes no space, which is the answer.
  const top = await lstat(dir, { bigint: true }).catch(() => undefined);
  if (!top) return { size: 0, logs: 0, logFiles: 0 };
  const seen = new Set<string>();
  // The same race as above, between the lstat and the read: an empty directory is the truth then.
  const names = await readdir(dir).catch(() => [] as string[]);
  // The directory's own blocks belong to the container, as du counts them.
  let size = Number(top.blocks) * 512;
  let logs = 0;
  let logFiles = 0;
  for (const name of names) {
    // Same filesystem only: a running container's rootfs is mounted on `merged`.
    const bytes = await diskUsage(join(dir, name), seen, top.dev);
    if (name === LOG_DIR) {
      // The logs directory as a whole (its own blocks too, as du counts them) is logs.
      logs += bytes;
      // Rotated away between the two reads: counted as the files that are left.
      logFiles += (await readdir(join(dir, name)).catch(() => [] as string[])).filter(isLogFile).length;
    } else if (isLogFile(name)) {
      // A container started by an older agent keeps its log beside its record.
      logs += bytes;
      logFiles += 1;
    } else size += bytes;
  }
  return { size, logs, logFiles };
}

async function sumUsage(dirs: readonly string[]): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  for (const dir of dirs) total += await diskUsage(dir, seen);
  return total;
}

/** A removal `rm`/`image rm` refuses (running, in use, gone meanwhile) is skipped; anything else fails the prune. */
function skipRefused(error: unknown): undefined {
  if (error instanceof OnggiError && ['running', 'conflict', 'not_found', 'in_use'].includes(error.kind)) return undefined;
  throw error;
}
