import { closeSync, constants, ftruncateSync, linkSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { crashPoint } from './crash-points.js';

export interface AtomicWriteOptions {
  mode?: number;
  /**
   * false: temp file and rename only. Still all-or-nothing for a daemon killed at any instant (a
   * dead process's completed writes and renames live on in the kernel), but a power loss may bring
   * back the previous content: only for records whose previous version recovery handles as well.
   */
  durable?: boolean;
  /**
   * Write through a spare file kept beside the target (`.NAME.spare`) instead of a new temp file:
   * the spare gets the new content and is renamed over NAME, and the file it replaces, linked
   * first, becomes the next spare. After the first write no inode is made or freed. On ext4
   * without a journal (this project's test machines) making an inode scans past every inode freed
   * in the last minutes (the kernel's recently_deleted check): 0.2-0.7 ms each, and every rename
   * over a file frees one more. For files rewritten often (container records); the spare stays
   * in the directory until it is removed.
   */
  spare?: boolean;
}

/**
 * Writes a file so that a reader, or a daemon restarted after `kill -9`, sees either the old
 * content or the new one, never a torn mix: temp file, fsync, rename, fsync the directory.
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  { mode = 0o600, durable = true, spare = false }: AtomicWriteOptions = {},
): Promise<void> {
  if (spare) return durable ? writeThroughSpare(path, data, mode) : writeThroughSpareSync(path, data, mode);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  if (!durable) {
    // Page-cache work only, microseconds: done in place rather than as thread-pool round trips.
    try {
      writeFileSync(temp, data, { mode });
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    crashPoint(`before rename ${basename(path)}`);
    renameSync(temp, path);
    return;
  }
  const handle = await open(temp, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    // the write's own error is rethrown below; the temp file is a leftover at worst
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  crashPoint(`before rename ${basename(path)}`);
  await rename(temp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function sparePaths(path: string): { spare: string; kept: string } {
  const spare = join(dirname(path), `.${basename(path)}.spare`);
  return { spare, kept: `${spare}.next` };
}

/** Not durable, so page-cache work only: done in place, as the temp-file path above is. */
function writeThroughSpareSync(path: string, data: string, mode: number): void {
  const { spare } = sparePaths(path);
  // No O_TRUNC: ext4 flushes a file truncated to empty at its close (auto_da_alloc, ~2 ms here).
  const fd = openSync(spare, constants.O_WRONLY | constants.O_CREAT, mode);
  try {
    writeFileSync(fd, data);
    ftruncateSync(fd, Buffer.byteLength(data));
  } finally {
    closeSync(fd);
  }
  swapInSpare(path);
}

async function writeThroughSpare(path: string, data: string, mode: number): Promise<void> {
  const handle = await open(sparePaths(path).spare, constants.O_WRONLY | constants.O_CREAT, mode);
  try {
    await handle.writeFile(data);
    await handle.truncate(Buffer.byteLength(data));
    await handle.sync();
  } finally {
    await handle.close();
  }
  swapInSpare(path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * The spare, written, replaces the file, whose inode is kept as the next spare. Renames and a
 * link: directory work in the page cache, done in place. A daemon killed at any step leaves the
 * file old or new and whole; a kept link it leaves is removed by the next write.
 */
function swapInSpare(path: string): void {
  const { spare, kept } = sparePaths(path);
  rmSync(kept, { force: true });
  let keeping = true;
  try {
    linkSync(path, kept);
  } catch (error) {
    // The first write of the file: nothing to keep, the spare is made by the next one.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    keeping = false;
  }
  crashPoint(`before rename ${basename(path)}`);
  renameSync(spare, path);
  if (keeping) renameSync(kept, spare);
}
