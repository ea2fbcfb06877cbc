import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ContainerSummary } from '../../../shared/containers.js';
import type { HostEvent } from '../../../shared/host-api.js';
import { createContainersStore } from './containers';
import { ScriptedClient, deferred } from './test-fixtures';

const row = (id: string, name: string, state: ContainerSummary['state']): ContainerSummary => ({
  id: id.repeat(64).slice(0, 64),
  name,
  image: 'busybox:latest',
  imageId: `sha256:${'a'.repeat(64)}`,
  command: ['sleep', '1000'],
  state,
  pid: state === 'running' ? 4242 : null,
  exitCode: null,
  oomKilled: false,
  error: null,
  createdAt: '2026-12-06T10:00:00.000Z',
  startedAt: state === 'running' ? '2026-12-06T10:00:01.000Z' : null,
  finishedAt: null,
});

const stateEvent = (machine: string, c: ContainerSummary, state: ContainerSummary['state']): HostEvent => ({
  type: 'machine.event',
  machine,
  event: { type: 'container.state', id: c.id, name: c.name, state, exitCode: null },
});

afterEach(() => {
  vi.useRealTimers();
});

describe('containers store', () => {
  it("inserts the window's own run from start's answer, without a second read when the created event overtakes create's answer", async () => {
    vi.useFakeTimers();
    const mine = row('b', 'web', 'running');
    const created = deferred<{ id: string; name: string }>();
    const client = new ScriptedClient({
      'containers.list': () => [],
      'containers.create': () => created.promise,
      'containers.start': () => mine,
    });
    const store = createContainersStore(client, { reloadDelayMs: 50 });
    await store.getState().load('local');
    const running = store.getState().run({ image: 'busybox:latest' } as never);
    // The agent's event comes before create's reply, as on the wire.
    store.getState().applyEvent(stateEvent('local', mine, 'created'));
    created.resolve({ id: mine.id, name: mine.name });
    await running;
    store.getState().applyEvent(stateEvent('local', mine, 'running'));
    await vi.advanceTimersByTimeAsync(200);
    expect(store.getState().containers.map((c) => c.name)).toEqual(['web']);
    expect(client.callsOf('containers.list')).toHaveLength(1);
  });

  it('reads the list for a container created elsewhere, once per burst', async () => {
    vi.useFakeTimers();
    const other = row('c', 'from-cli', 'running');
    let list: ContainerSummary[] = [];
    const client = new ScriptedClient({ 'containers.list': () => list });
    const store = createContainersStore(client, { reloadDelayMs: 50 });
    await store.getState().load('local');
    list = [other];
    store.getState().applyEvent(stateEvent('local', other, 'created'));
    store.getState().applyEvent(stateEvent('local', other, 'running'));
    await vi.advanceTimersByTimeAsync(200);
    expect(client.callsOf('containers.list')).toHaveLength(2);
    expect(store.getState().containers.map((c) => c.name)).toEqual(['from-cli']);
  });

  it('reads again after an exit (finishedAt, --rm)', async () => {
    vi.useFakeTimers();
    const c = row('d', 'job', 'running');
    const client = new ScriptedClient({ 'containers.list': () => [c] });
    const store = createContainersStore(client, { reloadDelayMs: 50 });
    await store.getState().load('local');
    store.getState().applyEvent(stateEvent('local', c, 'exited'));
    expect(store.getState().containers[0]?.state).toBe('exited');
    await vi.advanceTimersByTimeAsync(200);
    expect(client.callsOf('containers.list')).toHaveLength(2);
  });

  it('reads again when an event says something besides the state changed (paused, health, rename)', async () => {
    vi.useFakeTimers();
    const c = row('e', 'web', 'running');
    let list: ContainerSummary[] = [c];
    const client = new ScriptedClient({ 'containers.list': () => list });
    const store = createContainersStore(client, { reloadDelayMs: 50 });
    await store.getState().load('local');
    list = [{ ...c, paused: true }];
    store.getState().applyEvent({
      type: 'machine.event',
      machine: 'local',
      event: { type: 'container.state', id: c.id, name: c.name, state: 'running', exitCode: null, changed: true },
    });
    await vi.advanceTimersByTimeAsync(200);
    expect(store.getState().containers[0]?.paused).toBe(true);
  });
});
