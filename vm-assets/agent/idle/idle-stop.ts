// Auto-stop: the machine shuts itself down after N idle minutes, so an EC2 instance stops
// (InstanceInitiatedShutdownBehavior=stop) while the laptop that launched it is closed. Idle means:
// no running container used CPU since the last look, no terminal is open (a pseudo-terminal on the
// machine), no forwarded connection is open (an established loopback TCP connection: SSH forwards
// land on the machine's 127.0.0.1). A warning event goes out before the shutdown. The setting lives
// in the state dir, so it holds across agent restarts and reboots.
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { lazySchema } from '../../../shared/lazy-schema.js';
import { writeFileAtomic } from '../state/atomic-write.js';

export const SHUTDOWN_ARGV: readonly string[] = ['shutdown', '-h', 'now'];
/** How long before the shutdown the warning goes out. */
export const WARN_BEFORE_MS = 5 * 60_000;
/** CPU a container may use between two looks and still count as idle (its housekeeping: 1 % of a CPU). */
export const IDLE_CPU_SHARE = 0.01;

export const IdleStopSettings = lazySchema(() => z.strictObject({ minutes: z.number().int().min(0).max(1440) }));
export type IdleStopSettings = z.infer<typeof IdleStopSettings>;

/** One look at the machine. */
export interface IdleSample {
  at: number;
  /** CPU time used so far (ns) by each running container, by id. */
  containerCpuNs: ReadonlyMap<string, number>;
  /** Open terminals (pseudo-terminals of the machine's own devpts). */
  terminals: number;
  /** Open forwarded connections (established TCP connections on the loopback). */
  forwards: number;
}

export interface IdleDecision {
  /** When the machine was last seen busy (epoch ms). */
  lastActiveAt: number;
  action: 'none' | 'warn' | 'shutdown';
  /** Time left before the shutdown (0 when it is due). */
  remainingMs: number;
  /** Why the machine counts as busy now, when it does. */
  busy?: string;
}

/** Whether the machine is busy between two looks, and what to do about it. */
export function idleDecision(previous: IdleSample | undefined, current: IdleSample, lastActiveAt: number, timeoutMs: number): IdleDecision {
  const busy = busyReason(previous, current);
  const active = busy !== undefined ? current.at : lastActiveAt;
  const remainingMs = Math.max(0, active + timeoutMs - current.at);
  const action =
    timeoutMs <= 0 || busy !== undefined ? 'none' : remainingMs === 0 ? 'shutdown' : remainingMs <= WARN_BEFORE_MS ? 'warn' : 'none';
  return { lastActiveAt: active, action, remainingMs, ...(busy !== undefined ? { busy } : {}) };
}

function busyReason(previous: IdleSample | undefined, current: IdleSample): string | undefined {
  if (current.terminals > 0) return `${current.terminals} terminal(s) open`;
  if (current.forwards > 0) return `${current.forwards} forwarded connection(s) open`;
  const elapsedNs = previous ? (current.at - previous.at) * 1e6 : 0;
  for (const [id, used] of current.containerCpuNs) {
    const before = previous?.containerCpuNs.get(id);
    // A container that started since the last look is activity in itself.
    if (before === undefined) return `container ${id.slice(0, 12)} started`;
    if (used - before > elapsedNs * IDLE_CPU_SHARE) return `container ${id.slice(0, 12)} is working`;
  }
  return undefined;
}

/** Pseudo-terminals open on the machine: the numbered entries of its devpts. */
export async function countTerminals(devPts = '/dev/pts'): Promise<number> {
  // no devpts: no terminals
  const entries = await readdir(devPts).catch(() => []);
  return entries.filter((entry) => /^\d+$/.test(entry)).length;
}

/** Established TCP connections on the loopback in /proc/net/tcp and tcp6 text (state 01). */
export function countLoopbackConnections(tables: readonly string[]): number {
  let count = 0;
  for (const table of tables) {
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, local, , state] = fields;
      if (state !== '01' || !local) continue;
      const address = local.split(':')[0] ?? '';
      // 0100007F is 127.0.0.1 (little-endian); the v6 loopback and v4-mapped 127.0.0.1 end alike.
      if (address.endsWith('0100007F') || address === '00000000000000000000000001000000') count += 1;
    }
  }
  // each loopback connection appears twice (both ends are local)
  return Math.ceil(count / 2);
}

export interface IdleStopOptions {
  stateDir: string;
  /** CPU used so far by each running container (ns), by id. */
  containerCpu: () => Promise<ReadonlyMap<string, number>>;
  /** The warning (minutes left) for whoever is connected. */
  onWarn: (minutes: number) => void;
  log: (message: string) => void;
  /** Runs the shutdown argv (tests give their own: the real one is never run there). */
  run?: (argv: readonly string[]) => void;
  now?: () => number;
  probeTerminals?: () => Promise<number>;
  probeForwards?: () => Promise<number>;
}

export class IdleStop {
  private settings: IdleStopSettings = { minutes: 0 };
  private previous: IdleSample | undefined;
  private lastActiveAt: number;
  private timer: NodeJS.Timeout | undefined;
  private shuttingDown = false;
  private readonly now: () => number;

  constructor(private readonly options: IdleStopOptions) {
    this.now = options.now ?? Date.now;
    this.lastActiveAt = this.now();
  }

  private get file(): string {
    return join(this.options.stateDir, 'idle-stop.json');
  }

  /** Reads the stored setting (none: off) and looks every `intervalMs`. */
  async start(intervalMs = 60_000): Promise<void> {
    // no file (or a bad one): auto-stop stays off until the host sets it
    const text = await readFile(this.file, 'utf8').catch(() => '');
    const parsed = text ? IdleStopSettings.safeParse(JSON.parse(text)) : undefined;
    if (parsed?.success) this.settings = parsed.data;
    this.timer = setInterval(
      () => void this.tick().catch((error: unknown) => this.options.log(`idle check failed: ${String(error)}`)),
      intervalMs,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  get minutes(): number {
    return this.settings.minutes;
  }

  /** Sets the timeout (0: off) and keeps it; the idle clock starts again now. */
  async configure(minutes: number): Promise<IdleStopSettings> {
    const settings = IdleStopSettings.parse({ minutes });
    await writeFileAtomic(this.file, `${JSON.stringify(settings)}\n`, { mode: 0o644 });
    this.settings = settings;
    this.lastActiveAt = this.now();
    return settings;
  }

  /** One look: warn or shut down when the machine has been idle long enough. */
  async tick(): Promise<IdleDecision> {
    const sample: IdleSample = {
      at: this.now(),
      containerCpuNs: await this.options.containerCpu(),
      terminals: await (this.options.probeTerminals ?? countTerminals)(),
      forwards: await (this.options.probeForwards ?? probeLoopbackConnections)(),
    };
    const decision = idleDecision(this.previous, sample, this.lastActiveAt, this.settings.minutes * 60_000);
    this.previous = sample;
    this.lastActiveAt = decision.lastActiveAt;
    if (decision.action === 'warn') this.options.onWarn(Math.ceil(decision.remainingMs / 60_000));
    if (decision.action === 'shutdown' && !this.shuttingDown) {
      this.shuttingDown = true;
      this.options.log(`idle for ${this.settings.minutes} minutes: ${SHUTDOWN_ARGV.join(' ')}`);
      (this.options.run ?? runDetached)(SHUTDOWN_ARGV);
    }
    return decision;
  }
}

async function probeLoopbackConnections(): Promise<number> {
  // a kernel without IPv6 has no tcp6 table
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((file) => readFile(file, 'utf8').catch(() => '')));
  return countLoopbackConnections(tables);
}

function runDetached(argv: readonly string[]): void {
  const [command, ...args] = argv;
  if (!command) return;
  spawn(command, args, { stdio: 'ignore', detached: true }).unref();
}
