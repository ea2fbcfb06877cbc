// Leak check with networking: run / stop / rm cycles on the default bridge with a published port,
// through the CLI, in a netns lab (the daemon's bridges, veths and NAT rules are made in a netns
// of the test's own). Before and after: veths, bridges, packet filter rules, mounts, cgroups,
// state files, processes — all equal. ONGGI_NET_LEAK_CYCLES sets the count (default 10: each
// cycle is four CLI processes, ~5 s on a loaded 2-core box; the 300 is a long run).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE, countKernel, createLab, type NetnsLab } from '../../../build/testing/netns-lab.js';
import { census } from '../../../build/testing/reliability-agent.js';

const CYCLES = Number(process.env.ONGGI_NET_LEAK_CYCLES ?? 10);
let lab: NetnsLab;

beforeAll(async () => {
  lab = await createLab();
}, 120_000);
afterAll(async () => {
  await lab?.cleanup();
});

function must(...args: string[]): string {
  const run = lab.onggi(...args);
  if (run.code !== 0) throw new Error(`onggi ${args.join(' ')}: ${run.err}`);
  return run.out;
}

function cycle(i: number): void {
  must('run', '-d', '--name', `net-${i}`, '-p', `${18000 + (i % 1000)}:80`, IMAGE, 'sleep', '1000');
  must('stop', '-t', '0', `net-${i}`);
  must('rm', `net-${i}`);
  must('run', '--rm', IMAGE, 'true');
}

describe('leak check with networking', () => {
  it(`leaves veths, bridges, rules, mounts, cgroups, state and processes as it found them after ${CYCLES} cycles`, async () => {
    cycle(-1); // warm-up: the default bridge and its NAT rules are made on first use and stay
    const before = { kernel: countKernel(lab), ...(await census(lab.sandbox)) };
    expect(before).toMatchObject({ mounts: [], cgroups: [], stateFiles: [], processes: [] });
    for (let i = 0; i < CYCLES; i += 1) cycle(i);
    const after = { kernel: countKernel(lab), ...(await census(lab.sandbox)) };
    expect(after).toEqual(before);
    expect(JSON.parse(must('ps', '-a', '--json'))).toEqual([]);
  }, 600_000);
});
