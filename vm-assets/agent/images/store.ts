// The image store on the machine, under one root (default /var/lib/onggi/images):
//
//   images.json                 every image record (id, names, config, layers), written atomically
//   blobs/sha256/<hex>          manifests and configs as received (small; kept for inspection).
//                               Compressed layer blobs are NOT kept: they are deleted once unpacked.
//   layers/<diff-id hex>/       one unpacked layer, an overlayfs lowerdir, shared by every image
//                               that lists that diff id; deleted when the last such image goes
//   layers/<hex>.tmp-<random>/  a layer being unpacked (renamed into place when complete)
//   tmp/                        downloads and import scratch space
//
// Crash safety: a layer appears under its final name only by rename, after it is complete; a
// record is written only after its layers are in place. On open, temp dirs and files are removed,
// and so are layers and blobs no record mentions (what a crash between the two steps leaves).
//
// Concurrency (one agent process): a per-diff-id lock keeps two pulls from unpacking one layer
// twice and a remove from deleting a layer while a pull checks it; a pull "pins" its layers from
// the moment it knows them until its record is written, and remove never deletes a pinned layer.
// Record changes are serialized by one more lock.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { lazySchema } from '../../../shared/lazy-schema.js';
import { ImageRefError, formatImageRef, parseImageRef } from '../../../shared/image-ref.js';
import { ImageConfig, type ImageDetail, type ImageSummary } from '../../../shared/images.js';
import type { ActivityLog } from '../activity/activity-log.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import { digestHex, isDigest } from './digest.js';
import { conflict, imageNotFound } from './errors.js';
import { KeyedMutex } from './locks.js';
import { overlayMarker, type OverlayMarker } from './overlay-markers.js';
import { byCodeUnits } from '../../../shared/code-unit-order.js';

const Digest = lazySchema(() => z.string().regex(/^sha256:[a-f0-9]{64}$/));

export const ImageRecord = lazySchema(() =>
  z.object({
    id: Digest,
    names: z.array(z.string()),
    manifestDigest: Digest.nullable(),
    created: z.string().nullable(),
    os: z.string(),
    architecture: z.string(),
    variant: z.string().optional(),
    config: ImageConfig,
    layers: z.array(z.object({ diffId: Digest, digest: Digest.nullable(), size: z.number().int().nonnegative() })),
    storedAt: z.string(),
  }),
);
export type ImageRecord = z.infer<typeof ImageRecord>;

const RecordsFile = lazySchema(() => z.object({ version: z.literal(1), images: z.array(ImageRecord) }));

export interface ResolvedImage {
  id: string;
  names: string[];
  config: ImageConfig;
  /** Absolute layer directories, bottom layer first. */
  layerDirs: string[];
  /** `os/architecture[/variant]`. */
  platform: string;
}

export interface ImageStoreOptions {
  root: string;
  activity: ActivityLog;
  /** The init helper binary (makes overlay whiteouts); looked up on each use, so it may appear later. */
  helper?: string | (() => string | undefined);
  /** Names of the containers that use an image; such an image is never deleted. */
  inUse?: (imageId: string) => string[];
  log?: (message: string) => void;
}

/** What a pull or import hands the store once its layers are in place. */
export type NewImage = Omit<ImageRecord, 'names' | 'storedAt'>;

export class ImageStore {
  readonly root: string;
  readonly layersDir: string;
  readonly blobsDir: string;
  readonly tmpDir: string;
  private records: ImageRecord[] = [];
  private readonly layerLocks = new KeyedMutex();
  private readonly recordLock = new KeyedMutex();
  private readonly pins = new Map<string, number>();
  /** Unpacked bytes per diff id, for layers whose image record is not written yet. */
  private readonly layerSizes = new Map<string, number>();

  private constructor(private readonly options: ImageStoreOptions) {
    this.root = options.root;
    this.layersDir = join(this.root, 'layers');
    this.blobsDir = join(this.root, 'blobs/sha256');
    this.tmpDir = join(this.root, 'tmp');
  }

  static async open(options: ImageStoreOptions): Promise<ImageStore> {
    const store = new ImageStore(options);
    await store.load();
    return store;
  }

  get activity(): ActivityLog {
    return this.options.activity;
  }

  marker(): OverlayMarker {
    const helper = typeof this.options.helper === 'function' ? this.options.helper() : this.options.helper;
    return overlayMarker(this.options.activity, helper);
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  private async load(): Promise<void> {
    for (const dir of [this.root, this.layersDir, this.blobsDir]) await mkdir(dir, { recursive: true, mode: 0o700 });
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    let trusted = true;
    const text = await readFile(join(this.root, 'images.json'), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text !== undefined) {
      let parsed: z.ZodSafeParseResult<z.infer<typeof RecordsFile>> | undefined;
      try {
        parsed = RecordsFile.safeParse(JSON.parse(text));
      } catch {
        parsed = undefined;
      }
      if (parsed?.success) {
        this.records = parsed.data.images;
      } else {
        // Never reached by a crash (writes are atomic); keep the file for a person to look at and
        // do not garbage-collect layers that running containers may be using.
        trusted = false;
        const aside = join(this.root, `images.json.unreadable-${Date.now()}`);
        await rename(join(this.root, 'images.json'), aside);
        this.log(`image records were unreadable; moved to ${aside}, starting with none`);
      }
    }
    for (const record of this.records) for (const layer of record.layers) this.layerSizes.set(layer.diffId, layer.size);
    // Leftovers of a crash: half-unpacked layers, layers renamed into place whose record was
    // never written, blobs of pulls that did not finish.
    const referencedLayers = new Set(this.records.flatMap((r) => r.layers.map((l) => digestHex(l.diffId))));
    for (const name of await readdir(this.layersDir)) {
      const leftover = name.includes('.tmp-') || name.includes('.del-');
      if (leftover || (trusted && !referencedLayers.has(name))) {
        await rm(join(this.layersDir, name), { recursive: true, force: true });
        if (!leftover) this.log(`removed unreferenced layer ${name}`);
      }
    }
    if (trusted) {
      const referencedBlobs = new Set(this.records.flatMap((r) => [r.id, ...(r.manifestDigest ? [r.manifestDigest] : [])].map(digestHex)));
      for (const name of await readdir(this.blobsDir)) {
        if (!referencedBlobs.has(name)) await rm(join(this.blobsDir, name), { force: true });
      }
    }
  }

  private async save(): Promise<void> {
    await writeFileAtomic(join(this.root, 'images.json'), `${JSON.stringify({ version: 1, images: this.records }, null, 1)}\n`);
  }

  // ---- layers -------------------------------------------------------------------------------

  layerDir(diffId: string): string {
    return join(this.layersDir, digestHex(diffId));
  }

  /** A fresh directory beside the layers (same filesystem, so it can be renamed into place). */
  async newLayerTemp(label: string): Promise<string> {
    const dir = join(this.layersDir, `${label}.tmp-${randomBytes(6).toString('hex')}`);
    await mkdir(dir, { mode: 0o755 });
    return dir;
  }

  /** A path for a temporary file under tmp/. */
  tempPath(label: string): string {
    return join(this.tmpDir, `${label}-${randomBytes(6).toString('hex')}`);
  }

  /** Keeps layers from being deleted until the returned function is called. */
  pin(diffIds: readonly string[]): () => void {
    for (const id of diffIds) this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of diffIds) {
        const n = (this.pins.get(id) ?? 1) - 1;
        if (n <= 0) this.pins.delete(id);
        else this.pins.set(id, n);
      }
    };
  }

  /**
   * Makes sure the layer `diffId` is unpacked: if it is not, `produce` fills a temp dir that is
   * then renamed into place. Only one producer runs per diff id; a waiter sees the result.
   */
  async ensureLayer(diffId: string, produce: (dir: string) => Promise<{ size: number }>): Promise<{ existed: boolean; size: number }> {
    return this.layerLocks.run(diffId, async () => {
      const final = this.layerDir(diffId);
      if (existsSync(final)) return { existed: true, size: this.layerSizes.get(diffId) ?? 0 };
      const temp = await this.newLayerTemp(digestHex(diffId));
      try {
        const { size } = await produce(temp);
        await rename(temp, final);
        this.layerSizes.set(diffId, size);
        return { existed: false, size };
      } catch (error) {
        await rm(temp, { recursive: true, force: true });
        throw error;
      }
    });
  }

  /** Moves an already unpacked temp dir into place as `diffId` (or drops it if that layer exists). */
  async installLayer(diffId: string, temp: string, size: number): Promise<{ existed: boolean }> {
    return this.layerLocks.run(diffId, async () => {
      const final = this.layerDir(diffId);
      if (existsSync(final)) {
        await rm(temp, { recursive: true, force: true });
        return { existed: true };
      }
      await rename(temp, final);
      this.layerSizes.set(diffId, size);
      return { existed: false };
    });
  }

  layerExists(diffId: string): boolean {
    return existsSync(this.layerDir(diffId));
  }

  async putBlob(digest: string, bytes: Buffer): Promise<void> {
    const path = join(this.blobsDir, digestHex(digest));
    if (existsSync(path)) return;
    const temp = join(this.tmpDir, `blob-${randomBytes(6).toString('hex')}`);
    await writeFile(temp, bytes, { mode: 0o600 });
    await rename(temp, path);
  }

  async readBlob(digest: string): Promise<Buffer | undefined> {
    // probe: a blob not in the store is undefined, as documented
    return readFile(join(this.blobsDir, digestHex(digest))).catch(() => undefined);
  }

  // ---- records ------------------------------------------------------------------------------

  /** The stored image with this id whose layers are all on disk, if any. */
  complete(id: string): ImageRecord | undefined {
    const record = this.records.find((r) => r.id === id);
    return record && record.layers.every((l) => this.layerExists(l.diffId)) ? record : undefined;
  }

  /**
   * Stores an image (or updates the one with the same id) and points `names` at it; a name moves
   * from whatever image had it (which keeps existing, nameless, as Docker does).
   */
  async commit(image: NewImage, wanted: readonly string[]): Promise<ImageSummary> {
    // The contract caps a name at 512 characters; a canonical form can outgrow what was typed.
    const names = wanted.filter((n) => n.length <= 512);
    return this.recordLock.run('records', async () => {
      for (const record of this.records) {
        if (record.id !== image.id) record.names = record.names.filter((n) => !names.includes(n));
      }
      const existing = this.records.find((r) => r.id === image.id);
      if (existing) {
        existing.names = [...new Set([...existing.names, ...names])];
        existing.manifestDigest ??= image.manifestDigest;
        // Layer blob digests are only known from a pull; an import may have stored nulls.
        existing.layers = existing.layers.map((l, i) => ({ ...l, digest: l.digest ?? image.layers[i]?.digest ?? null }));
      } else {
        this.records.push({ ...image, names: [...new Set(names)], storedAt: new Date().toISOString() });
      }
      await this.save();
      const record = this.records.find((r) => r.id === image.id) as ImageRecord;
      return this.summarize(record);
    });
  }

  /** Points one more name at an image (`image tag`); the name moves from an image that had it, as commit does. */
  async tag(selector: string, name: string): Promise<ImageSummary> {
    const { names: _names, storedAt: _storedAt, ...image } = this.find(selector);
    return this.commit(image, [formatImageRef(parseImageRef(name))]);
  }

  list(): ImageSummary[] {
    return [...this.records].sort((a, b) => byCodeUnits(b.storedAt, a.storedAt)).map((r) => this.summarize(r));
  }

  inspect(selector: string): ImageDetail {
    const record = this.find(selector);
    return {
      ...this.summarize(record),
      config: record.config,
      layerDetails: record.layers.map((l) => ({ diffId: l.diffId, digest: l.digest, size: l.size, dir: this.layerDir(l.diffId) })),
    };
  }

  /** For the containers code: everything a container needs from its image. */
  async resolve(selector: string): Promise<ResolvedImage> {
    const record = this.find(selector);
    const missing = record.layers.find((l) => !this.layerExists(l.diffId));
    if (missing) throw imageNotFound(`${selector} (layer ${missing.diffId} is missing: pull the image again)`);
    return {
      id: record.id,
      names: [...record.names],
      config: record.config,
      layerDirs: record.layers.map((l) => this.layerDir(l.diffId)),
      platform: `${record.os}/${record.architecture}${record.variant ? `/${record.variant}` : ''}`,
    };
  }

  /**
   * A reference (`busybox`, `127.0.0.1:5000/x:1`, `x@sha256:…`), a full id (`sha256:…`) or an id
   * prefix of 12+ hex digits (optionally after `sha256:`).
   */
  find(selector: string): ImageRecord {
    return this.lookup(selector).record;
  }

  private lookup(selector: string): { record: ImageRecord; byName: string | undefined } {
    if (isDigest(selector)) {
      const record = this.records.find((r) => r.id === selector);
      if (record) return { record, byName: undefined };
    }
    let canonical: string | undefined;
    try {
      canonical = formatImageRef(parseImageRef(selector));
    } catch (error) {
      if (!(error instanceof ImageRefError)) throw error;
    }
    if (canonical !== undefined) {
      const record = this.records.find((r) => r.names.includes(canonical));
      if (record) return { record, byName: canonical };
      // `repo@digest`: any image pulled as that manifest digest from that repository.
      const ref = parseImageRef(selector);
      if (ref.digest) {
        const repo = `${ref.registry}/${ref.repository}`;
        const byDigest = this.records.find(
          (r) => r.manifestDigest === ref.digest && r.names.some((n) => n.startsWith(`${repo}:`) || n.startsWith(`${repo}@`)),
        );
        if (byDigest) return { record: byDigest, byName: undefined };
      }
    }
    const prefix = /^(?:sha256:)?([a-f0-9]{12,64})$/.exec(selector)?.[1];
    if (prefix) {
      const matches = this.records.filter((r) => digestHex(r.id).startsWith(prefix));
      if (matches.length === 1 && matches[0]) return { record: matches[0], byName: undefined };
      if (matches.length > 1) throw conflict(`"${selector}" matches ${matches.length} images; give more of the id`);
    }
    throw imageNotFound(selector);
  }

  /**
   * Docker's rules, with one change: an image a container uses is never deleted, force or not
   * (deleting its layers would pull the floor from under the container).
   *   by name: untag that name; delete the image if it was the last one.
   *   by id:   delete the image and every name — if it has several names, only with force.
   */
  async remove(selector: string, force = false): Promise<{ untagged: string[]; deleted: string[] }> {
    const doomedLayers = await this.recordLock.run('records', async () => {
      const { record, byName } = this.lookup(selector);
      const lastName = byName !== undefined && record.names.length === 1;
      const deleting = byName === undefined || lastName;
      if (byName === undefined && record.names.length > 1 && !force) {
        throw conflict(
          `image ${record.id.slice(7, 19)} has ${record.names.length} names (${record.names.join(', ')}): remove them by name, or force`,
        );
      }
      if (deleting) {
        const users = this.options.inUse?.(record.id) ?? [];
        if (users.length > 0) {
          throw conflict(
            `image ${record.names[0] ?? record.id.slice(7, 19)} is used by ${users.length === 1 ? 'container' : 'containers'} ${users.join(', ')}; remove ${users.length === 1 ? 'it' : 'them'} first`,
          );
        }
      }
      const untagged = byName !== undefined && !deleting ? [byName] : [...record.names];
      if (!deleting) {
        record.names = record.names.filter((n) => n !== byName);
        await this.save();
        return { untagged, deleted: [], layers: [] as string[] };
      }
      this.records = this.records.filter((r) => r !== record);
      await this.save();
      const stillUsed = new Set(this.records.flatMap((r) => r.layers.map((l) => l.diffId)));
      const layers = [...new Set(record.layers.map((l) => l.diffId))].filter((id) => !stillUsed.has(id));
      for (const digest of [record.id, record.manifestDigest]) {
        if (digest && !this.records.some((r) => r.id === digest || r.manifestDigest === digest)) {
          await rm(join(this.blobsDir, digestHex(digest)), { force: true });
        }
      }
      return { untagged, deleted: [record.id], layers };
    });
    for (const diffId of doomedLayers.layers) await this.deleteLayer(diffId);
    return { untagged: doomedLayers.untagged, deleted: doomedLayers.deleted };
  }

  /** Every image record as it is now (copies: the caller may look, not change). */
  snapshot(): ImageRecord[] {
    return this.records.map((r) => structuredClone(r));
  }

  /** Layer directories only this image uses: what deleting it frees. */
  layersOnlyIn(id: string): string[] {
    const record = this.records.find((r) => r.id === id);
    if (!record) return [];
    const others = new Set(this.records.filter((r) => r !== record).flatMap((r) => r.layers.map((l) => l.diffId)));
    return [...new Set(record.layers.map((l) => l.diffId))].filter((d) => !others.has(d)).map((d) => this.layerDir(d));
  }

  /**
   * Deletes layers a failed pull or import unpacked, unless another image or operation uses them:
   * a failed operation leaves nothing behind.
   */
  async discardLayers(diffIds: readonly string[]): Promise<void> {
    // the failed pull's error is the one reported; a layer that cannot be deleted stays on disk unreferenced
    for (const diffId of diffIds) await this.deleteLayer(diffId).catch(() => undefined);
  }

  private async deleteLayer(diffId: string): Promise<void> {
    await this.layerLocks.run(diffId, async () => {
      if (this.pins.has(diffId) || this.records.some((r) => r.layers.some((l) => l.diffId === diffId))) return;
      const final = this.layerDir(diffId);
      if (!existsSync(final)) return;
      // Rename first: a crash mid-delete leaves a `.del-` dir that open() removes, never a half layer.
      const doomed = `${final}.del-${randomBytes(6).toString('hex')}`;
      await rename(final, doomed);
      this.layerSizes.delete(diffId);
      await this.options.activity.timed(['rm', '-rf', final], {}, () => rm(doomed, { recursive: true, force: true }));
    });
  }

  private summarize(record: ImageRecord): ImageSummary {
    const seen = new Set<string>();
    let size = 0;
    for (const layer of record.layers) {
      if (seen.has(layer.diffId)) continue;
      seen.add(layer.diffId);
      size += layer.size;
    }
    return {
      id: record.id,
      names: [...record.names],
      manifestDigest: record.manifestDigest,
      size,
      layers: record.layers.length,
      created: record.created,
      os: record.os,
      architecture: record.architecture,
    };
  }
}

/** Opens the store (cleaning what a crash left); the daemon's entry point. */
export function openImageStore(options: ImageStoreOptions): Promise<ImageStore> {
  return ImageStore.open(options);
}
