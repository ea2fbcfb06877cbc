import { describe, expect, it } from 'vitest';
import type { BridgeReply, HostEvent, PreloadBridge } from '../../../shared/host-api.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { BridgeHostClient } from './ipc-client';

function fakeBridge(
  answer: (method: string, params: unknown) => unknown,
): PreloadBridge & { emit(event: unknown): void; calls: [string, unknown][] } {
  const listeners = new Set<(event: unknown) => void>();
  const calls: [string, unknown][] = [];
  return {
    calls,
    call: async (method, params) => {
      calls.push([method, params]);
      return answer(method, params) as BridgeReply;
    },
    pickFolder: async (request) => {
      calls.push(['pickFolder', request]);
      return answer('pickFolder', request) as BridgeReply;
    },
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit: (event) => {
      for (const listener of listeners) listener(event);
    },
  };
}

describe('BridgeHostClient', () => {
  it('opens the native folder dialog through the preload: the folder, null on cancel, a bad answer refused', async () => {
    const chosen = new BridgeHostClient(fakeBridge(() => ({ ok: true, result: { path: '/home/me/app' } })));
    await expect(chosen.pickFolder({ title: 'Choose' })).resolves.toBe('/home/me/app');
    const cancelled = new BridgeHostClient(fakeBridge(() => ({ ok: true, result: { path: null } })));
    await expect(cancelled.pickFolder({ title: 'Choose' })).resolves.toBeNull();
    const bad = new BridgeHostClient(fakeBridge(() => ({ ok: true, result: { path: 7 } })));
    await expect(bad.pickFolder({ title: 'Choose' })).rejects.toMatchObject({ kind: 'bad_result', field: 'pickFolder result.path' });
    const refused = fakeBridge(() => ({
      ok: false,
      error: { code: ErrorCode.Forbidden, message: 'Refused: no.', data: { kind: 'forbidden' } },
    }));
    await expect(new BridgeHostClient(refused).pickFolder({ title: 'Choose' })).rejects.toMatchObject({ kind: 'forbidden' });
    // A bad request never reaches the preload.
    await expect(new BridgeHostClient(refused).pickFolder({ title: '' })).rejects.toMatchObject({ field: 'params.title' });
    expect(refused.calls).toHaveLength(1);
  });

  it('returns validated results', async () => {
    const bridge = fakeBridge(() => ({ ok: true, result: [{ name: 'local', provider: 'local', state: 'ready' }] }));
    const client = new BridgeHostClient(bridge);
    await expect(client.call('machines.list', undefined)).resolves.toEqual([{ name: 'local', provider: 'local', state: 'ready' }]);
    expect(bridge.calls).toEqual([['machines.list', undefined]]);
    expect(client.connectionState).toBe('open');
  });

  it('rejects an invalid result, naming the field', async () => {
    const client = new BridgeHostClient(fakeBridge(() => ({ ok: true, result: { version: 1, platform: 'linux' } })));
    await expect(client.call('app.version', undefined)).rejects.toMatchObject({ kind: 'bad_result', field: 'app.version result.version' });
  });

  it('rejects a reply that is not a BridgeReply', async () => {
    const client = new BridgeHostClient(fakeBridge(() => 'surprise'));
    await expect(client.call('app.version', undefined)).rejects.toMatchObject({ kind: 'bad_reply' });
  });

  it('turns error replies into OnggiErrors', async () => {
    const client = new BridgeHostClient(
      fakeBridge(() => ({
        ok: false,
        error: { code: ErrorCode.Unavailable, message: 'agent is not running', data: { kind: 'agent_unreachable' } },
      })),
    );
    await expect(client.call('machines.info', { machine: 'local' })).rejects.toMatchObject({
      name: 'OnggiError',
      code: ErrorCode.Unavailable,
      kind: 'agent_unreachable',
      message: 'agent is not running',
    });
  });

  it('validates events before passing them on', () => {
    const bridge = fakeBridge(() => ({ ok: true, result: null }));
    const client = new BridgeHostClient(bridge);
    const events: HostEvent[] = [];
    const off = client.onEvent((event) => events.push(event));
    bridge.emit({ type: 'machine.state', machine: 'local', state: 'ready' });
    bridge.emit({ type: 'machine.state', machine: 'local', state: 'bogus' });
    bridge.emit('junk');
    off();
    bridge.emit({ type: 'machine.state', machine: 'local', state: 'lost' });
    expect(events).toEqual([{ type: 'machine.state', machine: 'local', state: 'ready' }]);
  });
});
