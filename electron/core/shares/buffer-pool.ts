// Buffers a share's READs and WRITEs reuse (sftp-server.ts).
//
// A READ's packet and a WRITE's data live across a thread-pool round trip. Allocated fresh for each
// request, they outlive V8's young generation, and their memory (outside the JS heap) comes back
// only with a full collection: a 256 MiB write through the share ran ~40 mark-compacts, "external
// memory pressure" (--trace-gc), ~0.7 s of V8's helper threads beside the host core's own 0.6 s.
// Taken from here and given back once done, the same few buffers carry the whole transfer.
export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    /** Every buffer's size; a request needing more allocates its own. */
    readonly size: number,
    /** Buffers kept for reuse at most (more may be out at once; those are let go when given back). */
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  give(buffer: Buffer): void {
    if (buffer.length === this.size && this.free.length < this.keep) this.free.push(buffer);
  }
}
