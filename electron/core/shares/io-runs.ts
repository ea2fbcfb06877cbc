// READs (or WRITEs) of one file that arrive one after another, each starting where the one before
// ended, done as one readv (writev) on the thread pool (sftp-server.ts).
//
// A share's client reads and writes a file sequentially in pieces (sharefs: 254 KiB READs, 255 KiB
// WRITEs; sshfs before it: 32 KiB and 64 KiB — the numbers below are sshfs's), and handing
// each piece to the thread pool is a thread woken and a completion sent back: ~50 µs of the host
// core's event loop each on the loopback machine, ~0.2 s of a 256 MiB transfer's ~0.6 s (bench
// case 15, --cpu-prof). The pieces that arrived while the ones before them ran go in one call.
// A run takes only pieces received back to back: any other request in between ends it (it may
// depend on the pieces before it and not the ones after), and it stops growing once it starts.
// It goes when its first piece's turn comes (request-order.ts), so a piece that would have to wait
// for an earlier request its first piece does not (a WRITE of its range) joins none
// (RequestOrder.waitsForEarlier).

/**
 * The most one run carries: eight 32 KiB READs, four 64 KiB WRITEs. A run's replies go out
 * together, so this is also how far a run may overshoot the server's flow control.
 */
const MAX_RUN_BYTES = 256 * 1024;

export interface RunPiece {
  reqid: number;
  /** The file offset where the piece starts, and its length. */
  start: number;
  length: number;
}

export class IoRun<P extends RunPiece> {
  readonly pieces: P[] = [];
  private size = 0;
  private done: Promise<void> | undefined;

  constructor(
    readonly handle: number,
    readonly write: boolean,
  ) {}

  /** Whether a piece of `length` bytes at `start` continues this run, which has not started. */
  continues(handle: number, write: boolean, start: number, length: number): boolean {
    const last = this.pieces[this.pieces.length - 1];
    return (
      this.done === undefined &&
      handle === this.handle &&
      write === this.write &&
      last !== undefined &&
      start === last.start + last.length &&
      this.size + length <= MAX_RUN_BYTES
    );
  }

  add(piece: P): void {
    this.pieces.push(piece);
    this.size += piece.length;
  }

  /** The whole run, done once: by the first of its requests to start; the others wait for it. */
  run(io: (pieces: readonly P[]) => Promise<void>): Promise<void> {
    this.done ??= io(this.pieces);
    return this.done;
  }
}
