// The daemon's Node flags (shared/agent-launch.ts) on the Nodes that run it for real: this one (the
// CLI's and the tests' Node) and the runtime deploy ships (staged as the deploy bench does). Each
// takes its flags, exposes the gc the daemon's memory settle calls, and tiers up as the flags mean:
// to Maglev and never to Turbofan where Maglev is on, to Turbofan as usual where it is not.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUNDLES_DIR, NODE_RUNTIME, stageRuntime } from './runtime.mjs';
import { agentDaemonLaunchWords, agentDaemonNodeFlags, SHIPPED_NODE_MAJOR } from '../shared/agent-launch.js';

/** A function hot enough for every tier, the memory settle's gc, then what V8 compiled it with. */
const PROBE = `
function sum(text) { let total = 0; for (let i = 0; i < text.length; i += 1) total += text.charCodeAt(i); return total; }
const text = 'x'.repeat(1000);
let total = 0;
for (let round = 0; round < 20000; round += 1) total += sum(text);
gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
console.log('total', total);
`;

function tiersOf(node: string, flags: string[]): { tiers: Set<string>; stderr: string; stdout: string } {
  const run = spawnSync(node, [...flags, '--trace-opt', '-e', PROBE], { encoding: 'utf8' });
  const tiers = new Set([...run.stdout.matchAll(/target (MAGLEV|TURBOFAN\w*)/g)].map((match) => (match[1] ?? '').replace(/_JS$/, '')));
  return { tiers, stderr: run.stderr, stdout: run.stdout };
}

let dir: string;
let shippedNode: string;
beforeAll(async () => {
  const manifest = await stageRuntime({ arch: process.arch === 'arm64' ? 'arm64' : 'x64', outDir: DEFAULT_BUNDLES_DIR });
  const gz = manifest.files.find((file) => file.format === 'gz');
  if (!gz) throw new Error('the staged runtime has no gzip file');
  dir = await mkdtemp(join(tmpdir(), 'onggi-launch-node-'));
  const tar = spawnSync('tar', ['-xzf', join(DEFAULT_BUNDLES_DIR, gz.name), '-C', dir, 'bin/node'], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`unpacking the runtime failed: ${tar.stderr}`);
  shippedNode = join(dir, 'bin/node');
}, 300_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('agent daemon launch flags', () => {
  it('the shell and systemd words are for the Node deploy ships', () => {
    expect(Number(NODE_RUNTIME.version.split('.')[0])).toBe(SHIPPED_NODE_MAJOR);
    expect(agentDaemonLaunchWords().flags).toEqual(agentDaemonNodeFlags(NODE_RUNTIME.version));
  });

  it('Maglev becomes the top tier from Node 22 on only', () => {
    expect(agentDaemonNodeFlags('20.19.0')).not.toContain('--no-opt');
    expect(agentDaemonNodeFlags('v22.0.0')).toEqual(expect.arrayContaining(['--no-opt', '--no-sparkplug']));
    expect(agentDaemonNodeFlags('24.21.0')).toEqual(expect.arrayContaining(['--no-opt', '--no-sparkplug']));
    expect(() => agentDaemonNodeFlags('nightly')).toThrow(/not a Node version: nightly/);
  });

  it('the shipped Node takes its flags, settles with gc and tiers up to Maglev, never Turbofan', () => {
    const { tiers, stderr, stdout } = tiersOf(shippedNode, agentDaemonNodeFlags(NODE_RUNTIME.version));
    expect(stderr).toBe('');
    expect(stdout).toContain('total 2400000000');
    expect([...tiers]).toEqual(['MAGLEV']);
  });

  it("this process's Node takes its flags, settles with gc and tiers up as it would without them", () => {
    const own = tiersOf(process.execPath, agentDaemonNodeFlags(process.versions.node));
    const plain = tiersOf(process.execPath, ['--expose-gc']);
    expect(own.stderr).toBe('');
    expect(own.stdout).toContain('total 2400000000');
    expect([...own.tiers].sort()).toEqual([...plain.tiers].sort());
    expect(own.tiers.size).toBeGreaterThan(0);
  });
});
