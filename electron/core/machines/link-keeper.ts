// The one keeper of a machine's link to its agent, for every machine kind. A provider says only
// how to dial (local: the daemon's unix socket; SSH and Vagrant: connect, deploy, the init helper's `dial`);
// the keeper owns the rest: opening on demand, one attempt at a time, the machine's state and its
// events, reconnecting with backoff after the link drops (announcing when: `retryAt`), which
// failures no retry can fix, and ignoring links that are no longer the machine's.
import { OnggiError, errorMessage } from '../../../shared/errors.js';
import type { MachineState, MachineSummary } from '../../../shared/host-api.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { ClockPolicy, MachineClock } from '../../../shared/clock.js';
import type { AgentLink } from '../agent/agent-link.js';
import { ClockWatch } from './clock-watch.js';
import type { AgentEventListener, StateListener } from './machine.js';

/**
 * The delays between reconnect attempts: quick at first, then every 3 s for about two minutes —
 * a VM resumed from a laptop's sleep, or a desktop back on Wi-Fi, should be Ready within seconds
 * of it, not after a 30 s backoff — then every 30 s (a host that is gone for long; one dial is
 * cheap, but there is no point in more).
 */
export const BACKOFF_MS: readonly number[] = [500, 1000, 2000, ...Array<number>(40).fill(3000), 30_000];

/** Failures a retry cannot fix until the user acts (by error kind, whatever the machine kind). */
export const FINAL_KINDS: ReadonlySet<string> = new Set([
  'host_key_changed',
  'host_key_revoked',
  'host_key_unknown',
  'ssh_auth_failed',
  'ssh_no_credentials',
  'wrong_passphrase',
  'passphrase_cancelled',
  'key_unreadable',
  'key_invalid',
  'other_build',
  'unsupported_target',
  'sudo_password_required',
  'sudo_password_cancelled',
  'sudo_wrong_password',
  'sudo_refused',
  'sudo_absent',
  'runtime_bundle_missing',
  'agent_bundle_missing',
  'needs_root',
  'closing',
]);

/** How long a link may take to answer a check before it is taken for dead (a round trip to EC2 is ~0.1–0.3 s). */
export const VERIFY_TIMEOUT_MS = 5000;

export function isFinal(error: unknown): boolean {
  return error instanceof OnggiError && FINAL_KINDS.has(error.kind);
}

export interface DialContext {
  /**
   * True when the user asked for the machine (a call, a click): an agent of another build is then
   * replaced. A background reconnect passes false, so two apps never take the daemon from each
   * other in a loop (`other_build`, final).
   */
  replaceOtherBuild: boolean;
  /** A step the dial reached that the user should see (e.g. `deploying`). */
  progress(state: MachineState): void;
}

/** How a provider reaches its agent: a handshaken link, or an error (an OnggiError whose kind says whether retrying helps). */
export type Dial = (context: DialContext) => Promise<AgentLink>;

export interface LinkKeeperOptions {
  machine: string;
  dial: Dial;
  onState: StateListener;
  onAgentEvent: AgentEventListener;
  /** A new link, before it subscribes to events: listeners of the provider's own go on it here. */
  onLink?: (link: AgentLink) => void;
  /** A new link is ready (subscribed): e.g. reconcile what followed the old one. */
  onReady?: (link: AgentLink) => void;
  /** The delays between attempts (the last repeats); tests shorten them. */
  backoffMs?: readonly number[];
  /**
   * Watch the machine's clock on every link (absent: the machine is this computer, whose clock is
   * the desktop's): `correct` steps it when it drifts, `report` only measures.
   */
  clock?: { policy: ClockPolicy; onChange(machine: string, clock: MachineClock): void; intervalMs?: number };
}

export class LinkKeeper {
  private state: MachineState = 'stopped';
  private lastError: string | undefined;
  /** When the scheduled reconnect fires (epoch ms); undefined when none is scheduled. */
  private retryAt: number | undefined;
  private link: AgentLink | undefined;
  private connecting: Promise<AgentLink> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private closed = false;
  private readonly clockWatch: ClockWatch | undefined;

  constructor(private readonly options: LinkKeeperOptions) {
    const clock = options.clock;
    this.clockWatch = clock
      ? new ClockWatch({
          policy: clock.policy,
          onChange: (reading) => clock.onChange(options.machine, reading),
          ...(clock.intervalMs !== undefined ? { intervalMs: clock.intervalMs } : {}),
        })
      : undefined;
  }

  /** The machine's clock as last measured, after any check in flight (undefined for this computer, or before a link). */
  async clock(): Promise<MachineClock | undefined> {
    // A failed check leaves the last reading (the link's loss, if that was it, is reported apart).
    return this.clockWatch?.check().catch(() => this.clockWatch?.current);
  }

  /** The machine's state as the summary reports it. */
  status(): Pick<MachineSummary, 'state' | 'error' | 'retryAt'> {
    return {
      state: this.state,
      ...(this.lastError ? { error: this.lastError } : {}),
      ...(this.retryAt !== undefined ? { retryAt: this.retryAt } : {}),
    };
  }

  /** The current link when it is up (nothing is dialled). */
  get current(): AgentLink | undefined {
    return this.link && !this.link.isClosed ? this.link : undefined;
  }

  /** A ready link, dialling when there is none (one attempt at a time, shared by every caller). */
  ensure(): Promise<AgentLink> {
    return this.attempt(false);
  }

  /** `background`: a reconnect nobody asked for, which never replaces another build's agent. */
  private attempt(background: boolean): Promise<AgentLink> {
    const current = this.current;
    if (current) return Promise.resolve(current);
    this.connecting ??= this.connect(background).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /**
   * Asks the agent for its clock and says whether it answered within `timeoutMs` (true also when
   * there is no link to check). After this computer's network changed or it woke from sleep, a link
   * may be dead without knowing it (no reset ever came); the keepalive would find out in 45 s.
   */
  async verify(timeoutMs = VERIFY_TIMEOUT_MS): Promise<boolean> {
    const link = this.current;
    if (!link) return true;
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      // A call that fails did so because the link closed: the keeper already knows.
      link.call('system.clock', undefined).then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return answered;
  }

  /**
   * A sign of life (this computer woke, its network changed, a VM was resumed): a lost machine
   * whose next attempt is scheduled is dialled now rather than up to a backoff step later. An
   * attempt in flight is left to finish; nothing happens to a machine that is not lost.
   */
  retryNow(): void {
    if (this.closed || this.connecting || this.retryTimer === undefined || this.state !== 'lost') return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.attempt(true).catch((error: unknown) => {
      if (!this.closed && !isFinal(error)) this.scheduleReconnect();
    });
  }

  /** Stops for good: no more attempts, the link is closed. */
  close(): void {
    this.closed = true;
    this.clockWatch?.stop();
    clearTimeout(this.retryTimer);
    this.retryAt = undefined;
    this.link?.close();
  }

  private async connect(background: boolean): Promise<AgentLink> {
    clearTimeout(this.retryTimer);
    this.setState('connecting');
    let link: AgentLink | undefined;
    try {
      link = await this.options.dial({ replaceOtherBuild: !background, progress: (state) => this.setState(state) });
      if (this.closed) throw new OnggiError(ErrorCode.Unavailable, 'closing', 'the host core is closing');
      const adopted = link;
      adopted.onClose((error) => this.lost(adopted, error));
      adopted.onEvent((event) => this.options.onAgentEvent(this.options.machine, event));
      this.options.onLink?.(adopted);
      // Subscribed anew on every link: a restarted agent knows no old subscriptions.
      await adopted.call('events.subscribe', {});
      this.link = adopted;
      this.attempts = 0;
      this.setState('ready');
      // Measured (and corrected) beside the first calls rather than before them: on a far host
      // three round trips would delay every reconnect. A failure leaves the last reading.
      this.clockWatch?.start(adopted).catch(() => undefined);
      this.options.onReady?.(adopted);
      return adopted;
    } catch (error) {
      // A link that failed half-way is not the machine's: its close must not count as a loss.
      link?.close();
      // A background attempt that another may fix leaves the machine lost (the next attempt says
      // when); `error` is for what a retry cannot fix, and for the caller who asked.
      if (background && !isFinal(error) && !this.closed) this.lastError = errorMessage(error);
      else this.setState('error', errorMessage(error));
      throw error;
    }
  }

  /** The stale-link guard: only the machine's current link dropping makes it `lost`. */
  private lost(link: AgentLink, error: Error): void {
    if (this.link !== link) return;
    this.link = undefined;
    this.clockWatch?.stop();
    if (this.closed) return;
    this.lastError = errorMessage(error);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const backoff = this.options.backoffMs ?? BACKOFF_MS;
    const delay = backoff[Math.min(this.attempts, backoff.length - 1)] ?? 30_000;
    this.attempts += 1;
    // Between attempts the machine is lost (not in error: that is for what a retry cannot fix).
    this.setState('lost', this.lastError, Date.now() + delay);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.attempt(true).catch((error: unknown) => {
        if (!this.closed && !isFinal(error)) this.scheduleReconnect();
      });
    }, delay);
    // A background retry must not keep a finished CLI command alive.
    this.retryTimer.unref();
  }

  private setState(state: MachineState, error?: string, retryAt?: number): void {
    this.state = state;
    this.lastError = error;
    this.retryAt = retryAt;
    this.options.onState(this.options.machine, state, error, retryAt);
  }
}
