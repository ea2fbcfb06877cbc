import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { RpcClient } from './rpc-client.js';
import { LineSplitter, FrameTooLargeError } from './ndjson.js';

describe('RpcClient', () => {
  it('rejects a result that breaks the contract, naming the field', async () => {
    const sent: string[] = [];
    const client = new RpcClient({ send: (frame) => sent.push(frame) });
    const pending = client.call('x.get', undefined, z.object({ count: z.number() }));
    const { id } = JSON.parse(sent[0] ?? '{}') as { id: number };
    client.receive(`${JSON.stringify({ jsonrpc: '2.0', id, result: { count: 'many' } })}\n`);
    await expect(pending).rejects.toMatchObject({ kind: 'bad_result', field: 'x.get result.count' });
  });

  it('fails calls in flight when the link closes', async () => {
    const client = new RpcClient({ send: () => undefined });
    const pending = client.call('x', undefined, z.unknown());
    client.close(new Error('link down'));
    await expect(pending).rejects.toThrow('link down');
    await expect(client.call('y', undefined, z.unknown())).rejects.toThrow('link down');
  });

  it('delivers notifications and ignores garbage without losing later responses', async () => {
    const notes: string[] = [];
    const errors: Error[] = [];
    const sent: string[] = [];
    const client = new RpcClient({
      send: (f) => sent.push(f),
      onNotification: (m) => notes.push(m),
      onProtocolError: (e) => errors.push(e),
    });
    const pending = client.call('a', undefined, z.number());
    client.receive('not json\n{"jsonrpc":"2.0","method":"events.event","params":{}}\n');
    client.receive(`{"jsonrpc":"2.0","id":1,"res`);
    client.receive(`ult":42}\n`);
    await expect(pending).resolves.toBe(42);
    expect(notes).toEqual(['events.event']);
    expect(errors).toHaveLength(1);
  });
});

describe('LineSplitter', () => {
  it('yields the same lines however the stream is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ maxLength: 30 }).map((s) => s.replace(/\n/g, ' ')),
          { maxLength: 20 },
        ),
        fc.array(fc.nat(50), { maxLength: 10 }),
        (lines, cuts) => {
          const text = lines.map((l) => `${l}\n`).join('');
          const splitter = new LineSplitter();
          const got: string[] = [];
          let at = 0;
          for (const cut of [...cuts.sort((a, b) => a - b), text.length]) {
            got.push(...splitter.push(text.slice(at, Math.max(at, cut))));
            at = Math.max(at, cut);
          }
          got.push(...splitter.push(text.slice(at)));
          expect(got).toEqual(lines.filter((l) => l.trim() !== ''));
        },
      ),
    );
  });

  it('refuses a frame longer than the limit instead of buffering it, skips the rest of it, and parses what follows', () => {
    const splitter = new LineSplitter(100);
    expect(() => splitter.push('x'.repeat(101))).toThrow(FrameTooLargeError);
    // The refused frame goes on until its newline: its tail is not glued onto the next frame.
    expect(splitter.push('x'.repeat(500))).toEqual([]);
    expect(splitter.push('tail\nok\n')).toEqual(['ok']);
    expect(splitter.push('a\nb')).toEqual(['a']);
    expect(splitter.push('\n')).toEqual(['b']);
  });

  it('refuses an oversize frame that arrives whole, keeping the frames around it', () => {
    const splitter = new LineSplitter(100);
    expect(splitter.split(`a\n${'x'.repeat(101)}\nb\n`)).toEqual({ lines: ['a', 'b'], refused: 1 });
    expect(splitter.split(`${'x'.repeat(60)}`)).toEqual({ lines: [], refused: 0 });
    expect(splitter.split(`${'x'.repeat(60)}\nc\n`)).toEqual({ lines: ['c'], refused: 1 });
  });

  it('takes linear time for a large frame arriving in small chunks', () => {
    const splitter = new LineSplitter();
    const chunk = 'y'.repeat(16 * 1024);
    const started = performance.now();
    for (let i = 0; i < 900; i += 1) expect(splitter.push(chunk)).toEqual([]); // ~14 MiB, just under the limit
    expect(splitter.push('\n')).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
