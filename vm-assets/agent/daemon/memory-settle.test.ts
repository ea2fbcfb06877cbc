import { spawnSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { until } from '../../../build/testing/until.js';
import { agentDaemonNodeFlags } from '../../../shared/agent-launch.js';
import { MemorySettle, type CollectGarbage } from './memory-settle.js';

const MiB = 1024 * 1024;

/** A settle whose collections are counted, over a heap size the test sets. */
function counted(quietMs: number): { settle: MemorySettle; calls: Array<Parameters<CollectGarbage>[0]>; heap: { used: number } } {
  const calls: Array<Parameters<CollectGarbage>[0]> = [];
  const heap = { used: 10 * MiB };
  const settle = new MemorySettle({ gc: (options) => void calls.push(options), quietMs, heapUsed: () => heap.used });
  return { settle, calls, heap };
}

describe('MemorySettle', () => {
  it('collects once the requests stop, not while they keep coming', async () => {
    // A quiet period far longer than the gaps between requests, so a loaded machine's late timers
    // cannot make a gap look quiet.
    const { settle, calls } = counted(1000);
    const started = performance.now();
    // Requests 20 ms apart for 300 ms: each one starts the quiet period again.
    while (performance.now() - started < 300) {
      settle.touch();
      expect(calls).toHaveLength(0);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const lastRequest = performance.now();
    await until(
      () => calls.length,
      (n) => n === 1,
      'the collection after the quiet period',
    );
    expect(performance.now() - lastRequest).toBeGreaterThanOrEqual(1000 - 25);
    expect(calls[0]).toEqual({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    settle.stop();
  });

  it('skips a collection when the heap has not grown since the last one', async () => {
    const { settle, calls, heap } = counted(20);
    settle.touch();
    await until(
      () => settle.settled,
      (n) => n === 1,
      'the first collection',
    );
    // A request that allocated nothing worth a pause: the timer runs out without a collection.
    heap.used += 100 * 1024;
    settle.touch();
    await until(
      () => (settle as unknown as { timer: unknown }).timer,
      (timer) => timer === undefined,
      'the quiet period to run out',
    );
    expect(calls).toHaveLength(1);
    heap.used += MiB;
    settle.touch();
    await until(
      () => calls.length,
      (n) => n === 2,
      'the collection after the heap grew',
    );
    settle.stop();
  });

  it('collects at once when told to (start-up), and cancels the quiet period then pending', () => {
    // Time moved by hand: that the pending timer does not collect a second time is seen without waiting.
    vi.useFakeTimers();
    try {
      const { settle, calls, heap } = counted(30);
      settle.touch();
      settle.settleNow();
      expect(calls).toEqual([{ type: 'major', execution: 'sync', flavor: 'last-resort' }]);
      vi.advanceTimersByTime(1000);
      expect(calls).toHaveLength(1);
      // The next busy spell is settled after its quiet period, as any other.
      heap.used += MiB;
      settle.touch();
      vi.advanceTimersByTime(30);
      expect(calls).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does nothing when the daemon runs without an exposed gc, and stop() cancels a pending one', () => {
    const off = new MemorySettle({ gc: undefined, quietMs: 1 });
    off.touch();
    expect((off as unknown as { timer: unknown }).timer).toBeUndefined();
    // Time moved by hand: that nothing happens is seen without waiting for it.
    vi.useFakeTimers();
    try {
      const { settle, calls } = counted(30);
      settle.touch();
      settle.stop();
      vi.advanceTimersByTime(1000);
      expect(calls).toHaveLength(0);
      settle.touch();
      vi.advanceTimersByTime(30);
      expect(calls).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("the daemon's launch flags expose the gc this calls, with the options it passes", () => {
    const run = spawnSync(
      process.execPath,
      [
        ...agentDaemonNodeFlags(process.versions.node),
        '-e',
        "gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }); console.log(typeof gc)",
      ],
      { encoding: 'utf8' },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function');
  });
});
