// /etc/subuid and /etc/subgid (shadow-utils' format, subuid(5)): `OWNER:START:COUNT` a line.
// We read every line to know what is taken, and only ever add our own line (atomically, every
// other line kept as it was written), never change or drop anyone else's.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../state/atomic-write.js';

export interface SubidEntry {
  owner: string;
  start: number;
  count: number;
}

/** The highest id a user namespace's map may reach on the machine (uid 4294967295 is (uid_t)-1). */
export const MAX_HOST_ID = 4294967294;

/** The entries of a subid file's text; lines that are not `OWNER:START:COUNT` (comments, junk) are skipped. */
export function parseSubids(text: string): SubidEntry[] {
  const entries: SubidEntry[] = [];
  for (const line of text.split('\n')) {
    const match = /^([^:#\s][^:]*):(\d{1,10}):(\d{1,10})\s*$/.exec(line);
    if (!match?.[1]) continue;
    const start = Number(match[2]);
    const count = Number(match[3]);
    if (count > 0 && start + count - 1 <= MAX_HOST_ID) entries.push({ owner: match[1], start, count });
  }
  return entries;
}

/** The file's text, empty when it does not exist (a machine without shadow-utils' files). */
export async function readSubidText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
}

/**
 * Where a new entry of `count` ids goes: after every existing entry, at least at 100000 (shadow's
 * SUB_UID_MIN, below which system users' own ids may live), aligned to 65536 so ranges stay readable.
 * Undefined when no room is left under MAX_HOST_ID.
 */
export function placeNewEntry(entries: readonly SubidEntry[], count: number): number | undefined {
  const end = Math.max(100000, ...entries.map((entry) => entry.start + entry.count));
  const start = Math.ceil(end / 65536) * 65536;
  return start + count - 1 <= MAX_HOST_ID ? start : undefined;
}

/** Appends `OWNER:START:COUNT` to the file: written whole to a temp file and renamed, the other lines untouched. */
export async function appendSubidEntry(path: string, text: string, entry: SubidEntry): Promise<void> {
  const body = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  await writeFileAtomic(path, `${body}${entry.owner}:${entry.start}:${entry.count}\n`, { durable: true, mode: 0o644 });
}
