// One agent per state directory, for the agent's whole life. Two agents on one state directory
// would each reconcile, reap and write the same records (seen when twenty CLIs found the agent
// gone and each started one). The lock is a kernel flock on an open file description this process
// keeps open: the kernel drops it when the agent dies, however it dies, so no stale lock can ever
// outlive its owner and none needs breaking. Node has no flock(2): the init helper takes it on our
// descriptor (`onggi-init lock 3`) and exits; the lock stays with the description we hold.
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, readFileSync, watch, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The helper's exit status when the lock is held by another open file description (EX_TEMPFAIL). */
const HELD = 75;

/**
 * How long a second agent waits for the holder to write its pid. The holder writes it right after
 * its lock is taken, so the wait only spans that window (found when eight agents started at once
 * and one read the file between the winner's lock and its write).
 */
const HOLDER_PID_WAIT_MS = 3000;

export class StateDirBusyError extends Error {
  constructor(
    readonly stateDir: string,
    readonly holderPid: number | undefined,
  ) {
    super(`another agent${holderPid === undefined ? '' : ` (pid ${holderPid})`} is serving ${stateDir}; this one exits`);
    this.name = 'StateDirBusyError';
  }
}

export function lockFileFor(stateDir: string): string {
  return join(stateDir, 'agent.lock');
}

/**
 * Takes the state directory's lock for the rest of this process's life, and writes our pid into
 * the lock file for the next one's message. Throws StateDirBusyError when another agent holds it.
 */
export async function lockStateDir(stateDir: string, helper: string): Promise<void> {
  const path = lockFileFor(stateDir);
  // Opened with O_CLOEXEC (libuv's default): no container supervisor or command we spawn inherits
  // the description, so none can keep the lock alive after we die.
  const fd = openSync(path, 'a+', 0o600);
  // Watched before the lock is tried, so a pid the holder writes after our read is still seen.
  const written = watch(path, { persistent: false });
  try {
    const taken = spawnSync(helper, ['lock', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' });
    if (taken.status === HELD) {
      closeSync(fd);
      throw new StateDirBusyError(stateDir, await holderPid(path, written));
    }
    if (taken.status !== 0) {
      const why = taken.error?.message ?? (taken.stderr.trim() || `exit ${taken.status ?? taken.signal}`);
      throw new Error(`cannot lock ${path} with ${helper}: ${why}`);
    }
  } finally {
    written.close();
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`, 0);
  // fd is never closed: the lock lives exactly as long as this process.
}

/** The holder's pid from the lock file, waiting for the holder to write it if it has not yet. */
async function holderPid(path: string, written: ReturnType<typeof watch>): Promise<number | undefined> {
  const read = (): number | undefined => {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  };
  const now = read();
  if (now !== undefined) return now;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(read()), HOLDER_PID_WAIT_MS);
    written.on('change', () => {
      const pid = read();
      if (pid === undefined) return;
      clearTimeout(timer);
      resolve(pid);
    });
  });
}
