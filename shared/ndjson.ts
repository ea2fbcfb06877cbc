// Newline-delimited JSON framing. Browser-safe (no Node imports) so every transport shares it.
// A frame larger than the limit is an error, not an unbounded buffer: a peer cannot make us
// hold gigabytes by never sending a newline.

export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export class FrameTooLargeError extends Error {
  constructor(limit: number) {
    super(`message exceeds ${limit} bytes without a newline`);
    this.name = 'FrameTooLargeError';
  }
}

/**
 * Splits incoming text chunks into complete lines. An unfinished line longer than the limit is
 * refused once and then skipped up to its newline, so the frames after it still parse. Only the
 * new chunk is searched for newlines: a frame arriving in many chunks costs linear time.
 */
export class LineSplitter {
  private pending = '';
  private discarding = false;
  private readonly limit: number;

  constructor(limit: number = MAX_FRAME_BYTES) {
    this.limit = limit;
  }

  /** Returns the complete lines in `chunk` (without newlines); keeps the unfinished tail. Throws if a frame was refused. */
  push(chunk: string): string[] {
    const { lines, refused } = this.split(chunk);
    if (refused > 0) throw new FrameTooLargeError(this.limit);
    return lines;
  }

  /** Like push, but a refused frame is counted instead of thrown, so the frames around it in the same chunk are kept. */
  split(chunk: string): { lines: string[]; refused: number } {
    const lines: string[] = [];
    let refused = 0;
    const parts = chunk.split('\n');
    const tail = parts.pop() ?? '';
    for (const part of parts) {
      if (this.discarding) {
        // The end of a frame already refused while it was arriving.
        this.discarding = false;
        continue;
      }
      const line = this.pending + part;
      this.pending = '';
      if (line.length > this.limit) refused += 1;
      else if (line.trim() !== '') lines.push(line);
    }
    if (!this.discarding) {
      this.pending += tail;
      if (this.pending.length > this.limit) {
        this.pending = '';
        this.discarding = true;
        refused += 1;
      }
    }
    return { lines, refused };
  }
}

export function encodeFrame(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}
