// Ranges of the machine's ids for containers with --userns=auto: each gets `size` uids and gids of
// its own from the agent's entries in /etc/subuid and /etc/subgid (owner `onggi`, as Podman's are
// `containers`), disjoint from every other container's. What is taken lives in the container
// records (the one truth, saved with the container): the allocator is rebuilt from them when the
// agent starts, so a range survives restarts and is free again once its container's record is gone.
// A machine without an entry for us gets one, appended to each file and said in the activity log.
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { IdMapping, UsernsMaps } from '../../../shared/userns.js';
import type { ActivityLog } from '../activity/activity-log.js';
import { appendSubidEntry, parseSubids, placeNewEntry, readSubidText, type SubidEntry } from './subid-file.js';

export interface UsernsAllocatorOptions {
  subuidFile: string;
  subgidFile: string;
  /** Whose entries are ours. */
  owner: string;
  /** Ids per container (Podman's auto: 65536). */
  size: number;
  /** Ids in the entry the agent writes when the machine has none for it: room for this many containers' worth. */
  reserveCount: number;
  activity: ActivityLog;
}

/** The entry the agent reserves for itself holds this many containers' ranges (64 Mi ids at 65536 each). */
export const DEFAULT_RESERVE_CONTAINERS = 1024;

export class UsernsAllocator {
  /** Container id → its maps' host ranges. */
  private readonly taken = new Map<string, UsernsMaps>();
  /** Allocations one at a time: two creates must not both reserve an entry or pick the same range. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: UsernsAllocatorOptions) {}

  /** A container the agent found on start (or created): its range is taken until release. */
  adopt(id: string, maps: UsernsMaps): void {
    this.taken.set(id, maps);
  }

  release(id: string): void {
    this.taken.delete(id);
  }

  /** Ranges taken now (for tests and inspect). */
  ranges(): ReadonlyMap<string, UsernsMaps> {
    return this.taken;
  }

  /** Picks a free range of uids and of gids for the container and marks it taken; throws `userns_exhausted` when none is left. */
  allocate(id: string): Promise<UsernsMaps> {
    const next = this.queue.then(async () => {
      const uid = await this.pick(this.options.subuidFile, (maps) => maps.uidMap);
      const gid = await this.pick(this.options.subgidFile, (maps) => maps.gidMap);
      const maps: UsernsMaps = { uidMap: [uid], gidMap: [gid] };
      this.taken.set(id, maps);
      return maps;
    });
    // The chain only orders the next allocation; this one's caller gets its error from `next`.
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async pick(file: string, side: (maps: UsernsMaps) => IdMapping[]): Promise<IdMapping> {
    const { size, owner } = this.options;
    const pool = await this.ourEntries(file);
    const used = [...this.taken.values()].flatMap(side).sort((a, b) => a.host - b.host);
    for (const entry of pool) {
      let start = entry.start;
      for (const range of used) {
        if (range.host + range.size <= start || range.host >= start + size) continue;
        start = Math.max(start, range.host + range.size);
      }
      // `used` is sorted, so one pass pushes start past every overlap; check it still fits.
      if (start + size <= entry.start + entry.count && used.every((r) => r.host + r.size <= start || r.host >= start + size))
        return { container: 0, host: start, size };
    }
    const total = pool.reduce((sum, entry) => sum + entry.count, 0);
    throw new OnggiError(
      ErrorCode.Conflict,
      'userns_exhausted',
      `no free range of ${size} ids is left for --userns=auto in ${file} (${owner}'s entries hold ${total} ids, ` +
        `${used.length} container(s) use them): remove a container, or give ${owner} a larger entry there`,
      'params.userns',
    );
  }

  /** Our entries in the file; when there are none, one is appended for us (never touching another line). */
  private async ourEntries(file: string): Promise<SubidEntry[]> {
    const text = await readSubidText(file);
    const entries = parseSubids(text);
    const ours = entries.filter((entry) => entry.owner === this.options.owner);
    if (ours.length > 0) return ours;
    const start = placeNewEntry(entries, this.options.reserveCount);
    if (start === undefined) return [];
    const entry = { owner: this.options.owner, start, count: this.options.reserveCount };
    const line = `${entry.owner}:${entry.start}:${entry.count}`;
    const started = performance.now();
    try {
      await appendSubidEntry(file, text, entry);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.options.activity.record({
        kind: 'write',
        path: file,
        value: line,
        ok: false,
        error: message,
        durationMs: performance.now() - started,
      });
      throw error;
    }
    // Said where the user sees what the agent did to the machine: a new line in a system file.
    this.options.activity.record({ kind: 'write', path: file, value: line, ok: true, durationMs: performance.now() - started });
    return [entry];
  }
}
