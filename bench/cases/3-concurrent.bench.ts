// Cases 3 and 5: 100 containers started concurrently through the agent API — all up, start
// latency p50/p95, wall time, the agent's CPU time — and the agent's memory (RSS) idle and with
// the 100 running; idle also on the Node runtime deploy ships to machines.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IMAGE, startReliabilityAgent, type ReliabilityAgent } from '../../build/testing/reliability-agent.js';
import { DEFAULT_BUNDLES_DIR, stageRuntime } from '../../build/runtime.mjs';
import { QUIET_MS } from '../../vm-assets/agent/daemon/memory-settle.js';
import { AGENT_DAEMON_NODE_FLAGS } from '../../shared/agent-launch.js';
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

/**
 * Idle: after start-up and one container run, so lazily loaded code is counted as the agent's; at
 * once after the last call, and settled: once the agent has been quiet long enough to give its
 * emptied heap back (its own settle after QUIET_MS; on Node 20, V8's memory reducer, seen 8-16 s
 * after the last call): a set time, as "idle" is one.
 */
const SETTLE_MS = QUIET_MS + 17_000;
async function idleAfterOneContainer(bench: ReliabilityAgent) {
  const { client } = bench;
  const { id: warm } = await client.call('containers.create', { image: IMAGE, command: ['true'], networks: ['none'] });
  await client.call('containers.start', { container: warm });
  await client.call('containers.wait', { container: warm });
  await client.call('containers.remove', { container: warm });
  const atOnce = await proc(bench.daemon.pid ?? 0);
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return { atOnce, settled: await proc(bench.daemon.pid ?? 0) };
}

/** Idle RSS of an agent on the Node runtime deploy ships to this architecture (staged as the deploy bench does). */
async function idleOnShippedNode(): Promise<{ version: string; idle: Awaited<ReturnType<typeof idleAfterOneContainer>> }> {
  const manifest = await stageRuntime({ arch: process.arch === 'arm64' ? 'arm64' : 'x64', outDir: DEFAULT_BUNDLES_DIR });
  const gz = manifest.files.find((file) => file.format === 'gz');
  if (!gz) throw new Error('the staged runtime has no gzip file');
  const dir = await mkdtemp(join(tmpdir(), 'onggi-bench-node-'));
  let shipped: ReliabilityAgent | undefined;
  try {
    const tar = spawnSync('tar', ['-xzf', join(DEFAULT_BUNDLES_DIR, gz.name), '-C', dir, 'bin/node'], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`unpacking the runtime failed: ${tar.stderr}`);
    shipped = await startReliabilityAgent({}, { node: join(dir, 'bin/node') });
    return { version: manifest.node, idle: await idleAfterOneContainer(shipped) };
  } finally {
    await shipped?.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}

const MiB = (kb: number) => round(kb / 1024, 1);
const AGENT_FLAGS = AGENT_DAEMON_NODE_FLAGS.join(' ');

it(`cases 3 and 5: ${COUNT} concurrent starts; agent RSS idle and with ${COUNT} running`, async () => {
  const { client } = agent;
  const pid = agent.daemon.pid ?? 0;
  const idle = await idleAfterOneContainer(agent);
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
  const shipped = await idleOnShippedNode();
  record('5-memory', {
    title: 'Agent memory (RSS)',
    variants: {},
    extra: {
      'idle (MiB)': MiB(idle.atOnce.rssKb),
      'idle: anonymous, V8 heap and malloc (MiB)': MiB(idle.atOnce.anonKb),
      'idle: file-backed, the Node binary and its libraries (MiB)': MiB(idle.atOnce.rssKb - idle.atOnce.anonKb),
      [`idle, settled ${SETTLE_MS / 1000} s after the last call (MiB)`]: MiB(idle.settled.rssKb),
      'idle, settled: anonymous (MiB)': MiB(idle.settled.anonKb),
      [`with ${COUNT} running (MiB)`]: MiB(busy.rssKb),
      [`on the shipped Node ${shipped.version}: idle (MiB)`]: MiB(shipped.idle.atOnce.rssKb),
      [`on the shipped Node ${shipped.version}: idle, settled (MiB)`]: MiB(shipped.idle.settled.rssKb),
      [`on the shipped Node ${shipped.version}: idle, settled: anonymous (MiB)`]: MiB(shipped.idle.settled.anonKb),
    },
    notes: [
      loadNote(),
      `the daemon is launched as every launcher does (shared/agent-launch.ts: MALLOC_TRIM_THRESHOLD_, ${AGENT_FLAGS}); idle is after one container ran, at once after the last call and ${SETTLE_MS / 1000} s later`,
      `bench's Node ${process.version}; the shipped Node is the runtime deploy stages (build/runtime.mjs)`,
    ],
  });
});
