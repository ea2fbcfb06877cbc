// Limits under attack, all at once, through the real daemon: a fork bomb against pids.max, a
// memory balloon against the memory limit, busy loops against the cpu quota. Each must stay inside
// its limit and be reported as such, and the agent must keep answering within 1 s meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE, roundTripMs, startReliabilityAgent, type ReliabilityAgent } from '../../../build/testing/reliability-agent.js';

let agent: ReliabilityAgent;

beforeAll(async () => {
  agent = await startReliabilityAgent();
});
afterAll(async () => {
  await agent?.cleanup();
});

describe('limits under attack', () => {
  it('contains a fork bomb, a memory balloon and busy loops together, and the agent answers within 1 s throughout', async () => {
    const { client } = agent;
    const run = async (name: string, command: string[], limits: Record<string, number | string>) => {
      await client.call('containers.create', { image: IMAGE, name, command, limits, networks: ['none'] });
      return client.call('containers.start', { container: name });
    };
    const hostPidsBefore = Number((await import('node:fs')).readdirSync('/proc').filter((e) => /^\d+$/.test(e)).length);
    // The classic bomb: every shell starts two more until fork fails, forever.
    await run('bomb', ['sh', '-c', 'b() { b | b & }; b; exec sleep 1000'], { pids: 32 });
    // PID 1 itself grows without bound (one endless line kept in memory): the OOM killer ends the container.
    await run('balloon', ['tail', '/dev/zero'], { memory: '48m' });
    await run('busy', ['sh', '-c', 'while :; do :; done & while :; do :; done'], { cpus: 0.2 });

    // A measurement window (not a wait for readiness): 3 s of probes while the attacks run.
    const before = await client.call('containers.stats', { container: 'busy' });
    const t0 = process.hrtime.bigint();
    const rtts: number[] = [];
    let bombPeak = 0;
    while (Number(process.hrtime.bigint() - t0) < 3e9) {
      rtts.push(await roundTripMs(client));
      const bomb = await client.call('containers.stats', { container: 'bomb' }).catch(() => undefined);
      bombPeak = Math.max(bombPeak, bomb?.pids.current ?? 0);
      expect(bomb?.pids.current ?? 0).toBeLessThanOrEqual(32);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const after = await client.call('containers.stats', { container: 'busy' });
    const wallNs = Number(process.hrtime.bigint() - t0);

    expect(Math.max(...rtts)).toBeLessThan(1000);
    expect(rtts.length).toBeGreaterThan(10);
    // The bomb reached its ceiling and stopped there; the host kept its pid space.
    expect(bombPeak).toBeGreaterThan(16);
    const hostPidsDuring = (await import('node:fs')).readdirSync('/proc').filter((e) => /^\d+$/.test(e)).length;
    expect(hostPidsDuring - hostPidsBefore).toBeLessThan(200);
    // Two busy loops share 0.2 of a cpu.
    const share = (after.cpu.usageNs - before.cpu.usageNs) / wallNs;
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.3);
    // The balloon was killed at its limit and reported as such.
    expect(await client.call('containers.wait', { container: 'balloon' })).toEqual({ exitCode: 137, oomKilled: true });
    expect((await client.call('containers.inspect', { container: 'balloon' })).oomKilled).toBe(true);
    // Still responsive after: remove everything, force.
    for (const name of ['bomb', 'balloon', 'busy']) await client.call('containers.remove', { container: name, force: true });
    expect(await client.call('containers.list', { all: true })).toEqual([]);
  }, 60_000);
});
