// The frames on a container's console socket (vm-assets/init/console.h): one type byte, the
// payload's length (4 bytes, big-endian), the payload. What the supervisor sends is checked here
// before it is believed: a known type, a bounded length, an exit code that is a number.
import { z } from 'zod';

export const CONSOLE_FRAME_MAX = 65536;
const HEADER = 5;

export type ConsoleOutput = { type: 'stdout' | 'stderr'; data: Buffer } | { type: 'exit'; code: number };

const ExitCode = z
  .string()
  .regex(/^-?\d{1,10}$/, 'the exit frame must carry a number')
  .transform(Number);

/** One frame to the supervisor: input ('i'), a resize ('r', "ROWSxCOLS") or the end of input ('c'). */
export function consoleFrame(type: 'i' | 'r' | 'c', payload: Uint8Array = new Uint8Array()): Buffer {
  const header = Buffer.alloc(HEADER);
  header[0] = type.charCodeAt(0);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

/** Input as frames, each at most CONSOLE_FRAME_MAX bytes. */
export function inputFrames(data: Uint8Array): Buffer[] {
  const frames: Buffer[] = [];
  for (let at = 0; at < data.length; at += CONSOLE_FRAME_MAX) frames.push(consoleFrame('i', data.subarray(at, at + CONSOLE_FRAME_MAX)));
  return frames;
}

export function resizeFrame(rows: number, cols: number): Buffer {
  return consoleFrame('r', Buffer.from(`${rows}x${cols}`));
}

/** Splits what the supervisor sends into frames; throws on one that breaks the protocol. */
export class ConsoleDecoder {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): ConsoleOutput[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const out: ConsoleOutput[] = [];
    while (this.buffer.length >= HEADER) {
      const type = String.fromCharCode(this.buffer[0] ?? 0);
      const length = this.buffer.readUInt32BE(1);
      if (length > CONSOLE_FRAME_MAX || !'oex'.includes(type))
        throw new Error(`console: bad frame (type ${JSON.stringify(type)}, ${length} bytes)`);
      if (this.buffer.length < HEADER + length) break;
      const payload = this.buffer.subarray(HEADER, HEADER + length);
      this.buffer = this.buffer.subarray(HEADER + length);
      if (type === 'x') out.push({ type: 'exit', code: ExitCode.parse(payload.toString('latin1')) });
      else out.push({ type: type === 'o' ? 'stdout' : 'stderr', data: Buffer.from(payload) });
    }
    return out;
  }
}
