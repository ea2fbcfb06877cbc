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

/** Splits incoming text chunks into complete lines. */
export class LineSplitter {
  private pending = '';
  private readonly limit: number;

  constructor(limit: number = MAX_FRAME_BYTES) {
    this.limit = limit;
  }

  /** Returns the complete lines in `chunk` (without newlines); keeps the unfinished tail. */
  push(chunk: string): string[] {
    const parts = (this.pending + chunk).split('\n');
    this.pending = parts.pop() ?? '';
    if (this.pending.length > this.limit) {
      this.pending = '';
      throw new FrameTooLargeError(this.limit);
    }
    return parts.filter((line) => line.trim() !== '');
  }
}

export function encodeFrame(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}
