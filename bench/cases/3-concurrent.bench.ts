// Cases 3 and 5: 100 containers started concurrently through the agent API — all up, start
// latency p50/p95, wall time, the agent's CPU time — and the agent's memory (RSS) idle and with
// the 100 running.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IMAGE, startReliabilityAgent, type ReliabilityAgent } from '../../build/testing/reliability-agent.js';
import { loadNote, record, round, stats } from '../harness.js';

const COUNT = Number(process.env.BENCH_CONCURRENT ?? 100);
let agent: ReliabilityAgent;

beforeAll(async () => {
  agent = await startReliabilityAgent();
});
afterAll(async () => {
  await agent?.cleanup();
});

async function proc(pid: number): Promise<{ rssKb: number; anonKb: number; cpuMs: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  // RSS = anonymous (V8's heap, malloc) + file-backed (the Node binary's and libraries' pages, shared).
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name), in clock ticks (100 Hz).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]), anonKb: Number(/Anonymous:\s+(\d+)/.exec(rollup)?.[1]), cpuMs: ticks * 10 };
}

it(`cases 3 and 5: ${COUNT} concurrent starts; agent RSS idle and with ${COUNT} running`, async () => {
  const { client } = agent;
  const pid = agent.daemon.pid ?? 0;
  // Idle: after start-up and one container run, so lazily loaded code is counted as the agent's.
  const { id: warm } = await client.call('containers.create', { image: IMAGE, command: ['true'], networks: ['none'] });
  await client.call('containers.start', { container: warm });
  await client.call('containers.wait', { container: warm });
  await client.call('containers.remove', { container: warm });
  const idle = await proc(pid);
  const ids = await Promise.all(
    Array.from({ length: COUNT }, (_, i) =>
      client.call('containers.create', { image: IMAGE, name: `c${i}`, command: ['sleep', '1000'], networks: ['none'] }).then((r) => r.id),
    ),
  );
  const before = await proc(pid);
  const wallStart = performance.now();
  const latencies = await Promise.all(
    ids.map(async (id) => {
      const started = performance.now();
      await client.call('containers.start', { container: id });
      return performance.now() - started;
    }),
  );
  const wall = performance.now() - wallStart;
  const after = await proc(pid);
  const running = await client.call('containers.list', {});
  expect(running).toHaveLength(COUNT);
  const busy = await proc(pid);
  for (const id of ids) await client.call('containers.remove', { container: id, force: true });
  record('3-concurrent', {
    title: `${COUNT} containers started concurrently (agent API)`,
    variants: { 'start latency': stats(latencies) },
    extra: {
      'all running': running.length,
      'wall time (ms)': round(wall),
      'agent CPU time for the starts (ms)': after.cpuMs - before.cpuMs,
    },
    notes: [loadNote()],
  });
  record('5-memory', {
    title: 'Agent memory (RSS)',
    variants: {},
    extra: {
      'idle (MiB)': round(idle.rssKb / 1024, 1),
      'idle: anonymous, V8 heap and malloc (MiB)': round(idle.anonKb / 1024, 1),
      'idle: file-backed, the Node binary and its libraries (MiB)': round((idle.rssKb - idle.anonKb) / 1024, 1),
      [`with ${COUNT} running (MiB)`]: round(busy.rssKb / 1024, 1),
    },
    notes: [
      loadNote(),
      'the daemon is launched as every launcher does (shared/agent-launch.ts: MALLOC_TRIM_THRESHOLD_, --max-semi-space-size=1); idle is after one container ran',
    ],
  });
});
