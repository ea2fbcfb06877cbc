// The agent killed (-9) during a window session, for real: the host core with an isolated local
// agent (its own dirs and cgroup parent, no default bridge), `onggi serve`'s WebSocket server, and
// the window's own WebSocket client (renderer/src/api/ws-client.ts) in Node, subscribed to events.
// The host core starts the agent again on its own; the window sees the machine lost, then ready,
// its container list as it was, and the next operation works.
import { join } from 'node:path';
import * as tar from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeBusyboxLayer } from '../../build/testing/busybox-layer.js';
import { isAlive } from '../../build/testing/isolated-agent.js';
import { startServeSandbox, type ServeSandbox } from '../../build/testing/serve-sandbox.js';
import type { HostEvent } from '../../shared/host-api.js';
import { nodeSocket } from '../../renderer/src/api/node-socket.js';
import { WebSocketHostClient } from '../../renderer/src/api/ws-client.js';

const IMAGE = 'busybox:restart';
let lab: ServeSandbox | undefined;
let client: WebSocketHostClient | undefined;

beforeEach(async () => {
  lab = await startServeSandbox();
});
afterEach(async () => {
  client?.close();
  await lab?.close();
});

async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the agent killed during a window session', () => {
  it('the host core restarts it; the window sees lost then ready, the same containers, and the next operation works', async () => {
    if (!lab) throw new Error('set-up');
    const { sandbox, serve } = lab;
    const origin = `http://127.0.0.1:${serve.port}`;
    const window = new WebSocketHostClient({
      url: `ws://127.0.0.1:${serve.port}/api?token=${serve.token}`,
      socket: nodeSocket({ origin }),
    });
    client = window;
    const states: string[] = [];
    const containerEvents: HostEvent[] = [];
    window.onEvent((event) => {
      if (event.type === 'machine.state' && event.machine === 'local') states.push(event.state);
      if (event.type === 'machine.event' && event.event.type === 'container.state') containerEvents.push(event);
    });
    await waitUntil(() => window.connectionState === 'open', 'the window to connect');

    const layer = await makeBusyboxLayer(join(sandbox.root, 'busybox'));
    const tarball = join(sandbox.root, 'busybox.tar');
    await tar.c({ cwd: layer, file: tarball }, ['.']);
    await window.call('images.import', { machine: 'local', path: tarball, kind: 'rootfs', name: IMAGE });
    const runner = await window.call('containers.create', {
      machine: 'local',
      image: IMAGE,
      name: 'runner',
      command: ['sleep', '600'],
      networks: ['none'],
    });
    await window.call('containers.start', { machine: 'local', container: runner.id });
    await window.call('containers.create', { machine: 'local', image: IMAGE, name: 'idle', command: ['true'], networks: ['none'] });
    const before = await window.call('containers.list', { machine: 'local', all: true });
    expect(before.map((c) => [c.name, c.state]).sort()).toEqual([
      ['idle', 'created'],
      ['runner', 'running'],
    ]);
    const info = await window.call('machines.info', { machine: 'local' });
    const mark = states.length;

    process.kill(info.agent.pid, 'SIGKILL');
    await waitUntil(() => !isAlive(info.agent.pid), 'the daemon to die');
    await waitUntil(() => states.slice(mark).includes('lost') && states.at(-1) === 'ready', 'lost, then ready', 30_000);
    expect(states.slice(mark)).toEqual(['lost', 'connecting', 'ready']);
    expect(window.connectionState).toBe('open'); // the window's own link never dropped

    const after = await window.call('machines.info', { machine: 'local' });
    expect(after.agent.pid).not.toBe(info.agent.pid);
    expect(await sandbox.daemonPid()).toBe(after.agent.pid);
    // The same containers, the running one still the same process.
    expect(await window.call('containers.list', { machine: 'local', all: true })).toEqual(before);
    // The next operation works, and its events reach the window over the new agent link.
    const seen = containerEvents.length;
    await window.call('containers.stop', { machine: 'local', container: 'runner', timeoutSeconds: 0 });
    await waitUntil(
      () =>
        containerEvents
          .slice(seen)
          .some((e) => e.type === 'machine.event' && e.event.type === 'container.state' && e.event.state === 'exited'),
      'the stop event',
    );
    for (const name of ['runner', 'idle']) await window.call('containers.remove', { machine: 'local', container: name });
    expect(await window.call('containers.list', { machine: 'local', all: true })).toEqual([]);
  }, 60_000);
});
