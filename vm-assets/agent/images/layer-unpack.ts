// Unpacks one image layer (a tar, gzip-compressed or not) into an empty directory, as root, with
// owners, modes, times, symlinks and hardlinks preserved, and hashes the uncompressed stream: that
// hash is the layer's diff id, which the image config lists.
//
// node-tar parses the archive; the writing is ours. node-tar's Unpack is built for unpacking onto
// a host: it rewrites absolute symlink targets (`/bin/sh -> /bin/busybox` would become
// `bin/busybox`) and drops symlinks that climb above the root — both legal, and common, in a
// container's filesystem, where a symlink is only data until the container resolves it. With
// those protections off (`preservePaths`) it checks nothing. So this file writes entries itself,
// one at a time, in archive order, under these rules:
//
//   - an entry's path is cleaned of leading `/` and `.` parts; a `..` part refuses the layer;
//   - every parent of an entry must be a real directory inside the layer (created 0755 when the
//     archive did not list it); a symlink on the way refuses the layer (no writing through links);
//   - files are opened O_EXCL|O_NOFOLLOW after removing whatever was at the path;
//   - symlink targets are written verbatim and never followed;
//   - a hardlink may only point at a file or symlink written earlier in this same layer;
//   - device nodes and FIFOs are skipped (and listed): an image must not hand a container a node
//     for a host device, and Node cannot mknod anyway;
//   - OCI whiteouts are not written: `.wh.NAME` and `.wh..wh..opq` are collected and returned for
//     the init helper, which makes the overlayfs forms (a 0:0 char device, the opaque xattr).
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';

export class LayerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LayerError';
  }
}

export interface UnpackResult {
  /** sha256 of the uncompressed tar stream. */
  diffId: string;
  compression: 'gzip' | 'none';
  /** Bytes of regular files written. */
  size: number;
  entries: number;
  /** Paths (relative to the layer) to turn into overlayfs whiteouts (char device 0:0). */
  whiteouts: string[];
  /** Directories (relative; `.` is the layer root) to mark opaque (trusted.overlay.opaque=y). */
  opaques: string[];
  /** Entries not written, with why (device nodes, FIFOs, unknown types). */
  skipped: string[];
}

export interface UnpackOptions {
  /** Called with the number of compressed bytes read so far. */
  onProgress?: (bytesRead: number) => void;
  /**
   * Runs after every entry is written and before directory times are set (creating whiteouts
   * changes their parents' mtimes): the caller turns the collected whiteouts into overlay ones.
   */
  beforeFinish?: (result: Omit<UnpackResult, 'diffId'>) => Promise<void>;
  signal?: AbortSignal;
}

type Compression = 'gzip' | 'none';

function sniff(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) {
    throw new LayerError('the layer is zstd-compressed; zstd layers are not supported yet');
  }
  if (head.subarray(0, 3).toString('latin1') === 'BZh') throw new LayerError('the layer is bzip2-compressed, which is not supported');
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    throw new LayerError('the layer is xz-compressed, which is not supported');
  }
  return 'none';
}

/** The uncompressed tar bytes of `source`, whichever compression it has. */
async function* tarBytes(source: Readable, onCompression: (c: Compression) => void, onRead: (n: number) => void): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headLength = 0;
  while (headLength < 6) {
    const next = await iterator.next();
    if (next.done) break;
    head.push(next.value);
    headLength += next.value.length;
    onRead(headLength);
  }
  const compression = sniff(Buffer.concat(head));
  onCompression(compression);
  let read = headLength;
  async function* raw(): AsyncGenerator<Buffer> {
    yield* head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      read += next.value.length;
      onRead(read);
      yield next.value;
    }
  }
  if (compression === 'none') {
    yield* raw();
    return;
  }
  const gunzip = createGunzip();
  pipeline(raw(), gunzip, (error) => {
    if (error) gunzip.destroy(error);
  });
  for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk;
}

/** Splits an archive path into clean components; throws on `..`. `''` components mean the root. */
export function cleanEntryPath(raw: string): string[] {
  const parts = raw.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new LayerError(`entry "${raw}" escapes the layer (it has a ".." component)`);
  return parts;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

class LayerWriter {
  /** Relative paths known to be real directories we made or checked (no writer but us exists). */
  private readonly dirs = new Set<string>(['']);
  /** Relative paths of files and symlinks written by this layer (valid hardlink targets). */
  private readonly written = new Set<string>();
  private readonly dirTimes: Array<{ path: string; atime: Date; mtime: Date }> = [];
  readonly whiteouts = new Set<string>();
  readonly opaques = new Set<string>();
  readonly skipped: string[] = [];
  size = 0;
  entries = 0;
  error: Error | undefined;

  constructor(private readonly root: string) {}

  fail(error: unknown): void {
    this.error ??= error instanceof Error ? error : new Error(String(error));
  }

  onEntry(entry: ReadEntry): void {
    if (this.error) {
      entry.resume();
      return;
    }
    try {
      this.entries++;
      this.write(entry);
    } catch (error) {
      this.fail(error);
      entry.resume();
    }
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : join(this.root, rel);
  }

  /** Makes sure every parent of `parts` is a real directory in the layer. */
  private ensureParents(parts: readonly string[], raw: string): void {
    for (let k = 1; k < parts.length; k++) {
      const rel = parts.slice(0, k).join('/');
      if (this.dirs.has(rel)) continue;
      const path = this.abs(rel);
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st === undefined) {
        mkdirSync(path, 0o755);
        chmodSync(path, 0o755);
        this.whiteouts.delete(rel);
      } else if (st.isSymbolicLink()) {
        throw new LayerError(`entry "${raw}" would be written through the symlink "${rel}"`);
      } else if (!st.isDirectory()) {
        throw new LayerError(`entry "${raw}": "${rel}" is not a directory`);
      }
      this.dirs.add(rel);
    }
  }

  /** Removes whatever this layer has at `rel` (an entry later in the archive replaces it). */
  private clear(rel: string, keepDirectory = false): boolean {
    const path = this.abs(rel);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st === undefined) return false;
    if (st.isDirectory()) {
      if (keepDirectory) return true;
      rmSync(path, { recursive: true, force: true });
      this.forget(rel);
      return false;
    }
    unlinkSync(path);
    this.written.delete(rel);
    return false;
  }

  /**
   * A directory was removed: drop the cache of checked directories (re-checking costs one lstat
   * per level; scanning for the removed prefix would make a hostile layer quadratic). `written`
   * and `whiteouts` may now hold stale paths, so their users re-check the path on disk.
   */
  private forget(rel: string): void {
    this.written.delete(rel);
    this.dirs.clear();
    this.dirs.add('');
  }

  /** True if every parent of `parts` is a real directory (no symlink) inside the layer. */
  private parentsAreDirs(parts: readonly string[]): boolean {
    for (let k = 1; k < parts.length; k++) {
      const st = lstatSync(this.abs(parts.slice(0, k).join('/')), { throwIfNoEntry: false });
      if (!st?.isDirectory()) return false;
    }
    return true;
  }

  /** The whiteouts and opaque dirs still valid at the end: their paths must not lead through a symlink. */
  markers(): { whiteouts: string[]; opaques: string[] } {
    for (const rel of this.whiteouts) {
      if (!this.parentsAreDirs(rel.split('/')))
        throw new LayerError(`whiteout "${rel}" lies under something that is no longer a directory`);
    }
    for (const rel of this.opaques) {
      const parts = rel === '.' ? [] : rel.split('/');
      if (!this.parentsAreDirs([...parts, 'x'])) throw new LayerError(`opaque directory "${rel}" is no longer a directory`);
    }
    return { whiteouts: [...this.whiteouts], opaques: [...this.opaques] };
  }

  private write(entry: ReadEntry): void {
    const raw = entry.path;
    const parts = cleanEntryPath(raw);
    const rel = parts.join('/');
    const name = parts[parts.length - 1] ?? '';
    const uid = entry.uid ?? 0;
    const gid = entry.gid ?? 0;
    const mtime = entry.mtime ?? new Date(0);
    const atime = entry.atime ?? mtime;

    if (name.startsWith(WHITEOUT_PREFIX)) {
      entry.resume();
      this.ensureParents(parts, raw);
      const parent = parts.slice(0, -1).join('/');
      if (name === OPAQUE) {
        this.ensureDir(parent, raw);
        this.opaques.add(parent === '' ? '.' : parent);
      } else if (!name.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`) && name.length > WHITEOUT_PREFIX.length) {
        const target = [...parts.slice(0, -1), name.slice(WHITEOUT_PREFIX.length)].join('/');
        this.clear(target);
        this.whiteouts.add(target);
      }
      return;
    }

    switch (entry.type) {
      case 'Directory':
      case 'GNUDumpDir': {
        entry.resume();
        if (rel !== '') this.ensureParents(parts, raw);
        this.ensureDir(rel, raw);
        const path = this.abs(rel);
        lchownSync(path, uid, gid);
        chmodSync(path, (entry.mode ?? 0o755) & 0o7777);
        this.dirTimes.push({ path, atime, mtime });
        return;
      }
      case 'File':
      case 'OldFile':
      case 'ContiguousFile': {
        if (rel === '') throw new LayerError(`entry "${raw}" would replace the layer's root`);
        this.ensureParents(parts, raw);
        this.clear(rel);
        this.whiteouts.delete(rel);
        const fd = openSync(this.abs(rel), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        const mode = (entry.mode ?? 0o644) & 0o7777;
        let closed = false;
        const close = (): void => {
          if (!closed) {
            closed = true;
            closeSync(fd);
          }
        };
        entry.on('data', (chunk: Buffer) => {
          if (this.error) return;
          try {
            let offset = 0;
            while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
          } catch (error) {
            this.fail(error);
            close();
          }
        });
        entry.on('end', () => {
          if (closed) return;
          try {
            // chown clears set-id bits: mode after owner.
            fchownSync(fd, uid, gid);
            fchmodSync(fd, mode);
            futimesSync(fd, atime, mtime);
          } catch (error) {
            this.fail(error);
          } finally {
            close();
          }
        });
        this.size += entry.size ?? 0;
        this.written.add(rel);
        return;
      }
      case 'SymbolicLink': {
        entry.resume();
        if (rel === '') throw new LayerError(`entry "${raw}" would replace the layer's root`);
        const target = entry.linkpath ?? '';
        if (target === '') throw new LayerError(`symlink "${raw}" has no target`);
        this.ensureParents(parts, raw);
        this.clear(rel);
        this.whiteouts.delete(rel);
        const path = this.abs(rel);
        symlinkSync(target, path);
        lchownSync(path, uid, gid);
        lutimesSync(path, atime, mtime);
        this.written.add(rel);
        return;
      }
      case 'Link': {
        entry.resume();
        if (rel === '') throw new LayerError(`entry "${raw}" would replace the layer's root`);
        const targetParts = cleanEntryPath(entry.linkpath ?? '');
        const target = targetParts.join('/');
        const targetStat = lstatSync(this.abs(target), { throwIfNoEntry: false });
        if (!this.written.has(target) || !this.parentsAreDirs(targetParts) || targetStat === undefined || targetStat.isDirectory()) {
          throw new LayerError(`hardlink "${raw}" points to "${entry.linkpath ?? ''}", which is not a file written earlier in this layer`);
        }
        if (target === rel) return;
        this.ensureParents(parts, raw);
        this.clear(rel);
        this.whiteouts.delete(rel);
        linkSync(this.abs(target), this.abs(rel));
        this.written.add(rel);
        return;
      }
      case 'CharacterDevice':
      case 'BlockDevice':
      case 'FIFO':
        entry.resume();
        this.skipped.push(`${rel} (${entry.type})`);
        return;
      default:
        entry.resume();
        this.skipped.push(`${rel} (${String(entry.type)})`);
        return;
    }
  }

  private ensureDir(rel: string, raw: string): void {
    if (this.dirs.has(rel) && rel !== '') return;
    const path = this.abs(rel);
    if (this.clear(rel, true)) {
      this.dirs.add(rel);
      return;
    }
    if (rel === '') throw new LayerError(`entry "${raw}": the layer root is missing`);
    mkdirSync(path, 0o700);
    this.whiteouts.delete(rel);
    this.dirs.add(rel);
  }

  finishTimes(): void {
    // Deepest first, so setting a child's times does not disturb its parent's.
    for (const { path, atime, mtime } of this.dirTimes.reverse()) {
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st?.isDirectory()) utimesSync(path, atime, mtime);
    }
  }
}

/**
 * Unpacks `source` (the layer blob's bytes) into `dest`, an existing empty directory on the same
 * filesystem as where the layer will live. Throws LayerError for archives it refuses.
 */
export async function unpackLayer(source: Readable, dest: string, options: UnpackOptions = {}): Promise<UnpackResult> {
  const writer = new LayerWriter(dest);
  const hash = createHash('sha256');
  const parser = new Parser({ strict: true, brotli: false, zstd: false, onReadEntry: (entry) => writer.onEntry(entry) });
  parser.on('error', (error: Error) => writer.fail(new LayerError(`the layer is not a valid tar archive: ${error.message}`)));
  let compression: Compression = 'none';
  // 'end' once the archive is consumed; an error (strict mode turns warnings into errors) may come instead.
  const ended = new Promise<void>((resolve) => {
    parser.once('end', () => resolve());
    parser.once('error', () => resolve());
  });
  try {
    for await (const chunk of tarBytes(
      source,
      (c) => (compression = c),
      (n) => options.onProgress?.(n),
    )) {
      if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new LayerError('aborted');
      hash.update(chunk);
      if (!parser.write(chunk)) await new Promise<void>((resolve) => parser.once('drain', () => resolve()));
      if (writer.error) throw writer.error;
    }
  } catch (error) {
    source.destroy();
    if (error instanceof LayerError) throw error;
    throw new LayerError(`cannot read the layer: ${error instanceof Error ? error.message : String(error)}`);
  }
  parser.end();
  await ended;
  if (writer.error) throw writer.error;
  const result = { compression, size: writer.size, entries: writer.entries, ...writer.markers(), skipped: writer.skipped };
  await options.beforeFinish?.(result);
  writer.finishTimes();
  return { diffId: `sha256:${hash.digest('hex')}`, ...result };
}
