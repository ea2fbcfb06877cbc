import { describe, expect, it } from 'vitest';
import type { HostMethod, HostParams, HostResult } from '../../../shared/host-api.js';
import { TERMINAL_INPUT_MAX } from '../../../shared/terminals.js';
import { createTerminalsStore } from './terminals';

function fakeClient(answers: Partial<Record<HostMethod, unknown>>) {
  const calls: Array<{ method: string; params: unknown }> = [];
  return {
    calls,
    call<M extends HostMethod>(method: M, params: HostParams<M>): Promise<HostResult<M>> {
      calls.push({ method, params });
      return Promise.resolve((answers[method] ?? {}) as HostResult<M>);
    },
  };
}

const session = { id: 'term-abc', machine: 'local', container: 'web', command: ['/bin/sh'] };

describe('terminals store', () => {
  it('opens a tab, replays output to a late listener, follows new output, and marks the end', async () => {
    const client = fakeClient({ 'terminals.open': session });
    const store = createTerminalsStore(client);
    const tab = await store.getState().open({ machine: 'local', container: 'web', cols: 80, rows: 24 });
    expect(tab.title).toBe('local › web');
    expect(store.getState().active).toBe('term-abc');
    store.getState().applyEvent({ type: 'terminal.output', id: 'term-abc', data: 'hello ' });
    const seen: string[] = [];
    const { backlog, detach } = store.getState().attach('term-abc', (data) => seen.push(data));
    expect(backlog).toBe('hello ');
    store.getState().applyEvent({ type: 'terminal.output', id: 'term-abc', data: 'world' });
    expect(seen).toEqual(['world']);
    detach();
    store.getState().applyEvent({ type: 'terminal.exit', id: 'term-abc', code: 0 });
    expect(store.getState().sessions[0]?.exit).toEqual({ code: 0 });
  });

  it('sends a large paste in bounded pieces', async () => {
    const client = fakeClient({ 'terminals.open': session });
    const store = createTerminalsStore(client);
    await store.getState().open({ machine: 'local', cols: 80, rows: 24 });
    store.getState().input('term-abc', 'x'.repeat(TERMINAL_INPUT_MAX * 2 + 5));
    const inputs = client.calls.filter((call) => call.method === 'terminals.input');
    expect(inputs).toHaveLength(3);
  });

  it('after a reconnect, replaces the output with the host backlog and ends sessions the host lost', async () => {
    const client = fakeClient({ 'terminals.open': session, 'terminals.list': [{ ...session, backlog: 'while you were away' }] });
    const store = createTerminalsStore(client);
    await store.getState().open({ machine: 'local', cols: 80, rows: 24 });
    const resets: boolean[] = [];
    store.getState().attach('term-abc', (_data, reset) => resets.push(reset));
    await store.getState().resync();
    expect(resets).toEqual([true]);
    expect(store.getState().attach('term-abc', () => undefined).backlog).toBe('while you were away');

    const lost = createTerminalsStore(fakeClient({ 'terminals.open': session, 'terminals.list': [] }));
    await lost.getState().open({ machine: 'local', cols: 80, rows: 24 });
    await lost.getState().resync();
    expect(lost.getState().sessions[0]?.exit).toEqual({ code: null });
  });
});
