// The order in which a share's SFTP requests run (sftp-server.ts).
//
// The machine's client pipelines (sharefs, as sshfs before it): it sends an OPEN with O_CREAT and the
// LSTAT of the new file back to back, a listing's OPENDIR and those of the folders ahead of a walk,
// dozens of READs or WRITEs of one file at once. Namespace and
// attribute requests must see each other in order (OpenSSH's sftp-server runs everything in order),
// but running every READ and WRITE one after another on the thread pool leaves the link idle
// between them — the cause of a sequential transfer at a quarter of the raw link.
//
// So: a *barrier* (every request but READ/WRITE) runs once everything before it is done, and
// nothing after it starts before it is done; *data* requests between two barriers run together,
// each as soon as no earlier one still running touches an overlapping range of the same handle
// with a write (so two writes of one range land in the order sent, and a read sees an earlier
// write). Requests still start in arrival order: one that has to wait holds back those after it.
// While `blocked` (the replies already sent wait for the machine to read them), nothing starts:
// a machine that stops reading cannot make the desktop buffer reply after reply.
export interface DataRequest {
  handle: number;
  start: number;
  end: number;
  write: boolean;
}

type Queued = { kind: 'barrier'; run: () => void | Promise<void> } | { kind: 'data'; request: DataRequest; run: () => Promise<void> };

/** Data requests running at once at most (the thread pool has 4 threads; more only queue there). */
const MAX_RUNNING = 16;

export class RequestOrder {
  private readonly queue: Queued[] = [];
  private readonly running = new Set<DataRequest>();
  private barrierRunning = false;

  constructor(
    /** Whether to start nothing for now (call resume() when that changes). */
    private readonly blocked: () => boolean,
    /** Called whenever a request finished (the server's flow control looks at backlog then). */
    private readonly onProgress: () => void,
  ) {}

  /** Requests received and not finished. */
  get backlog(): number {
    return this.queue.length + this.running.size + (this.barrierRunning ? 1 : 0);
  }

  /** Data requests running now. */
  get dataRunning(): number {
    return this.running.size;
  }

  /** Requests are waiting, none runs, and `blocked` holds them back. */
  get held(): boolean {
    return this.queue.length > 0 && this.running.size === 0 && !this.barrierRunning && this.blocked();
  }

  /** `blocked` may have changed. */
  resume(): void {
    this.pump();
  }

  /** `run` reports its own errors: a rejection here would only be lost. */
  barrier(run: () => void | Promise<void>): void {
    this.queue.push({ kind: 'barrier', run });
    this.pump();
  }

  data(request: DataRequest, run: () => Promise<void>): void {
    this.queue.push({ kind: 'data', request, run });
    this.pump();
  }

  private pump(): void {
    for (let next = this.queue[0]; next; next = this.queue[0]) {
      if (this.barrierRunning || this.blocked()) return;
      if (next.kind === 'barrier') {
        if (this.running.size > 0) return;
        this.queue.shift();
        const pending = next.run();
        if (pending) {
          this.barrierRunning = true;
          void pending.finally(() => {
            this.barrierRunning = false;
            this.finished();
          });
          return;
        }
        continue;
      }
      if (this.running.size >= MAX_RUNNING || this.conflicts(next.request)) return;
      this.queue.shift();
      const request = next.request;
      this.running.add(request);
      void next.run().finally(() => {
        this.running.delete(request);
        this.finished();
      });
    }
  }

  private finished(): void {
    this.pump();
    this.onProgress();
  }

  /**
   * Whether a request received now would have to wait for one received before it, running or not
   * yet started (io-runs.ts: such a request may not join a run, which goes when its first starts).
   */
  waitsForEarlier(request: DataRequest): boolean {
    if (this.conflicts(request)) return true;
    return this.queue.some((queued) => queued.kind === 'data' && overlaps(queued.request, request));
  }

  private conflicts(request: DataRequest): boolean {
    for (const other of this.running) if (overlaps(other, request)) return true;
    return false;
  }
}

/** Same handle, overlapping ranges, and one of them a write: the later must wait for the earlier. */
function overlaps(earlier: DataRequest, later: DataRequest): boolean {
  if (earlier.handle !== later.handle || !(earlier.write || later.write)) return false;
  return earlier.start < later.end && later.start < earlier.end;
}
