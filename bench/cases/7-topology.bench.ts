// Case 7: `topology.snapshot` (the kernel's view of the machine's links, addresses and routes, in
// the agent's netns and in every running container's) with 200 containers on 5 bridges. The
// containers are as cheap as they come: busybox `sleep`. Measured at 0, ¼, ½ and all of them
// running, so the cost per namespace shows as a slope; beside it, one namespace's read done by
// hand (the `nsenter … ip -batch` the agent spawns for a namespace whose fingerprint changed,
// netns-cache.ts: after the warm-up, the snapshots measure the fingerprints) and the agent's CPU
// time per snapshot, its own and its children's. The agent runs in a netns lab of the bench's own
// (build/testing/netns-lab.ts): every bridge and veth is made there, never in the machine's netns.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { IMAGE } from '../../build/testing/netns-lab.js';
import type { Topology } from '../../shared/networks.js';
import { compare, loadNote, record, round, type Stats } from '../harness.js';
import { useNetnsLab } from '../lab.js';

const COUNT = Number(process.env.BENCH_TOPOLOGY_CONTAINERS ?? 200);
const BRIDGES = 5;
const RUNS = Number(process.env.BENCH_TOPOLOGY_RUNS ?? 10);
/** Containers started (or removed) at once. */
const PARALLEL = 20;
const netnsLab = useNetnsLab();

/** Runs `work` over `items`, PARALLEL at a time. */
async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += PARALLEL) await Promise.all(items.slice(i, i + PARALLEL).map(work));
}

/** CPU time (ms) of a process, its own and that of its waited-for children (fields 14–17 of stat, 100 Hz ticks). */
async function cpu(pid: number): Promise<{ own: number; children: number }> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  const ms = (i: number) => Number(fields[i]) * 10;
  return { own: ms(11) + ms(12), children: ms(13) + ms(14) };
}

it(`case 7: topology.snapshot with ${COUNT} containers on ${BRIDGES} bridges`, async () => {
  const { lab, client: agent } = netnsLab();
  const daemon = await lab.sandbox.daemonPid();
  if (daemon === undefined) throw new Error('no agent daemon');
  const networks = Array.from({ length: BRIDGES }, (_, i) => `bench${i + 1}`);
  for (const [i, name] of networks.entries()) await agent.call('networks.create', { name, subnet: `10.${81 + i}.0.0/24` });

  const ids: string[] = [];
  const variants: Record<string, Stats> = {};
  const extra: Record<string, number | string> = {};
  const medians: Array<[number, number]> = [];
  let started = 0;
  try {
    for (const target of [0, COUNT / 4, COUNT / 2, COUNT].map(Math.round)) {
      const batch = Array.from({ length: target - started }, (_, i) => started + i);
      const startedAt = performance.now();
      await inBatches(batch, async (i) => {
        const { id } = await agent.call('containers.create', {
          image: IMAGE,
          name: `topo${i}`,
          command: ['sleep', '100000'],
          networks: [networks[i % BRIDGES] ?? 'bench1'],
        });
        ids.push(id);
        await agent.call('containers.start', { container: id });
      });
      if (batch.length)
        extra[`starting containers ${started + 1}–${target} (s, ${PARALLEL} at a time)`] = round((performance.now() - startedAt) / 1000, 1);
      started = target;

      const before = await cpu(daemon);
      let last: Topology | undefined;
      const result = await compare(
        {
          snapshot: async () => {
            last = await agent.call('topology.snapshot', {});
          },
        },
        { warmup: 1, runs: RUNS },
      );
      const after = await cpu(daemon);
      const snapshot = result.snapshot;
      if (!snapshot || !last) throw new Error('no snapshot');
      // Every running container's namespace is in it, besides the machine's (the agent's).
      expect(last.namespaces.filter((n) => n.kind === 'container')).toHaveLength(target);
      variants[`snapshot, ${target} containers (${target + 1} namespaces)`] = snapshot;
      medians.push([target, snapshot.median]);
      const perSnapshot = (ms: number) => round(ms / (RUNS + 1), 0);
      extra[`agent CPU per snapshot at ${target}, own / children (ms)`] =
        `${perSnapshot(after.own - before.own)} / ${perSnapshot(after.children - before.children)}`;
      if (target === COUNT) {
        extra[`snapshot size at ${target} (KiB of JSON)`] = round(JSON.stringify(last).length / 1024, 0);
        extra[`links in the snapshot at ${target}`] = last.namespaces.reduce((a, n) => a + n.links.length, 0);
        extra[`veths matched to their peer at ${target}`] = last.namespaces.reduce(
          (a, n) => a + n.links.filter((l) => l.peer?.name).length,
          0,
        );
      }
    }

    // The per-namespace read by hand: the command the agent spawns for each container's netns.
    const pids = (await agent.call('containers.list', {})).map((c) => c.pid).filter((p): p is number => typeof p === 'number');
    const one = await compare(
      {
        read: async () => {
          const pid = pids[Math.floor(Math.random() * pids.length)] ?? 0;
          const read = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-j', '-d', '-batch', '-'], {
            input: 'link show\naddr show\nroute show\n',
            encoding: 'utf8',
          });
          if (read.status !== 0) throw new Error(`nsenter ip: ${read.stderr}`);
        },
      },
      { warmup: 2, runs: RUNS * 2 },
    );
    if (one.read) variants['one namespace read by hand (nsenter + ip -j -d -batch)'] = one.read;
    const [first, lastPoint] = [medians[0], medians[medians.length - 1]];
    if (first && lastPoint && lastPoint[0] > first[0])
      extra['cost per container namespace (ms, slope of medians 0 → all)'] = round((lastPoint[1] - first[1]) / (lastPoint[0] - first[0]));
  } finally {
    // clean-up after the measurement: a container already gone is the goal
    await inBatches([...ids], (id) => agent.call('containers.remove', { container: id, force: true }).catch(() => undefined));
    // clean-up after the measurement: a network already gone is the goal
    for (const name of networks) await agent.call('networks.remove', { network: name }).catch(() => undefined);
  }

  record('7-topology', {
    title: `Topology snapshot (\`topology.snapshot\`, agent API) with ${COUNT} containers on ${BRIDGES} bridges, in a netns lab`,
    variants,
    extra,
    notes: [
      loadNote(),
      `containers: busybox \`sleep\`, round-robin on ${BRIDGES} user networks; each point: 1 warm-up, then ${RUNS} snapshots`,
      'the agent spawns `nsenter --net=/proc/PID/ns/net ip -j -d -batch -` for a container namespace only when its spawn-free fingerprint (/proc/PID/net, its sysfs) changed since the last snapshot (vm-assets/agent/networks/netns-cache.ts)',
    ],
  });
});
