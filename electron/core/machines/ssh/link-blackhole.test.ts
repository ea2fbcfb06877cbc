// An SSH machine whose link is blackholed for 60 s (issue 17): what a laptop sees when its Wi-Fi
// drops without a reset. The machine is a network namespace of the test's own (sshd, the agent
// it deploys, its bridge and NAT all live there), joined to this computer by a veth pair; the
// blackhole is a DROP rule on the sshd's port in that namespace's own iptables (both ways), never
// in the machine's main tables. The host core finds out the way it would on a real desktop: its
// SSH keepalive (15 s × 3) gives up, the machine goes `lost`, then redials every 3 s.
//
// After the rules are removed: Ready again; the published port answers again on 127.0.0.1; the
// terminal session is the same shell and takes input; `logs -f` of a container printing a counter
// every 100 ms shows every number once, none missing, across the outage.
import { mkdtemp, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxLayer } from '../../../../build/testing/busybox-layer.js';
import { addSshMachine, testHostCore } from '../../../../build/testing/host-machines.js';
import { AGENT_DIR } from '../../../../build/testing/isolated-agent.js';
import { unmountUnder } from '../../../../build/testing/mounts.js';
import { remoteAgentEnv, stopRemoteAgents } from '../../../../build/testing/remote-agent.js';
import { startNetnsSshd, type NetnsSshd } from '../../../../build/testing/netns-sshd.js';
import { freePort } from '../../../../build/testing/sshd.js';
import { until } from '../../../../build/testing/until.js';
import { stageRuntime } from '../../../../build/runtime.mjs';
import type { HostEvent } from '../../../../shared/host-api.js';
import type { TerminalSession } from '../../../../shared/terminals.js';
import { followLogs } from '../../../cli/log-follow.js';
import { asHostApi, type HostCore } from '../../host-core.js';
import { runAllSteps } from '../../../../build/testing/teardown.js';

const BUNDLES_DIR = join(AGENT_DIR, '..', 'bundles');
const IMAGE = 'busybox:blackhole';
const OUTAGE_MS = 60_000;
const isolation = remoteAgentEnv();
let machineNet: NetnsSshd | undefined;
let root = '';
let remote: { installRoot: string; runDir: string; stateDir: string; supervisor: 'background' };
let core: HostCore | undefined;
const states: Array<{ state: string; at: number }> = [];
const events: HostEvent[] = [];

beforeAll(async () => {
  await stageRuntime({ arch: 'x64', outDir: BUNDLES_DIR });
  root = await mkdtemp(join(tmpdir(), 'onggi-blackhole-test-'));
  remote = {
    installRoot: join(root, 'remote/opt'),
    runDir: join(root, 'remote/run'),
    stateDir: join(root, 'remote/state'),
    supervisor: 'background',
  };
  // The netns is the test's own: its agent makes the default bridge and NAT there.
  machineNet = await startNetnsSshd({ ONGGI_CGROUP_PARENT: isolation.cgroupParent });
  const { sshd } = machineNet;
  core = testHostCore(root, { forwardPublishedPorts: true });
  core.onEvent((event) => {
    events.push(event);
    if (event.type === 'machine.state' && event.machine === 'box') states.push({ state: event.state, at: Date.now() });
  });
  await addSshMachine(core, {
    provider: 'ssh',
    name: 'box',
    host: machineNet.address,
    port: sshd.port,
    user: 'root',
    identityFile: sshd.userKeyPath,
    acceptNewHostKey: true,
    remote,
  });
  const layer = await makeBusyboxLayer(join(root, 'busybox'));
  await tar.c({ cwd: layer, file: join(root, 'busybox.tar') }, ['.']);
  await host().importImageFile('box', join(root, 'busybox.tar'), { kind: 'rootfs', name: IMAGE });
}, 300_000);

afterAll(async () => {
  const steps: Array<() => Promise<unknown>> = [
    async () => core?.close(),
    async () => {
      if (root) await stopRemoteAgents(remote.runDir, `${root}/remote`, isolation);
    },
    // The netns goes with its iptables rules, bridge and the veth pair (both ends).
    async () => machineNet?.cleanup(),
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

/** Waits on a real condition (build/testing/until.ts), polling every 20 ms for at most `timeoutMs`. */
function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<boolean> {
  return until(condition, Boolean, what, { attempts: Math.ceil(timeoutMs / 20), intervalMs: 20 });
}

/** One GET of this computer's 127.0.0.1:port: the body on a 200, undefined on any failure. */
function fetchLocal(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(response.statusCode === 200 ? body : undefined));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

describe('an SSH machine blackholed for 60 s, then restored', () => {
  it('is Ready again; the published port, the terminal session and logs -f (no line lost, none twice) all go on', async () => {
    const net = machineNet;
    if (!net) throw new Error('set-up');
    const hostPort = await freePort();
    const web = (await host().call('containers.create', {
      machine: 'box',
      image: IMAGE,
      name: 'web',
      ports: [`${hostPort}:80`],
      command: ['sh', '-c', 'mkdir -p /www && echo hello-through-the-forward > /www/index.html && exec httpd -f -p 80 -h /www'],
    })) as { id: string };
    await host().call('containers.start', { machine: 'box', container: web.id });
    const counter = (await host().call('containers.create', {
      machine: 'box',
      image: IMAGE,
      name: 'counter',
      command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done'],
      networks: ['none'],
    })) as { id: string };
    await host().call('containers.start', { machine: 'box', container: counter.id });
    await waitUntil(async () => (await fetchLocal(hostPort)) === 'hello-through-the-forward\n', 'the published port on 127.0.0.1');

    const session = (await host().call('terminals.open', { machine: 'box', cols: 100, rows: 30 })) as TerminalSession;
    const seen = (): string =>
      events.map((event) => (event.type === 'terminal.output' && event.id === session.id ? event.data : '')).join('');
    await host().call('terminals.input', { id: session.id, data: 'echo "SHELL-$$-$((6*7))"\r' });
    await waitUntil(() => /SHELL-\d+-42/.test(seen()), 'the shell to answer');
    const pid = /SHELL-(\d+)-42/.exec(seen())?.[1];

    const printed: number[] = [];
    const losses: string[] = [];
    const following = followLogs(
      asHostApi(host()),
      { machine: 'box', container: counter.id },
      { follow: true },
      (entries) => printed.push(...entries.map((entry) => Number(entry.log.trim()))),
      (error) => losses.push(error.message),
    );
    await waitUntil(() => printed.length >= 10, 'some counted lines');

    const mark = states.length;
    const cutAt = Date.now();
    net.blackhole('cut');
    let restoredAt: number;
    try {
      // Printed while the link is down: the replay must carry it.
      await host().call('terminals.input', { id: session.id, data: 'echo "AWAY-$((20+3))"\r' });
      await waitUntil(() => states.slice(mark).some((entry) => entry.state === 'lost'), 'the keepalive to find the link lost', OUTAGE_MS);
      const lostAt = states.slice(mark).find((entry) => entry.state === 'lost')?.at ?? 0;
      console.info(`blackhole: lost seen ${lostAt - cutAt} ms after the cut`);
      // The outage itself lasts 60 s, whatever the keeper did meanwhile.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + OUTAGE_MS - Date.now())));
    } finally {
      net.blackhole('restore');
      restoredAt = Date.now();
    }
    const restoredMark = states.length;
    await waitUntil(
      () => states.slice(restoredMark).some((entry) => entry.state === 'ready') || states.at(-1)?.state === 'ready',
      'Ready',
      30_000,
    );
    const readyAt = states.slice(restoredMark).find((entry) => entry.state === 'ready')?.at ?? Date.now();
    console.info(`blackhole: Ready ${readyAt - restoredAt} ms after the link was restored`);

    await waitUntil(async () => (await fetchLocal(hostPort)) === 'hello-through-the-forward\n', 'the published port again', 20_000);
    console.info(`blackhole: the published port answers again ${Date.now() - restoredAt} ms after the restore`);

    await waitUntil(() => seen().includes('AWAY-23'), 'the terminal to reattach and replay');
    await host().call('terminals.input', { id: session.id, data: 'echo "BACK-$$-$((1+1))"\r' });
    await waitUntil(() => seen().includes(`BACK-${pid}-2`), 'the same shell to answer again');
    for (const text of [`SHELL-${pid}-42`, 'AWAY-23', `BACK-${pid}-2`]) expect(seen().split(text).length - 1, text).toBe(1);
    expect(events.some((event) => event.type === 'terminal.exit' && event.id === session.id)).toBe(false);

    const atRestore = printed.length;
    await waitUntil(() => printed.length >= atRestore + 10, 'counting to go on in logs -f');
    await host().call('containers.stop', { machine: 'box', container: counter.id, timeoutSeconds: 1 });
    await following;
    expect(losses.length).toBeGreaterThanOrEqual(1);
    // Every number once, in order, none missing: 1..N (the container ran throughout).
    expect(printed.length).toBeGreaterThan(OUTAGE_MS / 100 / 2);
    expect(printed).toEqual(Array.from({ length: printed.length }, (_, i) => i + 1));

    await host().call('terminals.close', { id: session.id });
    for (const id of [web.id, counter.id]) await host().call('containers.remove', { machine: 'box', container: id, force: true });
  }, 180_000);
});
