// Starts a container through the init helper's supervisor. The supervisor is forked by the
// helper's `launch` into its own session so it outlives this daemon (conmon's model, no child of
// ours); the daemon talks to it only during
// start, through two pipes: `ready` (supervisor → us: `mounted MS` when it mounts the rootfs,
// `created PID`, then `started` or `error`)
// and `go` (us → supervisor: the moment between clone and exec where the network is set up).
import { spawn } from 'node:child_process';
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
  const { ready, go, failure } = await launcherFor(launch.helper).pipes(launch.args, launch.supervisorLog);
  if (!ready || !go) {
    const error = `the supervisor could not be launched${await failure}`;
    activity.record({ kind: 'command', argv, ok: false, error, durationMs: performance.now() - started, ...scope });
    throw new StartError(error);
  }
  go.on('error', () => undefined); // the supervisor may exit before reading `go`
  const lines = readLines(ready);
  const timeoutMs = launch.timeoutMs ?? 30_000;
  // A supervisor that never ran says nothing: the launch that was to fork it says why.
  const said = async (line: string | undefined) => line ?? `nothing${await failure}`;
  try {
    let first = await withTimeout(lines.next(), timeoutMs, 'the supervisor did not report the container process');
    const mounted = /^mounted (\d+(?:\.\d+)?)$/.exec(first ?? '');
    if (mounted?.[1] && launch.mountArgv) {
      activity.record({ kind: 'command', argv: launch.mountArgv, ok: true, durationMs: Number(mounted[1]), ...scope });
      first = await withTimeout(lines.next(), timeoutMs, 'the supervisor did not report the container process');
    }
    const created = /^created (\d+)$/.exec(first ?? '');
    if (!created?.[1]) throw new StartError(first?.startsWith('error ') ? first.slice(6) : `supervisor said "${await said(first)}"`);
    const pid = Number(created[1]);
    await launch.beforeGo?.(pid);
    go.end('go\n');
    const second = await withTimeout(lines.next(), timeoutMs, 'the container did not start');
    if (second !== 'started')
      throw new StartError(second?.startsWith('error ') ? second.slice(6) : `supervisor said "${await said(second)}"`);
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
  }
}

/** At most this many supervisors a `launch`: two pipes each, so 128 fds. */
const LAUNCH_BATCH = 64;
/**
 * And at most this much argv (a run's is ~6 KiB, more with many --env or --mount): exec refuses a
 * command line past a quarter of the stack limit (2 MiB with the usual 8 MiB) with E2BIG.
 */
const LAUNCH_ARGV_BYTES = 256 * 1024;

interface LaunchRequest {
  args: string[];
  supervisorLog: string;
  resolve(pipes: LaunchedPipes): void;
}

interface LaunchedPipes {
  /** null when the spawn itself failed (then `failure` says why). */
  ready: Readable | null;
  go: Writable | null;
  /** Resolves once the launch has ended: empty, or why it failed (`: MESSAGE`). */
  failure: Promise<string>;
}

/**
 * Supervisors are forked by the helper's `launch` (vm-assets/init/launch.c says why), one spawn
 * for the starts that reach this point in the same turn of the event loop: 100 concurrent starts
 * made 100 forks of the agent, each blocking its event loop until the child had exec'd.
 */
class Launcher {
  private queue: LaunchRequest[] = [];

  constructor(private readonly helper: string) {}

  pipes(args: string[], supervisorLog: string): Promise<LaunchedPipes> {
    return new Promise((resolve) => {
      this.queue.push({ args, supervisorLog, resolve });
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    while (this.queue.length > 0) {
      let bytes = 0;
      let count = 0;
      for (const { args } of this.queue) {
        bytes += args.reduce((sum, arg) => sum + Buffer.byteLength(arg) + 1, 0);
        if (count > 0 && (count === LAUNCH_BATCH || bytes > LAUNCH_ARGV_BYTES)) break;
        count++;
      }
      const batch = this.queue.splice(0, count);
      const argv = ['launch', String(batch.length)];
      for (const { args, supervisorLog } of batch) argv.push(supervisorLog, String(args.length + 1), this.helper, ...args);
      // No environment: the helper reads none (the container's comes in --env), and a supervisor
      // that outlives the agent should not carry it.
      const child = spawn(this.helper, argv, {
        env: {},
        stdio: ['ignore', 'ignore', 'pipe', ...batch.flatMap(() => ['pipe', 'pipe'] as const)],
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const failure = new Promise<string>((resolve) => {
        child.once('error', (error) => resolve(`: ${error.message}`));
        child.once('close', (code) => resolve(code === 0 ? '' : `: launch exited ${code}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
      });
      child.unref();
      batch.forEach(({ resolve }, i) =>
        resolve({ ready: child.stdio[READY_FD + 2 * i] as Readable | null, go: child.stdio[GO_FD + 2 * i] as Writable | null, failure }),
      );
    }
  }
}

const launchers = new Map<string, Launcher>();

function launcherFor(helper: string): Launcher {
  let launcher = launchers.get(helper);
  if (!launcher) launchers.set(helper, (launcher = new Launcher(helper)));
  return launcher;
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
