import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NetworkSummary, Topology } from '../../../shared/networks.js';
import { createStores, startStores } from './index';
import { ScriptedClient } from './test-fixtures';

const topology = { namespaces: [], links: [] } as unknown as Topology;
const net = (name: string) => ({ name }) as unknown as NetworkSummary;

afterEach(() => {
  vi.useRealTimers();
});

describe('networks store', () => {
  it('reads networks and topology once per burst of topology.changed, and again after a dropped link comes back', async () => {
    vi.useFakeTimers();
    let networks = [net('onggi')];
    const client = new ScriptedClient({
      'machines.list': () => [],
      'app.version': () => ({ version: '0.1.0', platform: 'linux', secretVault: false }) as never,
      'networks.list': () => networks,
      'topology.snapshot': () => topology,
    });
    const stores = createStores(client);
    const stop = startStores(stores);
    await stores.networks.getState().load('local');
    expect(stores.networks.getState().networks.map((n) => n.name)).toEqual(['onggi']);

    networks = [net('onggi'), net('web')];
    for (let i = 0; i < 3; i += 1) client.emit({ type: 'machine.event', machine: 'local', event: { type: 'topology.changed' } } as never);
    client.emit({ type: 'machine.event', machine: 'other', event: { type: 'topology.changed' } } as never);
    await vi.advanceTimersByTimeAsync(1000);
    expect(client.callsOf('networks.list')).toHaveLength(2);
    expect(stores.networks.getState().networks.map((n) => n.name)).toEqual(['onggi', 'web']);

    client.setConnection('lost');
    expect(stores.networks.getState().stale).toBe(true);
    client.setConnection('open');
    await vi.advanceTimersByTimeAsync(0);
    expect(client.callsOf('networks.list')).toHaveLength(3);
    expect(stores.networks.getState().stale).toBe(false);
    stop();
  });
});
