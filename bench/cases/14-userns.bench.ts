// Case 14: what --userns=auto adds to a container start on a warm image. `true` in a fresh
// container through the agent API (create, start, wait, rm), in the machine's user namespace and
// in one of its own (a range allocated and released per container, the layers idmapped), medians
// in the same run. The agent's subid files are the bench's own, never the machine's.
// Goal (issue 14): ≤ +5 ms median.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IMAGE, startReliabilityAgent, type ReliabilityAgent } from '../../build/testing/reliability-agent.js';
import { compare, loadNote, record, round, stats } from '../harness.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
let agent: ReliabilityAgent;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'onggi-bench-userns-'));
  const subid = join(work, 'subid');
  await writeFile(subid, 'onggi:100000:6553600\n');
  agent = await startReliabilityAgent({ ONGGI_SUBUID_FILE: subid, ONGGI_SUBGID_FILE: subid });
});
afterAll(async () => {
  await agent?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

it('case 14: start `true` with --userns=auto vs --userns=host', async () => {
  const { client } = agent;
  let seq = 0;
  // Named by variant, so the activity log's helper timings (spawn to `started`) split by variant too.
  const start = (variant: string, userns: 'auto' | 'host') => async () => {
    const { id } = await client.call('containers.create', {
      name: `${variant}-${(seq += 1)}`,
      image: IMAGE,
      command: ['true'],
      networks: ['none'],
      userns,
    });
    await client.call('containers.start', { container: id });
    const exit = await client.call('containers.wait', { container: id });
    await client.call('containers.remove', { container: id });
    expect(exit.exitCode).toBe(0);
  };
  const result = await compare(
    { '--userns=host': start('host', 'host'), '--userns=auto': start('auto', 'auto') },
    { warmup: 3, runs: RUNS },
  );
  const activity = await client.call('activity.list', { limit: 5000 });
  const launches = (variant: string) =>
    stats(
      activity
        .filter((e) => e.ok && /onggi-init-/.test(e.argv?.[0] ?? '') && e.container?.startsWith(`${variant}-`))
        .map((e) => e.durationMs),
    );
  const helper = { host: launches('host'), auto: launches('auto') };
  record('14-userns', {
    title: 'Container start (`true`, start to exit, removal included) with its own user namespace vs the machine’s',
    variants: { ...result, 'helper launch, --userns=host': helper.host, 'helper launch, --userns=auto': helper.auto },
    extra: {
      'auto − host (ms)': round((result['--userns=auto']?.median ?? NaN) - (result['--userns=host']?.median ?? NaN)),
      'helper launch: auto − host (ms)': round(helper.auto.median - helper.host.median),
      goal: '≤ +5 ms median',
    },
    notes: [loadNote()],
  });
});
