// The frames on a container's console socket (vm-assets/init/console.h): one type byte, the
// payload's length (4 bytes, big-endian), the payload. What the supervisor sends is checked here
// before it is believed: a known type, a bounded length, an exit code that is a number.
// A held terminal (vm-assets/agent/terminal-hold.ts) speaks the same frames to the host core,
// plus 's': from the host, the output offset to replay from; from the holder, "OUTPUT:INPUT",
// where the replay that follows begins and how many input bytes it has taken (the host sends
// again what it typed that never arrived), and 'k' from the host: end the session (hang up).
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';

export const CONSOLE_FRAME_MAX = 65536;
const HEADER = 5;

export type ConsoleOutput =
  | { type: 'stdout' | 'stderr'; data: Buffer }
  | { type: 'exit'; code: number }
  /** Where the replay begins, and how many input bytes the holder has taken so far. */
  | { type: 'start'; offset: number; input: number };

const ExitCode = lazySchema(() =>
  z
    .string()
    .regex(/^-?\d{1,10}$/, 'the exit frame must carry a number')
    .transform(Number),
);
const Start = lazySchema(() =>
  z
    .string()
    .regex(/^\d{1,15}:\d{1,15}$/, 'the start frame must carry two byte offsets (OUTPUT:INPUT)')
    .transform((text) => {
      const [offset, input] = text.split(':').map(Number);
      return { offset: offset ?? 0, input: input ?? 0 };
    }),
);

/**
 * One frame: to the supervisor input ('i'), a resize ('r', "ROWSxCOLS"), the end of input ('c'),
 * to a held terminal also 'k' (hang up); from a held terminal 'o', 's' and 'x'.
 */
export function consoleFrame(type: 'i' | 'r' | 'c' | 'k' | 'o' | 's' | 'x', payload: Uint8Array = new Uint8Array()): Buffer {
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

/** Splits a byte stream into frames of the given types; throws on one that breaks the protocol. */
export class FrameSplitter {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly types: string) {}

  push(chunk: Buffer): Array<{ type: string; payload: Buffer }> {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const out: Array<{ type: string; payload: Buffer }> = [];
    while (this.buffer.length >= HEADER) {
      const type = String.fromCharCode(this.buffer[0] ?? 0);
      const length = this.buffer.readUInt32BE(1);
      if (length > CONSOLE_FRAME_MAX || !this.types.includes(type))
        throw new Error(`console: bad frame (type ${JSON.stringify(type)}, ${length} bytes)`);
      if (this.buffer.length < HEADER + length) break;
      out.push({ type, payload: Buffer.from(this.buffer.subarray(HEADER, HEADER + length)) });
      this.buffer = this.buffer.subarray(HEADER + length);
    }
    return out;
  }
}

/** Splits what the supervisor (or a held terminal) sends into frames; throws on one that breaks the protocol. */
export class ConsoleDecoder {
  private readonly splitter = new FrameSplitter('oexs');

  push(chunk: Buffer): ConsoleOutput[] {
    return this.splitter.push(chunk).map(({ type, payload }): ConsoleOutput => {
      if (type === 'x') return { type: 'exit', code: ExitCode.parse(payload.toString('latin1')) };
      if (type === 's') return { type: 'start', ...Start.parse(payload.toString('latin1')) };
      return { type: type === 'o' ? 'stdout' : 'stderr', data: payload };
    });
  }
}
