// Reading the log file the supervisor writes (one JSON object per line, Docker's json-file
// shape): all of it, its tail, or following it as it grows.
import { watch } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { LogEntry } from '../../../shared/containers.js';

export interface LogChunk {
  entries: LogEntry[];
  /** Byte offset just after the last complete line read. */
  offset: number;
}

/** Reads complete lines from `offset`; a half-written last line is left for the next read. */
export async function readLogFrom(path: string, offset: number): Promise<LogChunk> {
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  if (size <= offset) return { entries: [], offset };
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    const end = buffer.lastIndexOf(0x0a);
    if (end < 0) return { entries: [], offset };
    const entries: LogEntry[] = [];
    for (const line of buffer.subarray(0, end).toString('utf8').split('\n')) {
      const parsed = LogEntry.safeParse(safeJson(line));
      if (parsed.success) entries.push(parsed.data);
    }
    return { entries, offset: offset + end + 1 };
  } finally {
    await handle.close();
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/**
 * Follows a log: calls `onEntries` for what appears after `offset` until `done` resolves, then
 * drains what is left. inotify tells us when the file grows; nothing polls.
 */
export async function followLog(
  path: string,
  offset: number,
  onEntries: (entries: LogEntry[]) => void,
  done: Promise<unknown>,
): Promise<void> {
  let position = offset;
  let reading = Promise.resolve();
  const drain = (): Promise<void> =>
    (reading = reading.then(async () => {
      const chunk = await readLogFrom(path, position);
      position = chunk.offset;
      if (chunk.entries.length > 0) onEntries(chunk.entries);
    }));
  const watcher = watch(path, () => void drain());
  try {
    await drain();
    await done;
  } finally {
    watcher.close();
  }
  await drain();
}
