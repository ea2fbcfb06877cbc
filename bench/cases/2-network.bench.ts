// Case 2: container start with bridge networking vs without. `true` in a fresh container through
// the agent API (create, start, wait, rm), start to exit and removal included, as in case 1:
// `--network none`; the default bridge (veth pair, address, default route inside); and the
// default bridge with a published port (the same plus the DNAT rule and its removal). The agent
// runs in a netns lab of the bench's own (build/testing/netns-lab.ts), so every bridge, veth and
// packet filter rule is made there, never in the machine's own netns. Inside the agent: the
// network steps of each start as its activity log timed them (sum and count per container).
import { expect, it } from 'vitest';
import { IMAGE, countKernel } from '../../build/testing/netns-lab.js';
import type { ActivityEntry } from '../../shared/agent-rpc.js';
import { compare, loadNote, record, round, stats, type Stats } from '../harness.js';
import { useNetnsLab } from '../lab.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const netnsLab = useNetnsLab();

it('case 2: start `true` with bridge networking vs without', async () => {
  const { lab, client: agent } = netnsLab();
  /** Each measured start's container name and wall-clock window, to find its steps in the activity log. */
  const windows: Record<string, Array<{ name: string; from: number; to: number }>> = {};
  let seq = 0;
  const start = (variant: string, spec: { networks?: string[]; ports?: string[] }) => async () => {
    const name = `bn${(seq += 1)}`;
    const from = Date.now();
    const { id } = await agent.call('containers.create', { image: IMAGE, name, command: ['true'], ...spec });
    await agent.call('containers.start', { container: id });
    const exit = await agent.call('containers.wait', { container: id });
    await agent.call('containers.remove', { container: id });
    (windows[variant] ??= []).push({ name, from, to: Date.now() });
    expect(exit.exitCode).toBe(0);
  };
  const NONE = 'none (--network none)';
  const BRIDGE = 'bridge (veth + address + route)';
  const PORT = 'bridge + published port (+ DNAT rule)';
  // The default bridge and its NAT rules are made on first use and stay: the warm-up makes them.
  const result = await compare(
    {
      [NONE]: start(NONE, { networks: ['none'] }),
      [BRIDGE]: start(BRIDGE, {}),
      [PORT]: start(PORT, { ports: ['18080:80'] }),
    },
    { warmup: 3, runs: RUNS },
  );

  // Inside the agent: what its activity log recorded during each measured start (commands run and
  // files written, with their durations). Network steps are those filed under a network, plus the
  // packet filter's sync (filed under no container: it rewrites the chains for all of them).
  const activity = await agent.call('activity.list', { limit: 5000 });
  const firewall = /^(iptables|iptables-restore|iptables-save|nft)$/;
  const perStart = (variant: string) =>
    (windows[variant] ?? []).slice(3).map(({ name, from, to }) =>
      activity.filter((e) => {
        const at = Date.parse(e.at);
        return at >= from && at <= to && (e.container === name || e.container === undefined);
      }),
    );
  const isNetwork = (e: ActivityEntry) => e.network !== undefined || firewall.test(e.argv?.[0] ?? '');
  const sum = (entries: ActivityEntry[]) => entries.reduce((a, e) => a + e.durationMs, 0);
  const inside: Record<string, Stats> = {};
  const extra: Record<string, number> = {};
  for (const variant of [NONE, BRIDGE, PORT]) {
    const starts = perStart(variant);
    inside[`${variant}: all logged steps in the agent (sum)`] = stats(starts.map(sum));
    if (variant !== NONE) inside[`${variant}: network steps in the agent (sum)`] = stats(starts.map((s) => sum(s.filter(isNetwork))));
    extra[`logged steps per start, ${variant} (median)`] = stats(starts.map((s) => s.length)).median;
    if (variant !== NONE)
      extra[`network steps per start, ${variant} (median)`] = stats(starts.map((s) => s.filter(isNetwork).length)).median;
  }
  // Where a start's time goes, step by step (the command with names and numbers left out), printed
  // for whoever reads the run: the medians per start of each kind of step, slowest first.
  for (const variant of [NONE, BRIDGE, PORT]) {
    const kinds = new Map<string, number[]>();
    const starts = perStart(variant);
    for (const [index, entries] of starts.entries())
      for (const e of entries) {
        const words = (e.argv ?? ['echo', '>', e.path ?? '']).filter((w) => !w.startsWith('--net=') && !w.startsWith('--mount='));
        const key = words
          .slice(0, 4)
          .map((w) => w.replace(/[0-9a-f]{8,}|\d+/g, '#'))
          .join(' ');
        const sums = kinds.get(key) ?? new Array<number>(starts.length).fill(0);
        sums[index] = (sums[index] ?? 0) + e.durationMs;
        kinds.set(key, sums);
      }
    const medians = [...kinds].map(([key, sums]) => [key, stats(sums).median] as const).sort((a, b) => b[1] - a[1]);
    console.log(
      `case 2, ${variant}: steps per start (median ms)\n${medians.map(([k, m]) => `  ${m.toFixed(1).padStart(7)}  ${k}`).join('\n')}`,
    );
  }

  // What is left in the lab: the default bridge, the lab's own veth to its outside netns, the rules.
  const left = countKernel(lab);
  expect(await agent.call('containers.list', { all: true })).toEqual([]);

  const none = result[NONE]?.median ?? NaN;
  record('2-network', {
    title: 'Container start (`true`) with bridge networking vs without (agent API, in a netns lab)',
    variants: { ...result, ...inside },
    extra: {
      'bridge / none': round((result[BRIDGE]?.median ?? NaN) / none),
      'bridge + port / none': round((result[PORT]?.median ?? NaN) / none),
      'bridge − none (ms, medians)': round((result[BRIDGE]?.median ?? NaN) - none),
      'bridge + port − none (ms, medians)': round((result[PORT]?.median ?? NaN) - none),
      ...extra,
      'left in the lab netns after the runs (veths / bridges / rules)': `${left.veths} / ${left.bridges} / ${left.rules}`,
    },
    notes: [
      loadNote(),
      'the agent and its containers run in a netns the bench made (build/testing/netns-lab.ts); the default bridge and its NAT (MASQUERADE) rules are made in the warm-up and stay',
      'steps in the agent: the activity-log entries (commands it spawned, files it wrote) recorded during one measured start, durations summed; network steps are those filed under a network (veth, address, route) plus the packet filter sync for published ports',
    ],
  });
});
