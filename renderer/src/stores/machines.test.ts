import { describe, expect, it, vi } from 'vitest';
import type { MachineSummary } from '../../../shared/host-api.js';
import type { SystemInfo } from '../../../shared/system-info.js';
import { createStores, startStores } from './index';
import { createMachinesStore } from './machines';
import { deferred, sampleInfo, ScriptedClient } from './test-fixtures';

const local: MachineSummary = { name: 'local', provider: 'local', state: 'stopped' };
const vm: MachineSummary = { name: 'dev-vm', provider: 'vagrant', state: 'stopped' };

describe('machines store', () => {
  it('lists machines and reads info for the local one (and for ready ones), not for stopped remote machines', async () => {
    const client = new ScriptedClient({
      'machines.list': () => [local, vm, { name: 'ec2', provider: 'ssh', state: 'ready' }],
      'machines.info': () => sampleInfo,
    });
    const store = createMachinesStore(client);
    await store.getState().load();
    expect(store.getState().status).toBe('ready');
    expect(store.getState().machines.map((machine) => machine.name)).toEqual(['local', 'dev-vm', 'ec2']);
    expect(client.callsOf('machines.info')).toEqual([{ machine: 'local' }, { machine: 'ec2' }]);
    expect(store.getState().info.local).toMatchObject({ status: 'ready', data: sampleInfo });
    expect(store.getState().info['dev-vm']).toBeUndefined();
  });

  it("keeps a machine.clock reading with the machine's info (the card shows it), and ignores one before any info", async () => {
    const client = new ScriptedClient({
      'machines.list': () => [{ name: 'ec2', provider: 'ssh', state: 'ready' }],
      'machines.info': () => sampleInfo,
    });
    const store = createMachinesStore(client);
    const clock = { offsetMs: -61_200, rttMs: 4, checkedAt: 1, policy: 'report' as const };
    store.getState().applyEvent({ type: 'machine.clock', machine: 'ec2', clock });
    expect(store.getState().info.ec2).toBeUndefined();
    await store.getState().load();
    store.getState().applyEvent({ type: 'machine.clock', machine: 'ec2', clock });
    expect(store.getState().info.ec2?.data).toEqual({ ...sampleInfo, clock });
  });

  it('keeps the error when listing fails', async () => {
    const client = new ScriptedClient({
      'machines.list': () => {
        throw new Error('host is restarting');
      },
    });
    const store = createMachinesStore(client);
    await store.getState().load();
    expect(store.getState()).toMatchObject({ status: 'error', error: 'host is restarting' });
  });

  it('keeps the last info visible when a refresh fails', async () => {
    let fail = false;
    const client = new ScriptedClient({
      'machines.list': () => [local],
      'machines.info': () => {
        if (fail) throw new Error('agent unreachable');
        return sampleInfo;
      },
    });
    const store = createMachinesStore(client);
    await store.getState().load();
    fail = true;
    await store.getState().loadInfo('local');
    expect(store.getState().info.local).toMatchObject({ status: 'error', error: 'agent unreachable', data: sampleInfo });
  });

  it('applies machine.state events and rereads info when a machine becomes ready', async () => {
    const client = new ScriptedClient({ 'machines.list': () => [local, vm], 'machines.info': () => sampleInfo });
    const store = createMachinesStore(client);
    await store.getState().load();
    expect(client.callsOf('machines.info')).toHaveLength(1);

    store.getState().applyEvent({ type: 'machine.state', machine: 'dev-vm', state: 'error', error: 'VirtualBox is not installed' });
    expect(store.getState().machines[1]).toEqual({ ...vm, state: 'error', error: 'VirtualBox is not installed' });
    expect(client.callsOf('machines.info')).toHaveLength(1);

    store.getState().applyEvent({ type: 'machine.state', machine: 'dev-vm', state: 'ready' });
    expect(store.getState().machines[1]).toEqual({ ...vm, state: 'ready', error: undefined });
    await vi.waitFor(() => expect(store.getState().info['dev-vm']?.status).toBe('ready'));
    expect(client.callsOf('machines.info')).toEqual([{ machine: 'local' }, { machine: 'dev-vm' }]);
  });

  it('does not ask twice when ready arrives while a read is in flight', async () => {
    const answer = deferred<SystemInfo>();
    const client = new ScriptedClient({ 'machines.list': () => [local], 'machines.info': () => answer.promise });
    const store = createMachinesStore(client);
    const loading = store.getState().load();
    await vi.waitFor(() => expect(client.callsOf('machines.info')).toHaveLength(1));
    store.getState().applyEvent({ type: 'machine.state', machine: 'local', state: 'ready' });
    answer.resolve(sampleInfo);
    await loading;
    expect(client.callsOf('machines.info')).toHaveLength(1);
    expect(store.getState().info.local?.status).toBe('ready');
  });

  it('ignores an older answer that arrives after a newer one', async () => {
    const first = deferred<SystemInfo>();
    const second = deferred<SystemInfo>();
    const answers = [first.promise, second.promise];
    const client = new ScriptedClient({ 'machines.info': () => answers.shift() ?? sampleInfo });
    const store = createMachinesStore(client);
    const a = store.getState().loadInfo('local');
    const b = store.getState().loadInfo('local');
    second.resolve({ ...sampleInfo, hostname: 'newer' });
    await b;
    first.resolve({ ...sampleInfo, hostname: 'older' });
    await a;
    expect(store.getState().info.local?.data?.hostname).toBe('newer');
  });

  it('reloads the list when an event names a machine it has not seen', async () => {
    const lists = [[local], [local, vm]];
    const client = new ScriptedClient({ 'machines.list': () => lists.shift() ?? [], 'machines.info': () => sampleInfo });
    const store = createMachinesStore(client);
    await store.getState().load();
    store.getState().applyEvent({ type: 'machine.state', machine: 'dev-vm', state: 'starting' });
    await vi.waitFor(() => expect(store.getState().machines).toHaveLength(2));
  });
});

describe('startStores', () => {
  it('follows the connection and reads everything again after a dropped link', async () => {
    const client = new ScriptedClient({
      'machines.list': () => [local],
      'machines.info': () => sampleInfo,
      'app.version': () => ({ version: '0.1.0', platform: 'linux', secretVault: false }),
    });
    const stores = createStores(client);
    const stop = startStores(stores);
    await vi.waitFor(() => expect(stores.machines.getState().info.local?.status).toBe('ready'));
    expect(stores.host.getState()).toMatchObject({ connection: 'open', app: { version: '0.1.0', platform: 'linux', secretVault: false } });

    client.setConnection('lost');
    expect(stores.host.getState().connection).toBe('lost');
    client.setConnection('open');
    await vi.waitFor(() => expect(client.callsOf('machines.list')).toHaveLength(2));

    client.emit({ type: 'machine.state', machine: 'local', state: 'error', error: 'permission denied' });
    expect(stores.machines.getState().machines[0]).toMatchObject({ state: 'error', error: 'permission denied' });
    stop();
    client.emit({ type: 'machine.state', machine: 'local', state: 'lost' });
    expect(stores.machines.getState().machines[0]?.state).toBe('error');
  });

  it('keeps the latest deploy progress per machine, the scheduled retry, and forgets a removed machine', async () => {
    const ec2: MachineSummary = { name: 'ec2', provider: 'ssh', state: 'stopped' };
    const client = new ScriptedClient({
      'machines.list': () => [local, ec2],
      'machines.info': () => sampleInfo,
      'machines.remove': () => ({}),
    });
    const store = createMachinesStore(client);
    await store.getState().load();
    const progress = { machine: 'ec2', phase: 'upload', part: 'agent', bytes: 10, total: 100, percent: 10 } as const;
    store.getState().applyEvent({ type: 'machine.deploy', ...progress });
    store.getState().applyEvent({ type: 'machine.deploy', ...progress, bytes: 60, percent: 60 });
    expect(store.getState().deploy).toEqual({ ec2: { ...progress, bytes: 60, percent: 60 } });

    store.getState().applyEvent({ type: 'machine.state', machine: 'ec2', state: 'lost', error: 'reset', retryAt: 1_800_000_000_000 });
    expect(store.getState().machines[1]).toEqual({ ...ec2, state: 'lost', error: 'reset', retryAt: 1_800_000_000_000 });
    // The next state says nothing of a retry: none is scheduled any more.
    store.getState().applyEvent({ type: 'machine.state', machine: 'ec2', state: 'connecting' });
    expect(store.getState().machines[1]).toEqual({ ...ec2, state: 'connecting' });

    await store.getState().remove('ec2');
    expect(client.callsOf('machines.remove')).toEqual([{ machine: 'ec2' }]);
    expect(store.getState().machines).toEqual([local]);
    expect(store.getState().deploy).toEqual({});
  });
});
