import { renameSync, rmSync, writeFileSync } from 'node:fs';
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
}

/**
 * Writes a file so that a reader, or a daemon restarted after `kill -9`, sees either the old
 * content or the new one, never a torn mix: temp file, fsync, rename, fsync the directory.
 */
export async function writeFileAtomic(
  path: string,
  data: string,
  { mode = 0o600, durable = true }: AtomicWriteOptions = {},
): Promise<void> {
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
