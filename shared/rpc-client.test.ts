import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
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

  it('refuses a frame longer than the limit instead of buffering it', () => {
    const splitter = new LineSplitter(100);
    expect(() => splitter.push('x'.repeat(101))).toThrow(FrameTooLargeError);
    expect(splitter.push('ok\n')).toEqual(['ok']);
  });
});
