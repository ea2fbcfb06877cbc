// Gives the daemon's emptied heap back once it goes quiet (issue 12: idle RSS, bench case 5).
// V8 shrinks its heap on its own only through its memory reducer, which starts 8 s after a full
// collection and waits again while it judges the allocation rate high: on the Node 24 runtime
// deploy ships, an agent idle after start-up and one container gave back its ~4 MiB of garbage
// and emptied pages 16-20 s after the last call in some runs, and not within 90 s in another
// (a loaded machine). One memory-reducing collection 3 s after the last request does it every
// time. Cost: one full collection (a few ms on a heap of ~15 MB) per busy spell, none when the
// heap has not grown since the last one. One more right after start-up (settleNow): a launcher
// calls at once (hello, its first requests), so start-up's garbage was otherwise held through that
// busy start: an agent idle after start-up and one container, at once after the last call, 62.8 ->
// 59.8 MiB on the shipped Node 24 (settled 58.9 -> 57.7; ~30 ms of CPU once; the CPU of 100
// concurrent starts unchanged).
import { getHeapStatistics } from 'node:v8';

/** How long without a request before the daemon settles its memory. */
export const QUIET_MS = 3_000;
/** Growth of the live heap since the last settle below which another is not worth its pause. */
const MIN_GROWTH_BYTES = 256 * 1024;

/** V8's `gc`, exposed by --expose-gc (shared/agent-launch.ts); absent when launched without it. */
export type CollectGarbage = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

export class MemorySettle {
  private timer: NodeJS.Timeout | undefined;
  private usedAfterLast = 0;
  /** Collections done so far (for the log and the tests). */
  settled = 0;

  constructor(
    private readonly options: {
      gc: CollectGarbage | undefined;
      quietMs?: number;
      heapUsed?: () => number;
      onSettled?: (ms: number) => void;
    },
  ) {}

  /** A request came in or finished: the quiet period starts again. */
  touch(): void {
    if (!this.options.gc) return;
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => this.settle(), this.options.quietMs ?? QUIET_MS);
    // A timer of ours never keeps a stopping daemon alive.
    this.timer.unref();
  }

  /**
   * Collects now, without waiting for a quiet period: start-up's garbage (the bundle's module code
   * ran once, the records read) is gone before the first client is served, rather than held through
   * the busy start a launcher makes (connect, hello, its first calls) until the daemon next goes quiet.
   */
  settleNow(): void {
    this.stop();
    this.settle();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private settle(): void {
    this.timer = undefined;
    const gc = this.options.gc;
    const heapUsed = this.options.heapUsed ?? (() => getHeapStatistics().used_heap_size);
    if (!gc || heapUsed() - this.usedAfterLast < MIN_GROWTH_BYTES) return;
    const started = performance.now();
    // 'last-resort': collections with V8's reduce-memory flag until nothing more is freed (bytecode
    // of functions not run lately is flushed too; it is compiled again if they run). Node 20's V8
    // reads no options (it does a minor collection): there its own reducer settles the heap, ~8 s
    // after the last full collection.
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    this.usedAfterLast = heapUsed();
    this.settled += 1;
    this.options.onSettled?.(performance.now() - started);
  }
}

/** The `gc` function when the daemon's Node exposes it. */
export function exposedGc(): CollectGarbage | undefined {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as CollectGarbage) : undefined;
}
