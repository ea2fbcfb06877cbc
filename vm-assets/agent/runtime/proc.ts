// What /proc says about a process: enough to know a recorded pid is still the same process
// (pids are reused), and which namespaces it lives in.
import { readFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';

/** Field 22 of /proc/PID/stat: start time in clock ticks since boot. */
export async function processStartTime(pid: number): Promise<number | null> {
  const stat = readProcFile(`/proc/${pid}/stat`);
  if (stat === undefined) return null;
  // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const value = Number(fields[19]);
  return Number.isFinite(value) ? value : null;
}

/**
 * A procfs or cgroupfs file, read synchronously: the kernel makes it up in microseconds, while
 * libuv's thread pool costs ~0.2 ms for each of the open, read and close. Undefined when absent.
 */
export function readProcFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export async function isSameProcess(pid: number | null, startTime: number | null): Promise<boolean> {
  if (pid === null || startTime === null) return false;
  return (await processStartTime(pid)) === startTime;
}

export const NAMESPACE_KINDS = ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup', 'user'] as const;

/** Each namespace's inode, e.g. `net:[4026532281]` → 4026532281. */
export async function namespaceInodes(pid: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const kind of NAMESPACE_KINDS) {
    // a process that ended, or a namespace kind this kernel lacks, has no inode to compare
    const link = await readlink(`/proc/${pid}/ns/${kind}`).catch(() => '');
    const match = /\[(\d+)\]$/.exec(link);
    if (match?.[1]) out[kind] = Number(match[1]);
  }
  return out;
}
