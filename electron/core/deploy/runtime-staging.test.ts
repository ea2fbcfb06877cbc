// The Node runtime staged when a deploy first needs it: a host core whose bundles folder is empty
// deploys to a loopback OpenSSH server (this machine, as root; install root, socket and state under
// a temp dir), staging the machine's runtime first with build/runtime.mjs, each step a progress
// event, then deploying it; the next deploy stages nothing. A packaged app has no stager.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stageRuntime } from '../../../build/runtime.mjs';
import { addSshMachine } from '../../../build/testing/host-machines.js';
import { AGENT_DIR } from '../../../build/testing/isolated-agent.js';
import { remoteAgentEnv, stopRemoteAgents } from '../../../build/testing/remote-agent.js';
import { startSshd, type Sshd } from '../../../build/testing/sshd.js';
import type { DeployProgress, DeployReport } from '../../../shared/machines.js';
import { createHostCore, type HostCore } from '../host-core.js';
import { checkoutRuntimeStager, sharedStager, type RuntimeStager } from './runtime-staging.js';

const isolation = remoteAgentEnv();
let sshd: Sshd;
let root = '';
let remote: { installRoot: string; runDir: string; stateDir: string; supervisor: 'background' };
const cores: HostCore[] = [];

beforeAll(async () => {
  sshd = await startSshd({ env: isolation.env });
  root = await mkdtemp(join(tmpdir(), 'onggi-staging-test-'));
  remote = {
    installRoot: join(root, 'remote/opt'),
    runDir: join(root, 'remote/run'),
    stateDir: join(root, 'remote/state'),
    supervisor: 'background',
  };
}, 60_000);

afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.close()));
});

afterAll(async () => {
  await Promise.all(cores.splice(0).map((core) => core.close()));
  if (root) await stopRemoteAgents(remote.runDir, `${root}/remote`, isolation);
  await sshd?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** A host core on `bundlesDir`, recording its deploy progress. */
async function coreWith(bundlesDir: string, stager: RuntimeStager, dataDir: string) {
  await mkdir(dataDir, { recursive: true });
  const core = createHostCore({
    dataDir,
    agentDir: AGENT_DIR,
    bundlesDir,
    stageRuntime: stager,
    nodeRuntime: { command: process.execPath },
    localAgent: { runDir: join(root, 'local/run'), stateDir: join(root, 'local/state') },
    platform: 'linux',
    ssh: { userKnownHosts: [], agentSocket: '' },
  });
  cores.push(core);
  const progress: DeployProgress[] = [];
  core.onEvent((event) => {
    if (event.type === 'machine.deploy') progress.push(event);
  });
  await addSshMachine(core, {
    provider: 'ssh',
    name: 'box',
    host: '127.0.0.1',
    port: sshd.port,
    user: 'root',
    identityFile: sshd.userKeyPath,
    acceptNewHostKey: true,
    remote,
  });
  return { core, progress };
}

describe('staging the runtime on demand', () => {
  it('stages from a checkout (build/runtime.mjs beside its agent build), never in a packaged app', () => {
    expect(checkoutRuntimeStager(join(root, 'resources/agent'))).toBeUndefined();
    expect(checkoutRuntimeStager(AGENT_DIR)).toBeDefined();
  });

  it('the first deploy stages the machine’s runtime, step by step as progress, then deploys it; the next stages nothing', async () => {
    const bundles = join(root, 'bundles');
    const staged: string[] = [];
    // build/runtime.mjs itself (as the checkout's stager runs it), gzip only: the test need not wait for xz -9.
    const stager = sharedStager(async (arch, outDir, onLine) => {
      staged.push(arch);
      await stageRuntime({ arch, outDir, formats: ['gz'], log: onLine });
    });
    const { core, progress } = await coreWith(bundles, stager, join(root, 'data'));
    const report = (await core.call('machines.deploy', { machine: 'box' })) as DeployReport;

    expect(staged).toEqual(['x64']);
    expect(existsSync(join(bundles, 'runtime-linux-x64.json'))).toBe(true);
    const phases = progress.map((event) => event.phase);
    const stageEvents = progress.filter((event) => event.phase === 'stage');
    // Said first, then each of runtime.mjs's steps, ending with what it staged.
    expect(stageEvents[0]?.detail).toBe('staging the Node runtime for linux-x64');
    expect(stageEvents.at(-1)?.detail).toMatch(/^runtime x64: Node [\d.]+ staged in /);
    expect(stageEvents.some((event) => event.detail?.includes('packing and compressing (gz)'))).toBe(true);
    expect(stageEvents.every((event) => event.part === 'runtime')).toBe(true);
    // The deploy started over once the runtime was there, and uploaded it.
    expect(phases.indexOf('stage')).toBeGreaterThan(phases.indexOf('probe'));
    expect(phases.lastIndexOf('probe')).toBeGreaterThan(phases.lastIndexOf('stage'));
    expect(progress.some((event) => event.phase === 'upload' && event.part === 'runtime')).toBe(true);
    expect(phases.at(-1)).toBe('done');
    expect(report.uploaded).toContain('runtime');

    progress.length = 0;
    await core.call('machines.deploy', { machine: 'box' });
    expect(staged).toEqual(['x64']);
    expect(progress.some((event) => event.phase === 'stage')).toBe(false);
  }, 300_000);

  it('two deploys needing the same runtime at once stage it once, and both hear its steps', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const stager = sharedStager(async (_arch, _dir, onLine) => {
      runs += 1;
      onLine('step 1');
      await new Promise<void>((resolve) => (release = resolve));
      onLine('step 2');
    });
    const heard: string[][] = [[], []];
    const both = [0, 1].map((index) => stager('x64', '/bundles', (line) => heard[index]?.push(line)));
    release();
    await Promise.all(both);
    expect(runs).toBe(1);
    expect(heard[1]).toEqual(['step 2']);
    expect(heard[0]).toEqual(['step 1', 'step 2']);
  });
});
