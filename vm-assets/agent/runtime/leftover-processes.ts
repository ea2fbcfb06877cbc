// Supervisors a dead agent left mid-start. A supervisor waiting for "go" when the agent died gives
// up on its own (EOF on the go pipe), but asynchronously: a restarted agent that released the
// container's mount and cgroup, or started it again, while that supervisor was still cleaning up
// would race it — two unmounts, or an old "cancelled before start" exit file landing in the new
// run's directory. So recovery ends them first, and knows them by what they cannot hide: their
// argv names the container's exit file.
import { readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { readProcFile } from './proc.js';

/** Live processes whose argv carries `--exit-file ROOT/ID/exit.json`, by container id. */
export function supervisorsUnder(root: string): Map<string, number[]> {
  const found = new Map<string, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = (readProcFile(`/proc/${entry}/cmdline`) ?? '').split('\0');
    const at = argv.indexOf('--exit-file');
    const exitFile = at >= 0 ? argv[at + 1] : undefined;
    if (!exitFile || basename(exitFile) !== 'exit.json' || dirname(dirname(exitFile)) !== root) continue;
    if (!isLive(Number(entry))) continue;
    const id = basename(dirname(exitFile));
    found.set(id, [...(found.get(id) ?? []), Number(entry)]);
  }
  return found;
}

/**
 * Waits up to `graceMs` for the processes to end by themselves (a supervisor writing the exit file
 * of a container that just ended), then SIGKILLs what is left and waits, bounded, until the
 * kernel has ended them: a SIGKILLed process may still finish the system call it is in.
 */
export async function endProcesses(pids: readonly number[], { graceMs = 0 } = {}): Promise<void> {
  if (pids.length === 0) return;
  const graceEnds = Date.now() + graceMs;
  while (pids.some(isLive) && Date.now() < graceEnds) await delay(10);
  for (const pid of pids.filter(isLive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone in between.
    }
  }
  for (let i = 0; i < 500 && pids.some(isLive); i += 1) await delay(10);
}

/** Alive and not a zombie: a zombie runs no code and holds no mount or file. */
function isLive(pid: number): boolean {
  const stat = readProcFile(`/proc/${pid}/stat`);
  if (stat === undefined) return false;
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
