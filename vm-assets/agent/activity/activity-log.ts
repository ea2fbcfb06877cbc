// The activity log: every privileged step the agent takes, recorded as what a person would have
// typed — the argv that ran, or `echo VALUE > FILE` for a file write — with its result and how
// long it took. It is the window's Activity view and the answer to "what did it do to my kernel?".
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { appendFile, mkdir, rmdir } from 'node:fs/promises';
import type { ActivityEntry } from '../../../shared/agent-rpc.js';

/** EBUSY retries wait 10, 20, … 1280 ms: about 2.5 s in all before the error is given up on. */
const RMDIR_BUSY_LAST_DELAY_MS = 1280;
import { crashPoint, crashPointsArmed } from '../state/crash-points.js';

export interface ActivityScope {
  container?: string;
  network?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class CommandFailedError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')} failed (${code === null ? 'killed' : `exit ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    this.name = 'CommandFailedError';
  }
}

/** Entries kept for `list`: the newest RECENT_LIMIT. */
const RECENT_LIMIT = 5000;
/**
 * Dropped in batches of this many past the limit: dropping one entry a record moved all 5,000 down
 * a slot (a container start records ~30).
 */
const RECENT_SLACK = 1000;

export class ActivityLog {
  private nextId = 1;
  private readonly recent: ActivityEntry[] = [];
  private readonly listeners = new Set<(entry: ActivityEntry) => void>();
  /** Journal lines not written yet, and the write under way (one at a time, so lines keep their order). */
  private unwritten: string[] = [];
  private writing: Promise<void> | undefined;

  /** @param journal a JSON-lines file every entry is appended to, so the history survives restarts. */
  constructor(private readonly journal?: string) {}

  /** Runs an argv (never a shell line) and records it. Rejects with CommandFailedError on non-zero exit. */
  async run(argv: readonly string[], scope: ActivityScope = {}, options: { input?: string } = {}): Promise<RunResult> {
    const [command, ...args] = argv;
    if (command === undefined) throw new Error('empty argv');
    const started = performance.now();
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }>((resolve) => {
      const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', (error) => resolve({ code: null, stdout, stderr, error }));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.on('error', () => undefined); // a command that never reads its stdin
      child.stdin.end(options.input ?? '');
    });
    const ok = result.code === 0 && !result.error;
    const error = result.error?.message ?? (ok ? undefined : new CommandFailedError(argv, result.code, result.stderr).message);
    this.record({ kind: 'command', argv: [...argv], ok, error, durationMs: performance.now() - started, ...scope });
    if (result.error) throw result.error;
    if (!ok) throw new CommandFailedError(argv, result.code, result.stderr);
    return { stdout: result.stdout, stderr: result.stderr };
  }

  /** Writes a kernel file (cgroup, sysctl) and records it as `echo VALUE > PATH`. */
  async write(path: string, value: string, scope: ActivityScope = {}): Promise<void> {
    await this.writeLines(path, [value], scope);
  }

  /**
   * Writes lines to a kernel file that takes one a write(2) (devices.allow's rules, blkio's
   * throttles), through one open: a cgroup file's open and close cost more than the write (12
   * device rules a v1 start: 180 µs written file by file, 70 µs through one open). Each line is
   * recorded as the `echo LINE > PATH` it equals (the first with the open's time); the first that
   * fails is recorded and thrown. Synchronously: a kernel file takes a write in microseconds, a
   * trip through libuv's thread pool ~0.2 ms.
   */
  async writeLines(path: string, lines: readonly string[], scope: ActivityScope = {}): Promise<void> {
    let started = performance.now();
    let line = lines[0];
    try {
      const fd = openSync(path, 'w');
      try {
        for (line of lines) {
          writeSync(fd, line);
          this.record({ kind: 'write', path, value: line, ok: true, durationMs: performance.now() - started, ...scope });
          started = performance.now();
        }
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.record({ kind: 'write', path, value: line ?? '', ok: false, error: message, durationMs: performance.now() - started, ...scope });
      throw error;
    }
  }

  /** Creates a directory (cgroup, state) and records it as the `mkdir` it is. */
  async mkdir(path: string, scope: ActivityScope = {}, mode?: number): Promise<void> {
    await this.timed(['mkdir', '-p', path], scope, () => mkdir(path, { recursive: true, ...(mode === undefined ? {} : { mode }) }));
  }

  /**
   * Removes an empty directory (a cgroup) and records it as `rmdir`; one already gone is success.
   * A cgroup is busy (EBUSY) while a killed process is still leaving it — the kernel finishes the
   * exits of a PID namespace's other processes after its init is reaped — so that is tried again
   * for a bounded time, as runc does (libcontainer's RemovePath: doubling delays from 10 ms).
   */
  async rmdir(path: string, scope: ActivityScope = {}): Promise<void> {
    await this.timed(['rmdir', path], scope, async () => {
      for (let delay = 10; ; delay *= 2) {
        try {
          await rmdir(path);
          return;
        } catch (error) {
          // Idempotent teardown: whoever removed it first, the goal is met. The kernel says, not a message.
          if (!existsSync(path)) return;
          if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || delay > RMDIR_BUSY_LAST_DELAY_MS) throw error;
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    });
  }

  /** Performs an operation the agent does through a syscall and records the command it equals. */
  async timed<T>(argv: string[], scope: ActivityScope, operation: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await operation();
      this.record({ kind: 'command', argv, ok: true, durationMs: performance.now() - started, ...scope });
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.record({ kind: 'command', argv, ok: false, error: message, durationMs: performance.now() - started, ...scope });
      throw error;
    }
  }

  /** Records a step the agent performed itself (a syscall through the helper, a mount it made). */
  record(entry: Omit<ActivityEntry, 'id' | 'at'>): ActivityEntry {
    const full: ActivityEntry = { id: this.nextId++, at: new Date().toISOString(), ...stripUndefined(entry) };
    this.recent.push(full);
    if (this.recent.length > RECENT_LIMIT + RECENT_SLACK) this.recent.splice(0, this.recent.length - RECENT_LIMIT);
    if (this.journal) this.journalLine(`${JSON.stringify(full)}\n`);
    for (const listener of this.listeners) listener(full);
    // The label only when crash points are armed: a helper's `run` line is ~6 KiB to join.
    if (crashPointsArmed) crashPoint(full.kind === 'write' ? `echo > ${full.path ?? ''}` : (full.argv ?? []).join(' '));
    return full;
  }

  /** Resolves once every entry recorded so far is in the journal (a stopping daemon waits for it). */
  async flushed(): Promise<void> {
    await this.writing;
  }

  /**
   * Appends to the journal the lines that came while the previous append was under way, in one
   * append: a container start records ~27 entries, and 100 concurrent starts made 2,700
   * open-write-close trips through libuv's four threads, which the starts' own file work queued
   * behind (bench case 3), and could land out of order.
   */
  private journalLine(line: string): void {
    this.unwritten.push(line);
    this.writing ??= this.writeJournal(this.journal ?? '');
  }

  private async writeJournal(journal: string): Promise<void> {
    while (this.unwritten.length > 0) {
      const lines = this.unwritten.join('');
      this.unwritten = [];
      // the journal is a copy for after a crash; the entries are in memory and sent to listeners already
      await appendFile(journal, lines).catch(() => undefined);
    }
    this.writing = undefined;
  }

  list(filter: { container?: string; network?: string; limit?: number } = {}): ActivityEntry[] {
    const matching = this.recent
      .slice(-RECENT_LIMIT)
      .filter(
        (e) =>
          (filter.container === undefined || e.container === filter.container) &&
          (filter.network === undefined || e.network === filter.network),
      );
    return matching.slice(-(filter.limit ?? 500));
  }

  onEntry(listener: (entry: ActivityEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function stripUndefined<T extends object>(value: T): T {
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) kept[key] = field;
  return kept as T;
}
