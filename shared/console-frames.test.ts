// The console socket's frames as the agent writes and reads them (the supervisor's side,
// vm-assets/init/console.c, is exercised for real by electron/cli/interactive.test.ts).
import { describe, expect, it } from 'vitest';
import { CONSOLE_FRAME_MAX, ConsoleDecoder, FrameSplitter, consoleFrame, inputFrames, resizeFrame } from './console-frames.js';

const frame = (type: string, payload: Buffer) => {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
};

describe('console frames', () => {
  it('writes input in pieces of at most the frame size, resizes as ROWSxCOLS, EOF as an empty c', () => {
    const frames = inputFrames(Buffer.alloc(CONSOLE_FRAME_MAX + 3, 'a'));
    expect(frames.map((f) => [String.fromCharCode(f[0] ?? 0), f.readUInt32BE(1)])).toEqual([
      ['i', CONSOLE_FRAME_MAX],
      ['i', 3],
    ]);
    expect(resizeFrame(24, 80)).toEqual(frame('r', Buffer.from('24x80')));
    expect(consoleFrame('c')).toEqual(frame('c', Buffer.alloc(0)));
  });

  it('reads output and the exit code however the stream is cut', () => {
    const stream = Buffer.concat([frame('o', Buffer.from('out')), frame('e', Buffer.from('err')), frame('x', Buffer.from('3'))]);
    const decoder = new ConsoleDecoder();
    const got = [];
    for (let at = 0; at < stream.length; at += 2) got.push(...decoder.push(stream.subarray(at, at + 2)));
    expect(got).toEqual([
      { type: 'stdout', data: Buffer.from('out') },
      { type: 'stderr', data: Buffer.from('err') },
      { type: 'exit', code: 3 },
    ]);
  });

  it('refuses what breaks the protocol: an unknown type, an oversized frame, an exit that is no number', () => {
    expect(() => new ConsoleDecoder().push(frame('z', Buffer.from('x')))).toThrow(/bad frame/);
    const big = Buffer.alloc(5);
    big.write('o', 0, 'latin1');
    big.writeUInt32BE(CONSOLE_FRAME_MAX + 1, 1);
    expect(() => new ConsoleDecoder().push(big)).toThrow(/bad frame/);
    expect(() => new ConsoleDecoder().push(frame('x', Buffer.from('three')))).toThrow(/number/);
  });

  it("a held terminal's start frame: where the replay begins and how much input arrived; anything else is refused", () => {
    expect(new ConsoleDecoder().push(frame('s', Buffer.from('1234:56')))).toEqual([{ type: 'start', offset: 1234, input: 56 }]);
    for (const bad of ['1234', '-1:0', '1:2:3', '1e3:0', '1234567890123456:0'])
      expect(() => new ConsoleDecoder().push(frame('s', Buffer.from(bad))), bad).toThrow(/two byte offsets/);
    // The holder reads only the host's frames: output types from the host are a protocol break.
    expect(() => new FrameSplitter('sirkc').push(frame('o', Buffer.from('x')))).toThrow(/bad frame/);
    expect(new FrameSplitter('sirkc').push(frame('k', Buffer.alloc(0)))).toEqual([{ type: 'k', payload: Buffer.alloc(0) }]);
  });
});
