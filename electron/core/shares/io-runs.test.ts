// Which READs/WRITEs may join a run (io-runs.ts, joined in sftp-server.ts): a run goes when its
// first piece's turn comes (request-order.ts), so a piece that would have to wait for an earlier
// request its first piece does not wait for must run alone.
import { describe, expect, it } from 'vitest';
import { IoRun, type RunPiece } from './io-runs.js';
import { RequestOrder } from './request-order.js';

const K = 1024;

/** A data request that runs until its gate opens. */
function held(order: RequestOrder, start: number, end: number, write: boolean): () => void {
  let open = (): void => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  order.data({ handle: 1, start, end, write }, () => gate);
  return open;
}

describe('RequestOrder.waitsForEarlier', () => {
  it('says a piece must wait for an earlier WRITE of its range, running or queued, that the run before it does not touch', () => {
    const order = new RequestOrder(
      () => false,
      () => undefined,
    );
    // E writes [0, 64K) and D [64K, 128K), both running; P1, a rewrite of [0, 64K), waits for E.
    held(order, 0, 64 * K, true);
    held(order, 64 * K, 128 * K, true);
    held(order, 0, 64 * K, true);
    // P2 rewrites [64K, 128K), right after P1: it overlaps D, which P1 does not wait for.
    expect(order.waitsForEarlier({ handle: 1, start: 64 * K, end: 128 * K, write: true })).toBe(true);
    // A read of D's range waits for it too; a piece past every earlier request does not.
    expect(order.waitsForEarlier({ handle: 1, start: 100 * K, end: 110 * K, write: false })).toBe(true);
    expect(order.waitsForEarlier({ handle: 1, start: 128 * K, end: 192 * K, write: true })).toBe(false);
    expect(order.waitsForEarlier({ handle: 2, start: 64 * K, end: 128 * K, write: true })).toBe(false);
  });

  it('a queued WRITE counts as much as a running one; reads after reads never wait', () => {
    const order = new RequestOrder(
      () => false,
      () => undefined,
    );
    held(order, 0, 64 * K, true);
    held(order, 0, 64 * K, true); // queued behind the first
    expect(order.waitsForEarlier({ handle: 1, start: 32 * K, end: 96 * K, write: false })).toBe(true);
    const reads = new RequestOrder(
      () => false,
      () => undefined,
    );
    held(reads, 0, 64 * K, false);
    expect(reads.waitsForEarlier({ handle: 1, start: 0, end: 64 * K, write: false })).toBe(false);
  });
});

describe('IoRun', () => {
  it('takes contiguous pieces of one handle and direction until its first starts', () => {
    const run = new IoRun<RunPiece>(1, true);
    run.add({ reqid: 1, start: 0, length: 64 * K });
    expect(run.continues(1, true, 64 * K, 64 * K)).toBe(true);
    expect(run.continues(1, true, 65 * K, 64 * K)).toBe(false);
    expect(run.continues(1, false, 64 * K, 64 * K)).toBe(false);
    expect(run.continues(2, true, 64 * K, 64 * K)).toBe(false);
    void run.run(async () => undefined);
    expect(run.continues(1, true, 64 * K, 64 * K)).toBe(false);
  });
});
