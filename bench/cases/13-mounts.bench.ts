// Case 13: what a mount adds to a container start. `true` in a fresh container through the agent
// API (create, start, wait, rm), with no mount, with one bind mount of a machine directory, and
// with one named volume (made once before, as a database's would be), medians in the same run.
// Goal (issue 13): each mount ≤ +2 ms over none.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ContainerSpecInput } from '../../shared/containers.js';
import { IMAGE, startReliabilityAgent, type ReliabilityAgent } from '../../build/testing/reliability-agent.js';
import { compare, loadNote, record, round, stats } from '../harness.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
let agent: ReliabilityAgent;
let work: string;

beforeAll(async () => {
  agent = await startReliabilityAgent();
  work = await mkdtemp(join(tmpdir(), 'onggi-bench-mounts-'));
  await agent.client.call('volumes.create', { name: 'bench-data' });
});
afterAll(async () => {
  // The agent's cleanup removes its state directory, the volume with it.
  await agent?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

it('case 13: start `true` with one bind mount, with one named volume, and with none', async () => {
  const { client } = agent;
  let seq = 0;
  // Named by variant, so the activity log's helper timings (spawn to `started`) split by variant too.
  const start = (variant: string, mounts: ContainerSpecInput['mounts']) => async () => {
    const { id } = await client.call('containers.create', {
      name: `${variant}-${(seq += 1)}`,
      image: IMAGE,
      command: ['true'],
      networks: ['none'],
      ...(mounts ? { mounts } : {}),
    });
    await client.call('containers.start', { container: id });
    const exit = await client.call('containers.wait', { container: id });
    await client.call('containers.remove', { container: id });
    expect(exit.exitCode).toBe(0);
  };
  const result = await compare(
    {
      'no mount': start('none', undefined),
      'one bind mount': start('bind', [{ type: 'bind', source: work, target: '/data' }]),
      'one named volume': start('volume', [{ type: 'volume', source: 'bench-data', target: '/data' }]),
    },
    { warmup: 3, runs: RUNS },
  );
  const activity = await client.call('activity.list', { limit: 5000 });
  const launches = (variant: string) =>
    stats(
      activity
        .filter((e) => e.ok && /onggi-init-/.test(e.argv?.[0] ?? '') && e.container?.startsWith(`${variant}-`))
        .map((e) => e.durationMs),
    );
  const helper = { none: launches('none'), bind: launches('bind'), volume: launches('volume') };
  const none = result['no mount']?.median ?? NaN;
  record('13-mounts', {
    title: 'Container start (`true`, start to exit, removal included) with one mount vs none',
    variants: {
      ...result,
      'helper launch, no mount': helper.none,
      'helper launch, one bind mount': helper.bind,
      'helper launch, one named volume': helper.volume,
    },
    extra: {
      'bind mount − none (ms)': round((result['one bind mount']?.median ?? NaN) - none),
      'named volume − none (ms)': round((result['one named volume']?.median ?? NaN) - none),
      'helper launch: bind − none (ms)': round(helper.bind.median - helper.none.median),
      'helper launch: volume − none (ms)': round(helper.volume.median - helper.none.median),
      goal: '≤ +2 ms each',
    },
    notes: [loadNote()],
  });
});
