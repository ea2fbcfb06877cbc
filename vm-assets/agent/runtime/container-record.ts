// A container as the agent remembers it on disk: one JSON record per container, written
// atomically, so a daemon killed at any instant restarts knowing every container.
import { unlinkSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { lazySchema } from '../../../shared/lazy-schema.js';
import { ContainerSpec, ContainerState, DEFAULT_LOG_OPTIONS, RestartPolicy } from '../../../shared/containers.js';
import { errorMessage } from '../../../shared/errors.js';
import { HealthConfig, HealthState } from '../../../shared/health.js';
import { UsernsMaps } from '../../../shared/userns.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import { ResolvedMount } from './mounts.js';
import { RecordedResourceOptions } from './resource-limits.js';

/**
 * The record's format, saved in it as networks.json and images.json save theirs. Raise it with a
 * change an older agent would misread, and add the step from the old format to MIGRATIONS: a
 * record in an older format is upgraded on load, never reaped.
 */
export const CONTAINER_RECORD_VERSION = 1;

export const ContainerRecord = lazySchema(() =>
  z.object({
    version: z.literal(CONTAINER_RECORD_VERSION),
    id: z.string(),
    name: z.string(),
    /** `creating` and `removing` exist only on disk: a record left in them was interrupted. */
    phase: z.enum(['creating', 'ready', 'removing']),
    state: ContainerState,
    image: z.string(),
    imageId: z.string(),
    layerDirs: z.array(z.string()),
    argv: z.array(z.string()),
    env: z.array(z.string()),
    workingDir: z.string(),
    uid: z.number().int(),
    gid: z.number().int(),
    hostname: z.string(),
    limits: z.object({
      cpus: z.number().optional(),
      memory: z.number().optional(),
      pids: z.number().optional(),
      ...RecordedResourceOptions,
    }),
    autoRemove: z.boolean(),
    restart: RestartPolicy,
    spec: ContainerSpec,
    pid: z.number().int().nullable(),
    /** The init process's start time (clock ticks since boot, /proc/PID/stat field 22): pid + this identifies it even if the pid is reused. */
    pidStartTime: z.number().nullable(),
    exitCode: z.number().int().nullable(),
    oomKilled: z.boolean(),
    error: z.string().nullable(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    restartCount: z.number().int().default(0),
    /**
     * Set (saved, not flushed) just before a start launches its supervisor, cleared when the start
     * is recorded as done or failed: a record found with it set belongs to a start the agent died in.
     */
    startPending: z.boolean().default(false),
    /** Starts in a row the agent's death cut short; recovery starts the container again only after the first. */
    startsCutShort: z.number().int().default(0),
    /** Log rotation, decided at create (the container's --log-opt, else the machine's default). */
    log: z.object({ maxSize: z.number().int().positive(), maxFiles: z.number().int().min(1) }).default({ ...DEFAULT_LOG_OPTIONS }),
    /** Its mounts as made at create, volumes by name (a record from before mounts has none). */
    mounts: z.array(ResolvedMount).default([]),
    /** The user stopped it (stop, or a kill that ends it): its restart policy no longer applies until it is started again. */
    stoppedByUser: z.boolean().default(false),
    /** The image's STOPSIGNAL at create (the container's --stop-signal, in spec, wins). */
    imageStopSignal: z.string().optional(),
    /** Frozen by `pause`: the kernel keeps it frozen across an agent restart, and so does the record. */
    paused: z.boolean().default(false),
    /** The healthcheck's status and last results, while it has one. */
    health: HealthState.optional(),
    /** The check it runs (the image's HEALTHCHECK under the run's options), decided at create. */
    healthcheck: HealthConfig.optional(),
    /** --userns=auto: the machine's ids it was given at create (held until it is removed). */
    userns: UsernsMaps.optional(),
  }),
);
export type ContainerRecord = z.infer<typeof ContainerRecord>;

type RawRecord = Record<string, unknown>;

/** Each step turns format N into N + 1. v0 (no `version`, before formats were numbered) differs from v1 only by it. */
const MIGRATIONS: Record<number, (record: RawRecord) => RawRecord> = {
  0: (record) => ({ ...record, version: 1 }),
};

/** A record as read from disk, in whatever format an earlier agent wrote it, upgraded to today's. */
export function parseContainerRecord(json: unknown): ContainerRecord {
  let record = z.object({ version: z.number().int().nonnegative().optional() }).passthrough().parse(json) as RawRecord;
  let version = (record.version as number | undefined) ?? 0;
  if (version > CONTAINER_RECORD_VERSION)
    throw new Error(`written by a newer agent (record format ${version}; this agent reads up to ${CONTAINER_RECORD_VERSION})`);
  for (; version < CONTAINER_RECORD_VERSION; version++) {
    const step = MIGRATIONS[version];
    if (!step) throw new Error(`no migration from record format ${version}`);
    record = step(record);
  }
  return ContainerRecord.parse(record);
}

/**
 * A container's logs live in a directory of their own inside its directory: the exit watch on the
 * container's directory then never wakes for a log append (inotify reports direct children only).
 */
export const LOG_DIR = 'logs';

export interface ContainerPaths {
  dir: string;
  record: string;
  upper: string;
  work: string;
  merged: string;
  /**
   * The log and its rotated files live in a directory of their own: the exit watch on `dir` then
   * never wakes for an append.
   */
  logDir: string;
  log: string;
  /** Where an agent before rotation had its supervisors write the log (read when `log` is absent). */
  legacyLog: string;
  exit: string;
  supervisorLog: string;
  /** The unix socket the supervisor serves the container's console on while it runs. */
  console: string;
}

export class ContainerRecords {
  /** Each record's write under way (settled, never rejecting): the next one waits for it. */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(readonly root: string) {}

  paths(id: string): ContainerPaths {
    const dir = join(this.root, id);
    return {
      dir,
      record: join(dir, 'container.json'),
      upper: join(dir, 'upper'),
      work: join(dir, 'work'),
      merged: join(dir, 'merged'),
      logDir: join(dir, LOG_DIR),
      log: join(dir, LOG_DIR, 'log.jsonl'),
      legacyLog: join(dir, 'log.jsonl'),
      exit: join(dir, 'exit.json'),
      supervisorLog: join(dir, 'supervisor.log'),
      console: join(dir, 'console.sock'),
    };
  }

  /**
   * `durable: false` (no fsyncs) is for the running and exited transitions: a daemon killed at any
   * instant still finds the old record or the new one whole (the kernel keeps a dead process's
   * writes). Only a power loss can bring back the last durable record, and nothing runs after one:
   * reconcile releases a `created` record's leftovers and finishes a `running` one from the
   * supervisor's durable exit file, so the container is kept, showing as never run or as exited.
   * (Where the filesystem does not order a rename after its data — ext4 does — a power loss can
   * also leave the record empty: `loadAll` then keeps the container's files instead of reaping.)
   */
  async save(record: ContainerRecord, { durable = true }: { durable?: boolean } = {}): Promise<void> {
    const text = `${JSON.stringify(record, null, 2)}\n`;
    // Through the record's spare file (writeFileAtomic's `spare`: no inode made or freed, ~0.5 ms
    // a save here), which two writes must not share: one after the other, in the order asked.
    const previous = this.writing.get(record.id);
    const write = async () => {
      // A transition's record replaces one saved durably, in a directory that therefore exists.
      if (durable) await mkdir(this.paths(record.id).dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.paths(record.id).record, text, { durable, spare: true });
    };
    const done = previous ? previous.then(write) : write();
    // Only the order is kept for the next write: this write's failure goes to its own caller below.
    const settled = done.catch(() => undefined);
    this.writing.set(record.id, settled);
    void settled.then(() => {
      if (this.writing.get(record.id) === settled) this.writing.delete(record.id);
    });
    await done;
  }

  /**
   * Every readable record. A directory without one is an orphan (a create or removal cut short) to
   * reap. A record in an older format is upgraded (parseContainerRecord). A record that is there but cannot be read — emptied by a power loss on a filesystem that
   * does not order a rename after its data (see `save`), or written by another agent version — is
   * reported as unreadable and its directory kept: the container's files are the user's.
   */
  async loadAll(): Promise<{ records: ContainerRecord[]; orphans: string[]; unreadable: { id: string; reason: string }[] }> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const records: ContainerRecord[] = [];
    const orphans: string[] = [];
    const unreadable: { id: string; reason: string }[] = [];
    for (const entry of await readdir(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      let text: string;
      try {
        text = await readFile(this.paths(entry.name).record, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') orphans.push(entry.name);
        else unreadable.push({ id: entry.name, reason: errorMessage(error) });
        continue;
      }
      try {
        records.push(parseContainerRecord(JSON.parse(text)));
      } catch (error) {
        unreadable.push({ id: entry.name, reason: text.length === 0 ? 'the record is empty' : errorMessage(error) });
      }
    }
    return { records, orphans, unreadable };
  }

  /** Drops the record and keeps the rest of the directory: what is left is an orphan to reap. */
  async forget(id: string): Promise<void> {
    // One unlink: synchronously, cheaper than a thread-pool trip.
    unlinkSync(this.paths(id).record);
  }

  async delete(id: string): Promise<void> {
    await rm(this.paths(id).dir, { recursive: true, force: true });
  }
}
