// The host side's one way to write a file in the app's data dir so that a crash leaves the old
// content or the new, never a torn file: temp file, fsync, rename, fsync of the directory (so the
// rename itself survives a power loss). Windows refuses to fsync a directory (EPERM, also under
// Wine): there it is best-effort, as the platform layer says, because the rename has already
// happened and reporting a failure would make the user retry an add that succeeded.
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { currentFacts, directorySyncIsBestEffort, type PlatformFacts } from './platform/platform.js';

export interface AtomicWriteOptions {
  /** The desktop's facts (default: this process's). */
  facts?: PlatformFacts;
  /** File mode of a new file (default 0600: the data dir holds machine definitions). */
  mode?: number;
}

let sequence = 0;

export async function writeFileAtomic(path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${Date.now()}.${sequence++}.tmp`;
  try {
    const file = await open(temp, 'wx', options.mode ?? 0o600);
    try {
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  try {
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } catch (error) {
    if (!directorySyncIsBestEffort(options.facts ?? currentFacts())) throw error;
  }
}

/** The same for a JSON document (two-space indented, newline at the end). */
export function writeJsonAtomic(path: string, content: unknown, options: AtomicWriteOptions = {}): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(content, null, 2)}\n`, options);
}
