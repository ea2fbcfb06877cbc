// Reading the log the supervisor writes (one JSON object per line, Docker's json-file shape) and
// rotates (log.jsonl → log.jsonl.1 → …, always between two lines). Every read costs what it
// returns: a tail is read backwards from the end, `since` skips whole files by their last line,
// a full read and a follow go forward in bounded chunks — no file is ever loaded whole.
import { close, fstat, fstatSync, openSync, read, readdirSync, statSync, watch } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { LogEntry } from '../../../shared/containers.js';

/**
 * Bytes read per step, forwards or backwards: what the agent holds of a log at once. Small enough
 * that a follower parsing a chunk gives its event loop back long before a file fills.
 */
const CHUNK = 64 * 1024;
/** Entries handed to the caller at once while streaming. */
const BATCH = 2000;

export interface LogReadOptions {
  /** Only the last N entries (after `since`). */
  tail?: number;
  /** Only entries at or after this time (ms since the epoch). */
  sinceMs?: number;
}

/** What is used of an open file: a LogFile, or a plain fd (fromFd). */
interface LogFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number; ino: number }>;
  close(): Promise<void>;
}

function fromFd(fd: number): LogFile {
  return {
    read: (buffer, offset, length, position) =>
      new Promise((resolve, reject) =>
        read(fd, buffer, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve({ bytesRead }))),
      ),
    stat: () => new Promise((resolve, reject) => fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats)))),
    close: () => new Promise((resolve) => close(fd, () => resolve())),
  };
}

/** An open log file and where in it the next unread line starts. */
export interface Cursor {
  handle: LogFile;
  ino: number;
  position: number;
}

/** The log's files, oldest first: `log.jsonl.N` … `log.jsonl.1`, `log.jsonl` (those that exist). */
async function listFiles(path: string): Promise<string[]> {
  // no directory yet (a container that never started): no files, which is the answer
  return logFilesAmong(path, await readdir(dirname(path)).catch(() => [] as string[]));
}

function listFilesSync(path: string): string[] {
  try {
    return logFilesAmong(path, readdirSync(dirname(path)));
  } catch {
    return [];
  }
}

function logFilesAmong(path: string, names: string[]): string[] {
  const name = basename(path);
  const rotated = names
    .map((entry) => (entry.startsWith(`${name}.`) ? Number(entry.slice(name.length + 1)) : Number.NaN))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => b - a)
    .map((n) => `${path}.${n}`);
  return names.includes(name) ? [...rotated, path] : rotated;
}

/**
 * Opens every file of the log at one instant: the set is consistent when a steady listing taken
 * after the opens names exactly the files held, in the same order (files held open keep their
 * inode numbers, so none can be another file's; a rotation in between shifts them, and we try
 * again). Oldest first; closed by the caller.
 */
async function openSnapshot(path: string): Promise<Cursor[]> {
  for (let attempt = 0; ; attempt += 1) {
    const files = await listFiles(path);
    const opened: Cursor[] = [];
    try {
      for (const file of [...files].reverse()) {
        // rotated away between the listing and the open: the listing below sees the new set
        const handle = await open(file, 'r').catch(() => undefined);
        if (!handle) continue;
        opened.unshift({ handle, ino: (await handle.stat()).ino, position: 0 });
      }
      // Synchronously, as the watch's walk does: a few stats, cheaper in place than as thread-pool trips.
      const now = steadyInodesSync(path);
      const held = opened.map((cursor) => cursor.ino);
      if ((now && now.inodes.length === held.length && now.inodes.every((ino, i) => ino === held[i])) || attempt >= 20) return opened;
    } catch (error) {
      await Promise.all(opened.map((cursor) => cursor.handle.close()));
      throw error;
    }
    await Promise.all(opened.map((cursor) => cursor.handle.close()));
  }
}

/** One line of the file as an entry, or undefined for what is not one (a torn or foreign line). */
function parseLine(line: string): LogEntry | undefined {
  try {
    const value = JSON.parse(line) as Record<string, unknown> | null;
    // Checked by hand, not with the zod schema: this runs for every line of a flood.
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof value.time === 'string' &&
      typeof value.log === 'string' &&
      (value.stream === 'stdout' || value.stream === 'stderr')
    )
      return { time: value.time, stream: value.stream, log: value.log };
  } catch {
    // not JSON: skipped
  }
  return undefined;
}

function since(entry: LogEntry, sinceMs: number | undefined): boolean {
  return sinceMs === undefined || Date.parse(entry.time) >= sinceMs;
}

/**
 * Reads forward from the cursor to `end` (default: the file's end as it is now), in chunks,
 * handing over complete lines; the cursor stays before a half-written last line.
 */
async function readForward(
  cursor: Cursor,
  onEntries: (entries: LogEntry[]) => void,
  { sinceMs, end: limit = Infinity }: { sinceMs?: number; end?: number } = {},
): Promise<void> {
  const buffer = Buffer.allocUnsafe(CHUNK);
  let carry = Buffer.alloc(0);
  for (;;) {
    const from = cursor.position + carry.length;
    const want = Math.min(CHUNK, limit - from);
    if (want <= 0) return;
    const { bytesRead } = await cursor.handle.read(buffer, 0, want, from);
    if (bytesRead === 0) return;
    const data = carry.length > 0 ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
    const end = data.lastIndexOf(0x0a);
    if (end < 0) {
      // A line longer than a chunk (a record is at most ~100 KiB, so this ends soon).
      carry = Buffer.from(data);
      continue;
    }
    const entries: LogEntry[] = [];
    for (const line of data.toString('utf8', 0, end).split('\n')) {
      const entry = parseLine(line);
      if (entry && since(entry, sinceMs)) entries.push(entry);
    }
    cursor.position += end + 1;
    carry = Buffer.from(data.subarray(end + 1));
    for (let i = 0; i < entries.length; i += BATCH) onEntries(entries.slice(i, i + BATCH));
  }
}

/**
 * The entries of one file from its end backwards (newest first), until `enough` says stop; the
 * first call's `end` is where its complete lines end.
 */
async function readBackward(handle: LogFile, end: number, visit: (entry: LogEntry) => boolean): Promise<void> {
  const buffer = Buffer.allocUnsafe(CHUNK);
  let position = end;
  let carry = Buffer.alloc(0);
  while (position > 0) {
    const length = Math.min(CHUNK, position);
    position -= length;
    await handle.read(buffer, 0, length, position);
    const data = carry.length > 0 ? Buffer.concat([buffer.subarray(0, length), carry]) : buffer.subarray(0, length);
    // The part before the first newline may be the end of a line that starts further back.
    const first = position > 0 ? data.indexOf(0x0a) : -1;
    const lines = data.toString('utf8', first + 1).split('\n');
    for (let i = lines.length - 1; i >= 0; i -= 1) {
      const line = lines[i];
      if (!line) continue;
      const entry = parseLine(line);
      if (entry && !visit(entry)) return;
    }
    carry = first >= 0 ? Buffer.from(data.subarray(0, first)) : Buffer.alloc(0);
  }
}

/** Where the complete lines of a file end (a writer may be half-way through the last). */
async function completeEnd(handle: LogFile): Promise<number> {
  const size = (await handle.stat()).size;
  const probe = Buffer.allocUnsafe(Math.min(CHUNK, size));
  for (let end = size; end > 0;) {
    const length = Math.min(probe.length, end);
    await handle.read(probe, 0, length, end - length);
    const at = probe.subarray(0, length).lastIndexOf(0x0a);
    if (at >= 0) return end - length + at + 1;
    end -= length;
  }
  return 0;
}

/** The time of a file's last entry, in ms, or undefined when it has none. */
async function lastTime(handle: LogFile): Promise<number | undefined> {
  let time: number | undefined;
  await readBackward(handle, await completeEnd(handle), (entry) => {
    time = Date.parse(entry.time);
    return false;
  });
  return time;
}

/**
 * Reads a log across its rotated files, in order: with `tail`, backwards from the end; otherwise
 * forwards, in batches to `onEntries`. Returns the cursor just after the last complete line of the
 * current file (for `followLog`), or undefined when there is no log yet.
 */
export async function readLog(
  path: string,
  options: LogReadOptions,
  onEntries: (entries: LogEntry[]) => void,
): Promise<Cursor | undefined> {
  const files = await openSnapshot(path);
  const current = files.at(-1);
  // mid-rotation: no current file, so the follower opens what appears next
  const resolvedCurrent = current && (await stat(path).catch(() => undefined))?.ino === current.ino ? current : undefined;
  try {
    for (const file of files) if (file !== resolvedCurrent) file.position = (await file.handle.stat()).size;
    if (resolvedCurrent) resolvedCurrent.position = await completeEnd(resolvedCurrent.handle);
    if (options.tail !== undefined) {
      const newestFirst: LogEntry[] = [];
      const wanted = options.tail;
      for (const file of [...files].reverse()) {
        if (newestFirst.length >= wanted) break;
        let older = false;
        await readBackward(file.handle, file.position, (entry) => {
          if (!since(entry, options.sinceMs)) {
            older = true;
            return false;
          }
          newestFirst.push(entry);
          return newestFirst.length < wanted;
        });
        if (older) break;
      }
      const entries = newestFirst.reverse();
      for (let i = 0; i < entries.length; i += BATCH) onEntries(entries.slice(i, i + BATCH));
    } else {
      for (const file of files) {
        // A whole file older than `since` is skipped by its last line.
        if (options.sinceMs !== undefined && ((await lastTime(file.handle)) ?? -Infinity) < options.sinceMs) continue;
        // Up to the snapshot's end: lines written since are the follower's.
        const end = file.position;
        await readForward({ ...file, position: 0 }, onEntries, { sinceMs: options.sinceMs, end });
      }
    }
    return resolvedCurrent;
  } finally {
    await Promise.all(files.filter((file) => file !== resolvedCurrent).map((file) => file.handle.close()));
  }
}

/** A file's inode number, or -1 when it is not there (renamed away this instant). */
function inodeOfSync(file: string): number {
  try {
    return statSync(file).ino;
  } catch {
    return -1;
  }
}

/** The log's files, oldest first, and each one's inode (-1: renamed away before its stat). */
interface LogSnapshot {
  files: string[];
  inodes: number[];
}

function snapshotSync(path: string): LogSnapshot {
  const files = listFilesSync(path);
  return { files, inodes: files.map(inodeOfSync) };
}

function sameSnapshot(a: LogSnapshot, b: LogSnapshot): boolean {
  return a.files.length === b.files.length && a.files.every((file, i) => file === b.files[i] && a.inodes[i] === b.inodes[i]);
}

/**
 * The log's files, oldest first, with their inodes, as they were at one instant: a rotation renames
 * every file, so names stat'ed one by one while it runs can put the current file's successor before
 * it, or miss it — and a follower then read a file twice or skipped one (seen under a follower
 * that lagged behind 64 KiB files). Every step of a rotation changes the set of names or shifts an
 * inode to another name, so two listings in a row that agree, names and inodes, saw no step in
 * between. (Comparing only the current file's inode before and after could not see a listing that
 * began in one rotation's moment without a current file and ended in the next one's: absent both
 * times.) Undefined when rotations never paused in 20 tries.
 */
function steadyInodesSync(path: string): LogSnapshot | undefined {
  let previous = snapshotSync(path);
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const now = snapshotSync(path);
    if (sameSnapshot(previous, now)) return now;
    previous = now;
  }
  return undefined;
}

/**
 * The file written after the one with inode `ino`, opened; `found` says whether `ino` is still
 * among the files. When it is not (dropped by rotation), the oldest file left.
 */
async function successor(path: string, ino: number): Promise<{ next: Cursor | undefined; found: boolean }> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    // A rotation between the names' stats gives an order that never was on disk (the file after
    // ours skipped, or an older one taken for newer): see steadyInodesSync.
    const listed = steadyInodesSync(path);
    if (!listed) break;
    const { files, inodes } = listed;
    const at = inodes.indexOf(ino);
    const file = files[at + 1];
    if (file === undefined) return { next: undefined, found: at >= 0 };
    // rotated away before we got to it: reported as not found, the caller moves on
    const handle = await open(file, 'r').catch(() => undefined);
    if (!handle) continue;
    const opened = (await handle.stat()).ino;
    if (opened === inodes[at + 1]) return { next: { handle, ino: opened, position: 0 }, found: at >= 0 };
    await handle.close(); // rotated between the listing and the open: look again
  }
  return { next: undefined, found: false };
}

/**
 * Follows a log from `cursor` (its current file, from readLog) until `done` resolves, then drains
 * what is left: across rotations, each line once, in order. A watch on the log's directory wakes
 * it; it reads to the end each time, so a burst of events costs one pass. Each new file is opened
 * the moment it appears (the watch's rename event), so a follower that lags behind by more than
 * max-file files still holds every file it has not read yet.
 */
export async function followLog(
  path: string,
  cursor: Cursor | undefined,
  onEntries: (entries: LogEntry[]) => void,
  done: Promise<unknown>,
): Promise<void> {
  let current = cursor;
  /** Files opened as they appeared, after `current`, oldest first. */
  const pinned: Cursor[] = [];
  let dirty = true;
  let wake: (() => void) | undefined;
  let finished = false;
  /**
   * Opens every file newer than `current` not opened yet, in order (synchronously, in the watch's
   * callback: a file must be held before the writer can rotate it away).
   */
  const pin = (): void => {
    const listed = steadyInodesSync(path);
    if (!listed) return; // rotating without pause: the rename events to come look again
    const { files, inodes } = listed;
    const after = current ? inodes.indexOf(current.ino) : -1;
    // Pinned in the order written, so a file that cannot be held now stops the walk: pinning a newer
    // one before it would have it read after that newer one (lines out of order, then read twice).
    // The rotation that moved it sends more events, and the next walk takes it from where it is.
    // A file new to us goes right after the last already-pinned one this listing puts before it,
    // not at the end: an earlier listing may not have shown it (seen here under load: a listing
    // without log.jsonl.1 while the files around it were there), and the files pinned from that
    // one are newer. Pinned files no longer listed were rotated away: older than every listed one.
    const listedInodes = new Set(inodes);
    let insertAt = 0;
    pinned.forEach((cursor, k) => {
      if (!listedInodes.has(cursor.ino)) insertAt = k + 1;
    });
    for (let i = after + 1; i < files.length; i += 1) {
      const ino = inodes[i];
      const file = files[i];
      if (ino === undefined || file === undefined || ino < 0) return;
      const known = pinned.findIndex((cursor) => cursor.ino === ino);
      if (known >= 0) {
        insertAt = Math.max(insertAt, known + 1);
        continue;
      }
      let fd: number;
      try {
        fd = openSync(file, 'r');
      } catch {
        return; // renamed since the listing
      }
      if (fstatSync(fd).ino === ino) {
        pinned.splice(insertAt, 0, { handle: fromFd(fd), ino, position: 0 });
        insertAt += 1;
      } else {
        close(fd, () => undefined);
        return;
      }
    }
  };
  const watcher = watch(dirname(path), (event) => {
    if (event === 'rename') pin();
    dirty = true;
    wake?.();
  });
  pin();
  void done.then(() => {
    finished = true;
    wake?.();
  });
  /** The file after `current`: on disk right after it, or pinned when it appeared. */
  const next = async (): Promise<Cursor | undefined> => {
    const { next: onDisk, found } = await successor(path, current?.ino ?? -1);
    if (!found && pinned.length > 0) {
      // `current` is gone from the disk: what was pinned since is what comes after it.
      await onDisk?.handle.close();
      return pinned.shift();
    }
    const same = pinned.findIndex((file) => file.ino === onDisk?.ino);
    if (same < 0) return onDisk;
    await onDisk?.handle.close();
    // Anything pinned before it is older: already read.
    for (const stale of pinned.splice(0, same)) await stale.handle.close();
    return pinned.shift();
  };
  const pass = async (): Promise<void> => {
    for (;;) {
      current ??= await next();
      if (!current) return;
      await readForward(current, onEntries);
      // mid-rotation: the next wake-up finds the new file
      const now = await stat(path).catch(() => undefined);
      if (now?.ino === current.ino) return;
      // Rotated (the writer closed it before the rename): what it holds is final; read it out.
      await readForward(current, onEntries);
      const following = await next();
      if (!following) return;
      const read = current;
      current = following;
      await read.handle.close();
    }
  };
  try {
    while (!finished) {
      if (!dirty) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      dirty = false;
      await pass();
    }
    await pass();
  } finally {
    watcher.close();
    await current?.handle.close();
    await Promise.all(pinned.map((file) => file.handle.close()));
  }
}
