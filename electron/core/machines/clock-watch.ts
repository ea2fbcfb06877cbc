// Measures a machine's clock against the desktop's on every new link and every CLOCK_CHECK_MS while
// the link stays up (a VM paused by a laptop's sleep may come back without the link ever dropping),
// and on machines Onggi runs steps it back when it is off by more than CLOCK_TOLERANCE_MS
// (shared/clock.ts says why). A measurement is the best of a few round trips, as NTP does: the one
// with the shortest trip bounds the error tightest.
import { CLOCK_TOLERANCE_MS, sampleOf, type ClockPolicy, type ClockSample, type MachineClock } from '../../../shared/clock.js';
import { errorMessage } from '../../../shared/errors.js';
import type { AgentLink } from '../agent/agent-link.js';

export const CLOCK_CHECK_MS = 30_000;
const SAMPLES = 3;

/** The best of SAMPLES round trips (and `earlier`, a sample still true: the handshake's, before any step). */
export async function measureClock(link: AgentLink, earlier?: ClockSample, now: () => number = Date.now): Promise<ClockSample> {
  const samples: ClockSample[] = earlier ? [earlier] : [];
  for (let i = 0; i < SAMPLES; i++) {
    const sentAt = now();
    const { now: agentNow } = await link.call('system.clock', undefined);
    samples.push(sampleOf(sentAt, agentNow, now()));
  }
  return samples.reduce((best, sample) => (sample.rttMs < best.rttMs ? sample : best));
}

export interface ClockWatchOptions {
  policy: ClockPolicy;
  onChange(clock: MachineClock): void;
  intervalMs?: number;
}

export class ClockWatch {
  private clock: MachineClock | undefined;
  private timer: NodeJS.Timeout | undefined;
  private link: AgentLink | undefined;
  private checking: { link: AgentLink; promise: Promise<MachineClock | undefined> } | undefined;
  /** The handshake's sample, good only for the first check on its link (the clock may move after). */
  private helloSample: ClockSample | undefined;

  constructor(private readonly options: ClockWatchOptions) {}

  get current(): MachineClock | undefined {
    return this.clock;
  }

  /** A new link: checks now (correcting when the policy says so), then every intervalMs. */
  start(link: AgentLink): Promise<MachineClock | undefined> {
    this.stop();
    this.link = link;
    this.helloSample = link.helloClock;
    const check = this.check();
    this.schedule();
    return check;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.link = undefined;
  }

  /** Measures (and corrects) once; concurrent callers on the same link share the one check. */
  check(): Promise<MachineClock | undefined> {
    const link = this.link;
    if (!link || link.isClosed) return Promise.resolve(this.clock);
    // A check still running on a previous link says nothing about this one.
    if (this.checking?.link !== link) {
      const promise: Promise<MachineClock | undefined> = this.measureAndCorrect(link).finally(() => {
        if (this.checking?.promise === promise) this.checking = undefined;
      });
      this.checking = { link, promise };
    }
    return this.checking.promise;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      // a failed check leaves the last reading; the link's own loss handling says what happened
      void this.check()
        .catch(() => undefined)
        .finally(() => {
          if (this.link) this.schedule();
        });
    }, this.options.intervalMs ?? CLOCK_CHECK_MS);
    // Checking the clock must not keep a finished CLI command alive.
    this.timer.unref();
  }

  private async measureAndCorrect(link: AgentLink): Promise<MachineClock | undefined> {
    const { policy } = this.options;
    const hello = this.helloSample;
    this.helloSample = undefined;
    let sample = await measureClock(link, hello);
    let corrected = this.clock?.corrected;
    let error: string | undefined;
    if (policy === 'correct' && Math.abs(sample.offsetMs) > CLOCK_TOLERANCE_MS) {
      const before = sample.offsetMs;
      try {
        const { method } = await link.call('system.setClock', { epochMs: Math.round(Date.now() + sample.rttMs / 2) });
        corrected = { at: Date.now(), offsetBeforeMs: before, method };
      } catch (failure) {
        error = `the clock could not be corrected: ${errorMessage(failure)}`;
      }
      // Measured again either way: a step whose answer was lost or refused may still have happened.
      sample = await measureClock(link);
    }
    if (this.link !== link) return this.clock;
    const clock: MachineClock = {
      ...sample,
      checkedAt: Date.now(),
      policy,
      ...(corrected ? { corrected } : {}),
      ...(error ? { error } : {}),
    };
    const changed =
      !this.clock ||
      this.clock.corrected?.at !== clock.corrected?.at ||
      this.clock.error !== clock.error ||
      Math.abs(this.clock.offsetMs - clock.offsetMs) > CLOCK_TOLERANCE_MS / 10;
    this.clock = clock;
    // Only a change worth showing is announced: a steady clock costs the window nothing.
    if (changed) this.options.onChange(clock);
    return clock;
  }
}
