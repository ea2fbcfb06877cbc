// How the network code talks to the kernel's tools. Changes go through the ActivityLog (the
// window's record of what the agent did); reads (`ip -j …`, `iptables -S`) run quietly, because
// the topology view polls them and a log full of reads would bury the steps that matter.
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { CommandFailedError, type ActivityLog, type ActivityScope } from '../activity/activity-log.js';

export class QuietCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')} failed (${code === null ? 'killed' : `exit ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    this.name = 'QuietCommandError';
  }
}

/**
 * Runs an argv without recording it; rejects on a non-zero exit or after timeoutMs. input may be a
 * promise: the process starts now and gets its stdin when it settles (see startIpBatch).
 */
export function readCommand(
  argv: readonly string[],
  options: { input?: string | Promise<string>; timeoutMs?: number } = {},
): Promise<string> {
  const [command, ...args] = argv;
  if (command === undefined) return Promise.reject(new Error('empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 10_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new QuietCommandError(argv, code, stderr));
    });
    child.stdin.on('error', () => undefined);
    void Promise.resolve(options.input ?? '').then((input) => child.stdin.end(input));
  });
}

/** The recorded runner the network code changes the kernel with (an ActivityLog, or a test's stand-in). */
export interface CommandRunner {
  run(argv: readonly string[], scope?: ActivityScope, options?: { input?: string }): Promise<{ stdout: string; stderr: string }>;
}

export function activityRunner(activity: ActivityLog): CommandRunner {
  return { run: (argv, scope, options) => activity.run(argv, scope, options) };
}

/** The argv prefix that runs a tool inside a process's network namespace (and only that namespace). */
export function inNetns(pid: number): string[] {
  return ['nsenter', `--net=/proc/${pid}/ns/net`];
}

const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin'];

/**
 * The daemon may have been started with a user's PATH (no sbin). The activity log shows commands
 * as a person types them (`ip link add …`, not `/usr/sbin/ip …`), so the directories are added
 * to the daemon's own PATH instead of spelling out full paths.
 */
export function ensureSbinOnPath(): void {
  const parts = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const missing = SBIN_DIRS.filter((dir) => !parts.includes(dir));
  if (missing.length > 0) process.env.PATH = [...parts, ...missing].join(delimiter);
}

/** The full path of a tool on PATH, or undefined. */
export async function findBinary(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `ip -j -batch` prints one JSON document per command, back to back: split them. */
export function parseJsonSequence(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') {
      if (depth === 0) start = i;
      depth += 1;
    } else if (ch === ']' || ch === '}') {
      depth -= 1;
      if (depth === 0 && start >= 0) {
        out.push(JSON.parse(text.slice(start, i + 1)));
        start = -1;
      }
    }
  }
  return out;
}

/** A batch line's token: iproute2 splits batch lines on blanks and reads quotes and `#`, so none may appear. */
const BATCH_TOKEN = /^[^\s"'#\\]+$/;

/** An `ip -batch -` process started ahead of its lines (the spawn overlaps other work); see startIpBatch. */
export interface IpBatch {
  /** Sends the lines, waits for the process, records each line; throws the failing line's error. */
  run(lines: ReadonlyArray<readonly string[]>): Promise<void>;
  /** Ends the process with no lines (nothing is recorded). */
  cancel(): void;
}

/**
 * Runs several `ip` commands in one process (`ip -batch -`, behind the same namespace prefix),
 * and records each line in the activity log as the command it equals (`[...prefix, 'ip', ...line]`),
 * with an equal share of the batch's time. iproute2 stops at the first failing line and names it
 * (`Command failed -:N`): the lines before it are recorded as done, that one as failed, the rest
 * not at all, and the error thrown is that line's, as a lone command would have failed.
 */
export async function runIpBatch(
  activity: ActivityLog,
  prefix: readonly string[],
  lines: ReadonlyArray<readonly string[]>,
  scope: ActivityScope = {},
): Promise<void> {
  if (lines.length === 0) return;
  checkBatchLines(lines);
  await startIpBatch(activity, prefix, scope).run(lines);
}

/**
 * What iproute2's `-batch` said about each failing line, by line index: the text it printed
 * before that line's `Command failed -:N`.
 */
function batchFailures(stderr: string): Map<number, string> {
  const said = new Map<number, string>();
  let text = '';
  for (const part of stderr.split('\n')) {
    const failed = /^Command failed -:(\d+)\s*$/.exec(part);
    if (!failed?.[1]) text += `${part}\n`;
    else {
      said.set(Number(failed[1]) - 1, text.trim());
      text = '';
    }
  }
  return said;
}

function checkBatchLines(lines: ReadonlyArray<readonly string[]>): void {
  for (const line of lines)
    if (line.length === 0 || !line.every((token) => BATCH_TOKEN.test(token))) throw new Error(`not a batch line: ${line.join(' ')}`);
}

/**
 * Starts `ip -batch -` now and gives it its lines later: a veth's container side is spawned (the
 * nsenter and ip execs, the netlink socket opened in the container's netns) while the machine side
 * still runs, and only the lines wait for the pair to arrive. The time recorded runs from the lines.
 */
export function startIpBatch(activity: ActivityLog, prefix: readonly string[], scope: ActivityScope = {}): IpBatch {
  let send: (input: string) => void = () => undefined;
  const input = new Promise<string>((resolve) => (send = resolve));
  const result = readCommand([...prefix, 'ip', '-batch', '-'], { input });
  // Settled by run() or dropped by cancel(); never an unhandled rejection in between.
  result.catch(() => undefined);
  return {
    cancel: () => send(''),
    run: async (lines) => {
      try {
        checkBatchLines(lines);
      } catch (error) {
        send('');
        throw error;
      }
      const started = performance.now();
      send(lines.map((line) => `${line.join(' ')}\n`).join(''));
      let failure: { line: number; error: Error; stderr: string; code: number | null } | undefined;
      try {
        await result;
      } catch (error) {
        const stderr = error instanceof QuietCommandError ? error.stderr : '';
        // Without -force iproute2 stops at the first failing line: at most one is named.
        const [named, said] = [...batchFailures(stderr)][0] ?? [undefined, stderr.trim()];
        failure = {
          line: named === undefined ? 0 : Math.min(Math.max(named, 0), lines.length - 1),
          error: error instanceof Error ? error : new Error(String(error)),
          stderr: said,
          code: error instanceof QuietCommandError ? error.code : null,
        };
      }
      const ran = failure === undefined ? lines.length : failure.line + 1;
      const share = (performance.now() - started) / ran;
      for (const [index, line] of lines.slice(0, ran).entries()) {
        const argv = [...prefix, 'ip', ...line];
        if (failure?.line !== index) {
          activity.record({ kind: 'command', argv, ok: true, durationMs: share, ...scope });
          continue;
        }
        const error =
          failure.error instanceof QuietCommandError ? new CommandFailedError(argv, failure.code, failure.stderr) : failure.error;
        activity.record({ kind: 'command', argv, ok: false, error: error.message, durationMs: share, ...scope });
        throw error;
      }
    },
  };
}

/**
 * Runs independent `ip` commands (each with its own scope: different containers') in one
 * `ip -force -batch -` process: a failing line does not stop the others. Each line is recorded as
 * the command it equals, with an equal share of the batch's time; the result holds, line by line,
 * undefined or the error that line alone would have failed with (iproute2 names each failing line,
 * `Command failed -:N`, after what it printed about it).
 */
export async function runIpBatchEach(
  activity: ActivityLog,
  lines: ReadonlyArray<{ line: readonly string[]; scope: ActivityScope }>,
): Promise<Array<Error | undefined>> {
  if (lines.length === 0) return [];
  checkBatchLines(lines.map(({ line }) => line));
  const started = performance.now();
  let stderr = '';
  let code: number | null = 0;
  let spawnError: Error | undefined;
  try {
    await readCommand(['ip', '-force', '-batch', '-'], { input: lines.map(({ line }) => `${line.join(' ')}\n`).join('') });
  } catch (error) {
    if (error instanceof QuietCommandError) ({ stderr, code } = error);
    else spawnError = error instanceof Error ? error : new Error(String(error));
  }
  const said = batchFailures(stderr);
  const share = (performance.now() - started) / lines.length;
  return lines.map(({ line, scope }, index) => {
    const argv = ['ip', ...line];
    // A batch that failed without naming a line (killed, not found) failed for every line.
    const error =
      spawnError ??
      (said.has(index) || (code !== 0 && said.size === 0) ? new CommandFailedError(argv, code, said.get(index) ?? stderr) : undefined);
    activity.record({
      kind: 'command',
      argv,
      ok: error === undefined,
      ...(error ? { error: error.message } : {}),
      durationMs: share,
      ...scope,
    });
    return error;
  });
}
