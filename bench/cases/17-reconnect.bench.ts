// Case 17: how soon an SSH machine is Ready after its link comes back (issue 17). The machine is
// a netns of the bench's own with its sshd (build/testing/netns-sshd.ts); each round blackholes
// the sshd's port there (DROP, no reset), has the host core find the link dead the way a wake or a
// network change does (checkLinks: no answer within 5 s, the link is dropped and redialled on the
// backoff), keeps the port dark for OUTAGE_MS so the keeper's attempts hang on unanswered SYNs,
// then opens it and times Ready:
//   - "restored": nothing tells the keeper (its attempt in flight or the next one finds the path);
//   - "restored + sign of life": checkLinks() right after the restore, as the app does on a
//     network change or a wake (a lost machine is dialled at once, not at its next retry).
// The QEMU guest's figure (Ready after `cont`) is measured by the VM suite's pause test
// (electron/core/machines/ssh/qemu-guest.vm-test.ts, `vm figures: readyAfterContMs`), not here:
// booting a TCG guest for a bench costs minutes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addSshMachine, testHostCore } from '../../build/testing/host-machines.js';
import { AGENT_DIR } from '../../build/testing/isolated-agent.js';
import { startNetnsSshd, type NetnsSshd } from '../../build/testing/netns-sshd.js';
import { remoteAgentEnv, stopRemoteAgents } from '../../build/testing/remote-agent.js';
import { until } from '../../build/testing/until.js';
import { stageRuntime } from '../../build/runtime.mjs';
import type { HostCore } from '../../electron/core/host-core.js';
import { loadNote, record, stats } from '../harness.js';

const RUNS = Number(process.env.BENCH_RECONNECT_RUNS ?? 3);
const OUTAGE_MS = 10_000;
const BUNDLES_DIR = join(AGENT_DIR, '..', 'bundles');
const isolation = remoteAgentEnv();
let net: NetnsSshd | undefined;
let core: HostCore | undefined;
let root = '';
const states: Array<{ state: string; at: number }> = [];

beforeAll(async () => {
  await stageRuntime({ arch: 'x64', outDir: BUNDLES_DIR });
  root = await mkdtemp(join(tmpdir(), 'onggi-bench-reconnect-'));
  net = await startNetnsSshd({ ONGGI_CGROUP_PARENT: isolation.cgroupParent, ONGGI_DEFAULT_NETWORK: 'none' });
  core = testHostCore(root);
  core.onEvent((event) => {
    if (event.type === 'machine.state' && event.machine === 'box') states.push({ state: event.state, at: Date.now() });
  });
  await addSshMachine(core, {
    provider: 'ssh',
    name: 'box',
    host: net.address,
    port: net.sshd.port,
    user: 'root',
    identityFile: net.sshd.userKeyPath,
    acceptNewHostKey: true,
    remote: {
      installRoot: join(root, 'remote/opt'),
      runDir: join(root, 'remote/run'),
      stateDir: join(root, 'remote/state'),
      supervisor: 'background',
    },
  });
}, 600_000);

afterAll(async () => {
  await core?.close();
  if (root) await stopRemoteAgents(join(root, 'remote/run'), `${root}/remote`, isolation);
  await net?.cleanup();
  if (root) await rm(root, { recursive: true, force: true });
});

/** Waits on a real condition (build/testing/until.ts), polling every 10 ms for at most a minute. */
function waitFor(condition: () => boolean, what: string): Promise<boolean> {
  return until(condition, Boolean, what, { attempts: 6000, intervalMs: 10 });
}

/** One outage; resolves with ms from the restore to Ready. */
async function outage(signOfLife: boolean): Promise<number> {
  if (!core || !net) throw new Error('set-up');
  const host = core;
  await host.call('machines.info', { machine: 'box' });
  const mark = states.length;
  net.blackhole('cut');
  try {
    await host.checkLinks();
    await waitFor(() => states.slice(mark).some((entry) => entry.state === 'lost'), 'lost');
    // The outage is the experiment, not a wait for readiness.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
  } finally {
    net.blackhole('restore');
  }
  const restoredAt = Date.now();
  const restoredMark = states.length;
  if (signOfLife) void host.checkLinks();
  await waitFor(() => states.slice(restoredMark).some((entry) => entry.state === 'ready'), 'ready');
  return (states.slice(restoredMark).find((entry) => entry.state === 'ready')?.at ?? NaN) - restoredAt;
}

it('case 17: link restored → Ready, an SSH machine blackholed (loopback netns)', async () => {
  const plain: number[] = [];
  const nudged: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    plain.push(await outage(false));
    nudged.push(await outage(true));
  }
  expect(plain.every(Number.isFinite)).toBe(true);
  record('17-reconnect', {
    title: 'SSH machine: link restored → Ready (netns blackhole, loopback)',
    variants: {
      restored: stats(plain),
      'restored + sign of life (checkLinks)': stats(nudged),
    },
    notes: [
      loadNote(),
      `each round: DROP both ways, checkLinks finds it dead (5 s), ${OUTAGE_MS / 1000} s dark, then opened`,
      'guest (QEMU cont → Ready): see the VM suite figure readyAfterContMs; not benched (a TCG boot costs minutes)',
    ],
  });
}, 900_000);
