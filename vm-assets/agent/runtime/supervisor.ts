// Starts a container through the init helper's supervisor. The supervisor is detached into its
// own session so it outlives this daemon (conmon's model); the daemon talks to it only during
// start, through two pipes: `ready` (supervisor → us: `mounted MS` when it mounts the rootfs,
// `created PID`, then `started` or `error`)
// and `go` (us → supervisor: the moment between clone and exec where the network is set up).
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { ActivityLog, ActivityScope } from '../activity/activity-log.js';

export interface SupervisorLaunch {
  helper: string;
  /** The helper's `run` arguments (initArgs), with `--ready-fd 3 --go-fd 4`. */
  args: string[];
  supervisorLog: string;
  /** Runs between `created` and `go`: the container's process exists, namespaces made, nothing exec'd. */
  beforeGo?: (pid: number) => Promise<void>;
  /** With `--overlay`: the command the supervisor's own mount equals, logged with the time it reports (`mounted MS`). */
  mountArgv?: string[];
  timeoutMs?: number;
}

export class StartError extends Error {}

/** The fds the supervisor finds its two pipes on (stdio 3 and 4 of the spawn below). */
export const READY_FD = 3;
export const GO_FD = 4;

export async function launchSupervisor(activity: ActivityLog, launch: SupervisorLaunch, scope: ActivityScope): Promise<number> {
  const argv = [launch.helper, ...launch.args];
  const started = performance.now();
  const logFd = openSync(launch.supervisorLog, 'a', 0o600);
  // No environment: the helper reads none (the container's comes in --env), and a supervisor that
  // outlives the agent should not carry it; copying the agent's into each spawn cost a start ~0.3 ms.
  const child = spawn(launch.helper, argv.slice(1), { detached: true, env: {}, stdio: ['ignore', logFd, logFd, 'pipe', 'pipe'] });
  closeSync(logFd);
  const ready = child.stdio[3] as Readable;
  const go = child.stdio[4] as Writable;
  go.on('error', () => undefined); // the supervisor may exit before reading `go`
  const lines = readLines(ready);
  const timeoutMs = launch.timeoutMs ?? 30_000;
  try {
    let first = await withTimeout(lines.next(), timeoutMs, 'the supervisor did not report the container process');
    const mounted = /^mounted (\d+(?:\.\d+)?)$/.exec(first ?? '');
    if (mounted?.[1] && launch.mountArgv) {
      activity.record({ kind: 'command', argv: launch.mountArgv, ok: true, durationMs: Number(mounted[1]), ...scope });
      first = await withTimeout(lines.next(), timeoutMs, 'the supervisor did not report the container process');
    }
    const created = /^created (\d+)$/.exec(first ?? '');
    if (!created?.[1]) throw new StartError(first?.startsWith('error ') ? first.slice(6) : `supervisor said "${first ?? 'nothing'}"`);
    const pid = Number(created[1]);
    await launch.beforeGo?.(pid);
    go.end('go\n');
    const second = await withTimeout(lines.next(), timeoutMs, 'the container did not start');
    if (second !== 'started')
      throw new StartError(second?.startsWith('error ') ? second.slice(6) : `supervisor said "${second ?? 'nothing'}"`);
    activity.record({ kind: 'command', argv, ok: true, durationMs: performance.now() - started, ...scope });
    return pid;
  } catch (error) {
    go.destroy();
    activity.record({
      kind: 'command',
      argv,
      ok: false,
      error: (error as Error).message,
      durationMs: performance.now() - started,
      ...scope,
    });
    throw error instanceof StartError ? error : new StartError((error as Error).message);
  } finally {
    ready.destroy();
    child.unref();
  }
}

/** Yields the lines a pipe carries; `next()` resolves undefined at end of stream. */
function readLines(stream: Readable): { next(): Promise<string | undefined> } {
  const queue: string[] = [];
  const waiters: Array<(line: string | undefined) => void> = [];
  let buffer = '';
  let ended = false;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else queue.push(line);
    }
  });
  const end = (): void => {
    ended = true;
    for (const waiter of waiters.splice(0)) waiter(undefined);
  };
  stream.on('end', end);
  stream.on('close', end);
  stream.on('error', end);
  return {
    next: () => {
      const line = queue.shift();
      if (line !== undefined || ended) return Promise.resolve(line);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StartError(`${message} within ${ms} ms`)), ms);
    }),
  ]);
}
