// Leak check with networking, the 300 cycles: run / stop / rm on the default bridge with a
// published port, and a `run --rm`, in a netns lab (the daemon's bridges, veths and NAT rules are
// made in a netns of the test's own). Before and after: veths, bridges, packet filter rules,
// mounts, cgroups, state files (containers, networks, run dir), processes and the agent's open
// fds — all equal. ONGGI_NET_LEAK_CYCLES sets the count (default 300).
//
// The cycles talk to the daemon over its socket, as the host core does; the first one goes
// through the CLI as a user would. (Four CLI processes per cycle cost ~1.5–2.5 s on this loaded
// 2-core box, three quarters of it Node starting up; over the socket a cycle is ~0.35 s.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent, type AgentTestClient } from '../../../build/testing/agent-client.js';
import { IMAGE, countKernel, createLab, type NetnsLab } from '../../../build/testing/netns-lab.js';
import { agentFiles, census, openFds, waitForEvent } from '../../../build/testing/reliability-agent.js';

const CYCLES = Number(process.env.ONGGI_NET_LEAK_CYCLES ?? 300);
let lab: NetnsLab;
let client: AgentTestClient | undefined;

beforeAll(async () => {
  lab = await createLab();
}, 120_000);
afterAll(async () => {
  client?.close();
  await lab?.cleanup();
});

function must(...args: string[]): string {
  const run = lab.onggi(...args);
  if (run.code !== 0) throw new Error(`onggi ${args.join(' ')}: ${run.err}`);
  return run.out;
}

function agent(): AgentTestClient {
  if (!client) throw new Error('not connected');
  return client;
}

/** run -d -p, stop, rm; then run --rm: over the socket. `whileRunning` looks at the machine mid-cycle. */
async function cycle(i: number, whileRunning?: () => void): Promise<void> {
  const name = `net-${i}`;
  await agent().call('containers.create', { image: IMAGE, name, command: ['sleep', '1000'], ports: [`${18000 + (i % 1000)}:80`] });
  await agent().call('containers.start', { container: name });
  whileRunning?.();
  await agent().call('containers.stop', { container: name, timeoutSeconds: 0 });
  await agent().call('containers.remove', { container: name });
  const { id } = await agent().call('containers.create', { image: IMAGE, command: ['true'], autoRemove: true });
  await agent()
    .call('containers.start', { container: id })
    .catch(() => undefined); // may be gone before start returns
  // Removed in the background once its exit is seen: done when the agent says it is dead.
  await waitForEvent(agent(), (e) => e.type === 'container.state' && e.id === id && e.state === 'dead');
}

async function snapshot() {
  const pid = await lab.sandbox.daemonPid();
  if (pid === undefined) throw new Error('no daemon');
  return {
    kernel: countKernel(lab),
    ...(await census(lab.sandbox)),
    agentFiles: await agentFiles(lab.sandbox),
    fds: await openFds(pid),
    pid,
  };
}

describe('leak check with networking', () => {
  it(`leaves veths, bridges, rules, mounts, cgroups, state files, processes and agent fds as they were after ${CYCLES} cycles`, async () => {
    // Warm-up through the CLI: the default bridge and its NAT rules are made on first use and stay.
    must('run', '-d', '--name', 'warm', '-p', '17999:80', IMAGE, 'sleep', '1000');
    must('stop', '-t', '0', 'warm');
    must('rm', 'warm');
    must('run', '--rm', IMAGE, 'true');
    client = await connectAgent(lab.sandbox.socketPath);
    await agent().call('events.subscribe', { topics: ['container.state'] });
    await cycle(-1); // lazily opened files (journal, watchers) count as the baseline
    const before = await snapshot();
    expect(before).toMatchObject({ mounts: [], cgroups: [], stateFiles: [], processes: [] });
    expect(before.kernel.bridges).toBeGreaterThan(0);
    const started = performance.now();
    for (let i = 0; i < CYCLES; i += 1) {
      // Now and then, that a cycle does make what is counted: a veth pair and the port's rules.
      const look =
        i % 50 === 0
          ? () => {
              const during = countKernel(lab);
              expect(during.veths).toBeGreaterThan(before.kernel.veths);
              expect(during.rules).toBeGreaterThan(before.kernel.rules);
            }
          : undefined;
      await cycle(i, look);
    }
    const elapsed = performance.now() - started;
    const after = await snapshot();
    expect(after).toEqual(before);
    expect(await agent().call('containers.list', { all: true })).toEqual([]);
    console.info(
      `network leak check: ${CYCLES} cycles in ${Math.round(elapsed)} ms (${Math.round(elapsed / Math.max(CYCLES, 1))} ms a cycle); ` +
        `agent ${after.fds} fds, ${after.agentFiles.length} files outside containers/ and images/`,
    );
  }, 600_000);
});
