// Named volumes on disk, laid out as Docker lays them out: `volumes/NAME/_data` (what containers
// see) beside `volumes/NAME/volume.json` (a small record, written last and atomically, so a
// directory without one is a create cut short and is no volume).
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { lazySchema } from '../../../shared/lazy-schema.js';
import { errorMessage } from '../../../shared/errors.js';
import { VolumeName } from '../../../shared/volumes.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import { byCodeUnits } from '../../../shared/code-unit-order.js';

/** The record's format; raise it with a change an older agent would misread. */
export const VOLUME_RECORD_VERSION = 1;

export const VolumeRecord = lazySchema(() =>
  z.strictObject({
    version: z.literal(VOLUME_RECORD_VERSION),
    name: VolumeName,
    createdAt: z.string().max(64),
    anonymous: z.boolean(),
    labels: z.record(z.string().max(1024), z.string().max(65536)),
  }),
);
export type VolumeRecord = z.infer<typeof VolumeRecord>;

export class VolumeStore {
  constructor(readonly root: string) {}

  dir(name: string): string {
    return join(this.root, VolumeName.parse(name));
  }

  dataDir(name: string): string {
    return join(this.dir(name), '_data');
  }

  /** The volume's record, or undefined when there is no such volume (or its record is unreadable: see list). */
  async get(name: string): Promise<VolumeRecord | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.dir(name), 'volume.json'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return VolumeRecord.parse(JSON.parse(text));
  }

  /**
   * Makes a volume (a random 64-hex name when none is given, as Docker names anonymous ones);
   * `created` says whether it is new, since an existing name answers the existing volume.
   */
  async create(
    name: string | undefined,
    options: { anonymous?: boolean; labels?: Record<string, string> } = {},
  ): Promise<{ record: VolumeRecord; created: boolean }> {
    const chosen = name ?? randomBytes(32).toString('hex');
    const existing = await this.get(chosen);
    if (existing) return { record: existing, created: false };
    const record: VolumeRecord = {
      version: VOLUME_RECORD_VERSION,
      name: chosen,
      createdAt: new Date().toISOString(),
      anonymous: options.anonymous ?? false,
      labels: options.labels ?? {},
    };
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    // The data directory is what containers see as the mount's root: 0755 like Docker's.
    await mkdir(this.dataDir(chosen), { recursive: true, mode: 0o755 });
    await writeFileAtomic(join(this.dir(chosen), 'volume.json'), `${JSON.stringify(record, null, 2)}\n`, { durable: true });
    return { record, created: true };
  }

  /** Every volume whose record reads; the rest are reported, their data kept (it is the user's). */
  async list(): Promise<{ records: VolumeRecord[]; unreadable: { name: string; reason: string }[] }> {
    const records: VolumeRecord[] = [];
    const unreadable: { name: string; reason: string }[] = [];
    // No directory yet: no volumes.
    const entries = await readdir(this.root, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const entry of entries) {
      if (!entry.isDirectory() || !VolumeName.safeParse(entry.name).success) continue;
      try {
        const record = await this.get(entry.name);
        if (record) records.push(record);
      } catch (error) {
        unreadable.push({ name: entry.name, reason: errorMessage(error) });
      }
    }
    return { records: records.sort((a, b) => byCodeUnits(a.name, b.name)), unreadable };
  }

  /**
   * Removes the volume and its data; the caller has checked no container uses it. The record goes
   * first, so a removal cut short leaves no half-emptied volume, only a directory that is none.
   */
  async remove(name: string): Promise<void> {
    await rm(join(this.dir(name), 'volume.json'), { force: true });
    await rm(this.dir(name), { recursive: true, force: true });
  }
}
