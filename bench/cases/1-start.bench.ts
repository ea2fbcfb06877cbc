// Case 1: container start. `true` in a fresh container, start to exit and removal included:
// Onggi through the agent API (create, start, wait, rm over the unix socket), Onggi end to end
// from the CLI (`onggi run --rm`), crun and runc (`run` on an OCI bundle of the same busybox
// rootfs; both delete the container on exit), and a bare `unshare` as the floor. The API variant
// runs again with `--security-opt seccomp=unconfined`: the difference is what Docker's default
// profile as an allow-list (compiled per container, loaded by the helper) costs a start.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI } from '../../build/testing/isolated-agent.js';
import { IMAGE, startReliabilityAgent, type ReliabilityAgent } from '../../build/testing/reliability-agent.js';
import { compare, loadNote, record, round, stats } from '../harness.js';
import { makeBundle, startPeerRunner, version, type PeerRunner } from '../peers.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
/** BENCH_LABEL=before records this run beside the main one (`1-start-before`), to show what a change moved. */
const LABEL = process.env.BENCH_LABEL;
let agent: ReliabilityAgent;
let work: string;
let runner: PeerRunner;

beforeAll(async () => {
  agent = await startReliabilityAgent();
  work = await mkdtemp(join(tmpdir(), 'onggi-bench-start-'));
  await makeBundle(join(work, 'bundle'), ['true'], agent.sandbox.cgroupParent);
  runner = await startPeerRunner();
});
afterAll(async () => {
  runner?.close();
  await agent?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

let seq = 0;
const mustRun = (argv: string[]) => {
  const run = spawnSync(argv[0] ?? 'false', argv.slice(1), { encoding: 'utf8', env: agent.sandbox.env });
  if (run.status !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`);
};

it('case 1: start `true`', async () => {
  const { client } = agent;
  const bundle = join(work, 'bundle');
  const viaApi = (seccomp: 'default' | 'unconfined') => async () => {
    const { id } = await client.call('containers.create', {
      image: IMAGE,
      command: ['true'],
      networks: ['none'],
      seccomp: { kind: seccomp },
    });
    await client.call('containers.start', { container: id });
    const exit = await client.call('containers.wait', { container: id });
    await client.call('containers.remove', { container: id });
    expect(exit.exitCode).toBe(0);
  };
  const result = await compare(
    {
      'onggi (agent API)': viaApi('default'),
      'onggi (agent API, seccomp unconfined)': viaApi('unconfined'),
      'onggi run --rm (CLI)': async () => mustRun([process.execPath, CLI, 'run', '--rm', '--network', 'none', IMAGE, 'true']),
      'crun run': async () => runner.run(['crun', '--root', join(work, 'crun-state'), 'run', '--bundle', bundle, `b${(seq += 1)}`]),
      'runc run': async () => mustRun(['runc', '--root', join(work, 'runc-state'), 'run', '--bundle', bundle, `b${(seq += 1)}`]),
      'unshare (floor)': async () => mustRun(['unshare', '--fork', '--pid', '--mount', '--uts', '--ipc', '--net', '--mount-proc', 'true']),
    },
    { warmup: 3, runs: RUNS },
  );
  // Inside the agent: how long the init helper took from spawn to `started` (the activity log's timing).
  const launches = (await client.call('activity.list', { limit: 5000 }))
    .filter((e) => /onggi-init-/.test(e.argv?.[0] ?? '') && e.ok)
    .map((e) => e.durationMs);
  const api = result['onggi (agent API)']?.median ?? NaN;
  record(LABEL ? `1-start-${LABEL}` : '1-start', {
    title: `Container start (\`true\`, start to exit, removal included)${LABEL ? `, ${LABEL}` : ''}`,
    variants: { ...result, 'onggi helper launch (inside the agent)': stats(launches) },
    extra: {
      'allow-list cost (API default − unconfined, median ms)': round(
        api - (result['onggi (agent API, seccomp unconfined)']?.median ?? NaN),
      ),
      'onggi API / runc': round(api / (result['runc run']?.median ?? NaN)),
      'onggi API / crun': round(api / (result['crun run']?.median ?? NaN)),
      'onggi CLI / runc': round((result['onggi run --rm (CLI)']?.median ?? NaN) / (result['runc run']?.median ?? NaN)),
      runc: version(['runc', '--version']),
      crun: version(['crun', '--version']),
    },
    notes: [loadNote(), 'crun runs in a private mount namespace with /sys/fs/cgroup/unified unmounted (bench/peer-runner.mjs)'],
  });
});
