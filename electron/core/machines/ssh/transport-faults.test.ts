// Transport faults on an SSH machine, for real: a loopback OpenSSH server, the agent deployed over
// it (isolated: its own dirs, cgroup parent, no default bridge), a registry on 127.0.0.1. The link
// is cut by SIGKILLing the sshd processes that serve our connection, mid-pull and mid-run.
//
// What a user can expect (and what is asserted here):
// - A call in flight when the link goes fails at once, saying the link was lost during that call
//   and that it may have been carried out all the same. Nothing is replayed: nothing runs twice.
// - The agent does not stop working when its caller goes: a pull goes on, and pulling again after
//   the reconnect joins it (layers already fetched, or being fetched, are not downloaded again);
//   the image is there once, no partial layer is left.
// - Containers outlive the link: same id, same pid, listed once, their logs whole.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxLayer } from '../../../../build/testing/busybox-layer.js';
import { AGENT_DIR } from '../../../../build/testing/isolated-agent.js';
import { unmountUnder } from '../../../../build/testing/mounts.js';
import { pushImage, sha256Digest, startRegistry, startRegistryProxy, type TestRegistry } from '../../../../build/testing/registry.js';
import { remoteAgentEnv, stopRemoteAgents } from '../../../../build/testing/remote-agent.js';
import { startSshd, type Sshd } from '../../../../build/testing/sshd.js';
import { stageRuntime } from '../../../../build/runtime.mjs';
import type { ContainerSummary } from '../../../../shared/containers.js';
import type { HostEvent } from '../../../../shared/host-api.js';
import type { ImageSummary } from '../../../../shared/images.js';
import type { TerminalSession } from '../../../../shared/terminals.js';
import { followLogs } from '../../../cli/log-follow.js';
import { asHostApi, type HostCore } from '../../host-core.js';
import { SshMachine } from './ssh-machine.js';
import { addSshMachine, testHostCore } from '../../../../build/testing/host-machines.js';
import { runAllSteps } from '../../../../build/testing/teardown.js';

const BUNDLES_DIR = join(AGENT_DIR, '..', 'bundles');
const IMAGE = 'busybox:faults';
const isolation = remoteAgentEnv();
let sshd: Sshd | undefined;
let registry: TestRegistry | undefined;
let root = '';
let remote: { installRoot: string; runDir: string; stateDir: string; supervisor: 'background' };
let core: HostCore | undefined;
const states: string[] = [];
const events: HostEvent[] = [];

beforeAll(async () => {
  await stageRuntime({ arch: 'x64', outDir: BUNDLES_DIR });
  root = await mkdtemp(join(tmpdir(), 'onggi-faults-test-'));
  remote = {
    installRoot: join(root, 'remote/opt'),
    runDir: join(root, 'remote/run'),
    stateDir: join(root, 'remote/state'),
    supervisor: 'background',
  };
  [sshd, registry] = await Promise.all([startSshd({ env: isolation.env }), startRegistry()]);
  core = testHostCore(root);
  core.onEvent((event) => {
    events.push(event);
    if (event.type === 'machine.state' && event.machine === 'box') states.push(event.state);
  });
  await addSshMachine(core, {
    provider: 'ssh',
    name: 'box',
    host: '127.0.0.1',
    port: sshd.port,
    user: 'root',
    identityFile: sshd.userKeyPath,
    acceptNewHostKey: true,
    remote,
  });
  const layer = await makeBusyboxLayer(join(root, 'busybox'));
  await tar.c({ cwd: layer, file: join(root, 'busybox.tar') }, ['.']);
  await host().importImageFile('box', join(root, 'busybox.tar'), { kind: 'rootfs', name: IMAGE });
  expect(states.at(-1)).toBe('ready');
}, 300_000);

afterAll(async () => {
  const steps: Array<() => Promise<unknown>> = [
    async () => core?.close(),
    async () => {
      if (root) await stopRemoteAgents(remote.runDir, `${root}/remote`, isolation);
    },
    async () => sshd?.stop(),
    async () => registry?.stop(),
    async () => {
      if (!root) return;
      unmountUnder(root);
      await rm(root, { recursive: true, force: true });
    },
  ];
  await runAllSteps(steps);
}, 60_000);

function host(): HostCore {
  if (!core) throw new Error('the host core is set up in beforeAll');
  return core;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * SIGKILLs the sshd processes serving the machine's connection (right after `during` sent its
 * request, when given, so that request is in flight); resolves once the machine is back (lost → ready).
 */
async function cutLinkAndReconnect(options: { during?: () => void; afterCut?: () => Promise<void> } = {}): Promise<void> {
  const machine = host().machine('box');
  if (!(machine instanceof SshMachine) || !sshd) throw new Error('no ssh machine');
  const connection = await machine.ssh();
  const mark = states.length;
  const pids = await sshd.connectionPids(connection.localPort);
  expect(pids.length).toBeGreaterThan(0);
  if (options.during) {
    options.during();
    // Long enough for the request to be written to the SSH channel, far too short for an answer.
    for (let turn = 0; turn < 3; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  }
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  await options.afterCut?.();
  await waitUntil(() => states.slice(mark).includes('lost') && states.at(-1) === 'ready', 'the machine to say lost, then ready');
  expect(states.slice(mark)).toEqual(['lost', 'connecting', 'deploying', 'ready']);
  expect((await machine.ssh()).localPort).not.toBe(connection.localPort);
}

function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error : new Error(String(error)) }),
  );
}

async function containers(): Promise<ContainerSummary[]> {
  return (await host().call('containers.list', { machine: 'box', all: true })) as ContainerSummary[];
}

function resolvers(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** A one-file plain tar layer of `bytes` random bytes. */
async function randomLayer(name: string, bytes: number): Promise<Buffer> {
  const dir = join(root, `layer-${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.bin`), randomBytes(bytes));
  const file = join(root, `layer-${name}.tar`);
  await tar.c({ cwd: dir, file, portable: true }, [`${name}.bin`]);
  return readFile(file);
}

describe('the SSH link cut under a running operation', () => {
  it('mid-pull: the call fails saying so, the machine reconnects, pulling again downloads no layer twice and stores the image once', async () => {
    const layers = [await randomLayer('a', 2 << 20), await randomLayer('b', 2 << 20)];
    const held = resolvers();
    const release = resolvers();
    const [first, second] = layers.map((layer) => sha256Digest(layer));
    if (!registry || !first || !second) throw new Error('set-up');
    await pushImage(registry.host, 'faults/pull', 'v1', { layers });
    const proxy = await startRegistryProxy(registry.host, { holdBlob: { digest: second, onHeld: held.resolve, release: release.promise } });
    try {
      const ref = `${proxy.host}/faults/pull:v1`;
      const interrupted = settle(host().call('images.pull', { machine: 'box', ref, insecure: true }));
      await held.promise; // half of layer b is on the machine; a is done or on its way
      await cutLinkAndReconnect({
        afterCut: async () => {
          const outcome = await interrupted;
          expect(outcome.ok).toBe(false);
          if (!outcome.ok) expect(outcome.error.message).toMatch(/link to .* was lost during images\.pull .* may have been carried out/);
        },
      });
      // The agent kept pulling for nobody; the user pulls again, then the registry answers the rest.
      const retried = settle(host().call('images.pull', { machine: 'box', ref, insecure: true }));
      release.resolve();
      const result = await retried;
      if (!result.ok) throw result.error;
      const image = result.value as ImageSummary;
      expect(image.names).toContain(ref);
      expect(image.layers).toBe(2);
      for (const digest of [first, second]) {
        const gets = proxy.requests.filter((request) => request.method === 'GET' && request.path.endsWith(`/blobs/${digest}`));
        expect(
          gets.map((request) => request.status),
          `GETs of ${digest}`,
        ).toEqual([200]);
      }
      const images = (await host().call('images.list', { machine: 'box' })) as ImageSummary[];
      expect(images.filter((listed) => listed.names.includes(ref))).toHaveLength(1);
      const store = join(remote.stateDir, 'images');
      expect((await readdir(join(store, 'layers'))).filter((name) => name.includes('.tmp-'))).toEqual([]);
      expect(await readdir(join(store, 'tmp')).catch(() => [])).toEqual([]);
    } finally {
      release.resolve();
      await proxy.stop();
    }
  }, 60_000);

  it('mid-run: the container keeps its id and pid, is listed once, its logs are whole; a create in flight makes at most one container', async () => {
    const count = 200;
    const { id } = (await host().call('containers.create', {
      machine: 'box',
      image: IMAGE,
      name: 'counter',
      command: ['sh', '-c', `i=0; while [ $i -lt ${count} ]; do i=$((i+1)); echo line-$i; sleep 0.02; done; exec sleep 600`],
      networks: ['none'],
    })) as { id: string };
    const started = (await host().call('containers.start', { machine: 'box', container: id })) as ContainerSummary;
    expect(started.pid).not.toBeNull();
    // The window follows the logs, as the Containers view does.
    const followed: string[] = [];
    const streamId = 'faults-follow';
    const off = host().onEvent((event) => {
      if (event.type === 'machine.event' && event.event.type === 'container.log' && event.event.streamId === streamId)
        followed.push(...event.event.entries.map((entry) => entry.log.trimEnd()));
    });
    const follow = settle(host().call('containers.logs', { machine: 'box', container: id, follow: true, streamId }));
    await waitUntil(() => followed.length >= 20, 'some followed lines');

    let inFlight: ReturnType<typeof settle<unknown>> | undefined;
    await cutLinkAndReconnect({
      during: () => {
        inFlight = settle(
          host().call('containers.create', {
            machine: 'box',
            image: IMAGE,
            name: 'in-flight',
            command: ['sleep', '600'],
            networks: ['none'],
          }),
        );
      },
    });
    off();
    if (!inFlight) throw new Error('the create was not sent');
    const created = await inFlight;
    if (!created.ok) expect(created.error.message).toMatch(/link to .* was lost during containers\.create .* may have been carried out/);
    const followOutcome = await follow;
    expect(followOutcome.ok).toBe(false);
    // What followed before the cut is a clean prefix: nothing lost in the middle, nothing twice.
    expect(followed).toEqual(Array.from({ length: followed.length }, (_, i) => `line-${i + 1}`));

    // The container outlived the link: same id, same process, listed once, logs whole.
    const listed = (await containers()).filter((container) => container.name === 'counter');
    expect(listed).toEqual([expect.objectContaining({ id, state: 'running', pid: started.pid })]);
    const lines = async (): Promise<string[]> =>
      ((await host().call('containers.logs', { machine: 'box', container: id })) as { entries: Array<{ log: string }> }).entries.map(
        (entry) => entry.log.trimEnd(),
      );
    await waitUntil(async () => (await lines()).includes(`line-${count}`), 'the last counter line');
    expect(await lines()).toEqual(Array.from({ length: count }, (_, i) => `line-${i + 1}`));

    // The create in flight: the list tells the truth; a user who retries only when it is absent ends with one.
    const before = (await containers()).filter((container) => container.name === 'in-flight');
    expect(before.length).toBeLessThanOrEqual(1);
    if (created.ok) expect(before.map((container) => container.id)).toEqual([(created.value as { id: string }).id]);
    const retry = settle(
      host().call('containers.create', { machine: 'box', image: IMAGE, name: 'in-flight', command: ['sleep', '600'], networks: ['none'] }),
    );
    const retried = await retry;
    expect(retried.ok).toBe(before.length === 0);
    if (!retried.ok) expect(retried.error.message).toMatch(/in-flight/);
    expect((await containers()).filter((container) => container.name === 'in-flight')).toHaveLength(1);
    console.info(`in-flight create: ${created.ok ? 'answered before the cut' : 'cut'}; on the machine afterwards: ${before.length}`);

    // A follow-up operation works on the new link.
    for (const name of ['counter', 'in-flight']) await host().call('containers.remove', { machine: 'box', container: name, force: true });
    expect(await containers()).toEqual([]);
    expect(spawnSync('test', ['-e', `/proc/${started.pid}`]).status).not.toBe(0);
  }, 60_000);

  it('logs -f across a cut: the CLI follows again from its last line once the machine answers — no line lost, none twice', async () => {
    const count = 300;
    const { id } = (await host().call('containers.create', {
      machine: 'box',
      image: IMAGE,
      name: 'chatty',
      command: ['sh', '-c', `i=0; while [ $i -lt ${count} ]; do i=$((i+1)); echo line-$i; sleep 0.02; done`],
      networks: ['none'],
    })) as { id: string };
    await host().call('containers.start', { machine: 'box', container: id });
    const printed: string[] = [];
    const losses: string[] = [];
    const following = followLogs(
      asHostApi(host()),
      { machine: 'box', container: id },
      { follow: true },
      (entries) => printed.push(...entries.map((entry) => entry.log.trimEnd())),
      (error) => losses.push(error.message),
    );
    await waitUntil(() => printed.length >= 20, 'some followed lines');
    await cutLinkAndReconnect();
    await following;
    expect(losses).toEqual([expect.stringMatching(/link to .* was lost during containers\.logs/)]);
    expect(printed).toEqual(Array.from({ length: count }, (_, i) => `line-${i + 1}`));
    await host().call('containers.remove', { machine: 'box', container: id, force: true });
  }, 60_000);

  it('a terminal session across a cut: the same shell is reattached, what it printed while away is replayed once, typing works again', async () => {
    const session = (await host().call('terminals.open', { machine: 'box', cols: 100, rows: 30 })) as TerminalSession;
    const seen = (): string =>
      events.map((event) => (event.type === 'terminal.output' && event.id === session.id ? event.data : '')).join('');
    const ended = () => events.some((event) => event.type === 'terminal.exit' && event.id === session.id);
    // Arithmetic in the commands: the echo of what was typed never matches what they print.
    await host().call('terminals.input', { id: session.id, data: 'echo "SHELL-$$-$((6*7))"\r' });
    await waitUntil(() => /SHELL-\d+-42/.test(seen()), 'the shell to answer');
    const pid = /SHELL-(\d+)-42/.exec(seen())?.[1];
    const flag = join(root, 'terminal-flag');
    // Prints only once the link is down (the test makes the file after the cut).
    await host().call('terminals.input', { id: session.id, data: `while [ ! -e ${flag} ]; do sleep 0.05; done; echo "AWAY-$((20+3))"\r` });
    await cutLinkAndReconnect({ afterCut: () => writeFile(flag, '') });
    await waitUntil(() => seen().includes('AWAY-23'), 'the replay of what was printed while the link was down');
    await host().call('terminals.input', { id: session.id, data: 'echo "BACK-$$-$((1+1))"\r' });
    await waitUntil(() => seen().includes(`BACK-${pid}-2`), 'the same shell to answer again');
    expect(ended()).toBe(false);
    for (const printed of [`SHELL-${pid}-42`, 'AWAY-23', `BACK-${pid}-2`]) expect(seen().split(printed).length - 1, printed).toBe(1);
    const listed = (await host().call('terminals.list', undefined)) as Array<TerminalSession & { backlog: string }>;
    expect(listed.find((entry) => entry.id === session.id)?.backlog).toContain('AWAY-23');
    await host().call('terminals.close', { id: session.id });
    await waitUntil(ended, 'the session to end once closed');
  }, 60_000);

  it('a container terminal session (exec -t) is held the same way: after a cut it is the same shell in the container', async () => {
    const { id } = (await host().call('containers.create', {
      machine: 'box',
      image: IMAGE,
      name: 'held',
      command: ['sleep', '600'],
      networks: ['none'],
    })) as { id: string };
    await host().call('containers.start', { machine: 'box', container: id });
    const session = (await host().call('terminals.open', { machine: 'box', container: id, cols: 100, rows: 30 })) as TerminalSession;
    const seen = (): string =>
      events.map((event) => (event.type === 'terminal.output' && event.id === session.id ? event.data : '')).join('');
    await host().call('terminals.input', { id: session.id, data: 'echo "IN-$(hostname)-$$-$((6*7))"\r' });
    await waitUntil(() => /IN-\S+-\d+-42/.test(seen()), 'the shell in the container to answer');
    const [, name, pid] = /IN-(\S+)-(\d+)-42/.exec(seen()) ?? [];
    await cutLinkAndReconnect();
    await host().call('terminals.input', { id: session.id, data: 'echo "AGAIN-$(hostname)-$$-$((1+1))"\r' });
    await waitUntil(() => seen().includes(`AGAIN-${name}-${pid}-2`), 'the same shell in the same container');
    await host().call('terminals.close', { id: session.id });
    await host().call('containers.remove', { machine: 'box', container: id, force: true });
  }, 60_000);

  it('a link frozen without a reset (its sshd stopped, as after a network change): checking the links redials at once, not after the 45 s keepalive', async () => {
    const machine = host().machine('box');
    if (!(machine instanceof SshMachine) || !sshd) throw new Error('no ssh machine');
    await host().call('machines.info', { machine: 'box' });
    const connection = await machine.ssh();
    const pids = await sshd.connectionPids(connection.localPort);
    expect(pids.length).toBeGreaterThan(0);
    const mark = states.length;
    // Nothing answers and nothing resets: what a TCP connection over a vanished address looks like.
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      const checked = Date.now();
      await host().checkLinks();
      await waitUntil(() => states.slice(mark).includes('lost') && states.at(-1) === 'ready', 'lost, then ready', 20_000);
      const readyMs = Date.now() - checked;
      console.info(`frozen link: ready again ${readyMs} ms after the check`);
      expect(readyMs).toBeLessThan(15_000);
      expect((await machine.ssh()).localPort).not.toBe(connection.localPort);
      expect(await host().call('machines.info', { machine: 'box' })).toMatchObject({ hostname: expect.any(String) });
    } finally {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone with its connection
        }
      }
    }
  }, 60_000);

  it('the agent killed (-9) on the machine: its supervisor restarts it, the machine reconnects, the containers are as they were', async () => {
    const { id } = (await host().call('containers.create', {
      machine: 'box',
      image: IMAGE,
      name: 'survivor',
      command: ['sleep', '600'],
      networks: ['none'],
    })) as { id: string };
    await host().call('containers.start', { machine: 'box', container: id });
    await host().call('containers.create', { machine: 'box', image: IMAGE, name: 'idle', command: ['true'], networks: ['none'] });
    const before = await containers();
    expect(before.map((container) => [container.name, container.state]).sort()).toEqual([
      ['idle', 'created'],
      ['survivor', 'running'],
    ]);
    const info = (await host().call('machines.info', { machine: 'box' })) as { agent: { pid: number } };
    const mark = states.length;
    process.kill(info.agent.pid, 'SIGKILL');
    await waitUntil(() => states.slice(mark).includes('lost') && states.at(-1) === 'ready', 'lost, then ready', 40_000);
    const after = (await host().call('machines.info', { machine: 'box' })) as { agent: { pid: number } };
    expect(after.agent.pid).not.toBe(info.agent.pid);
    // The restarted daemon kept the test's isolation (sshd SetEnv → supervisor → daemon).
    expect((await readFile(`/proc/${after.agent.pid}/environ`, 'utf8')).split('\0')).toContain(
      `ONGGI_CGROUP_PARENT=${isolation.cgroupParent}`,
    );
    expect(await containers()).toEqual(before);
    for (const name of ['survivor', 'idle']) await host().call('containers.remove', { machine: 'box', container: name, force: true });
    expect(await containers()).toEqual([]);
  }, 60_000);
});
