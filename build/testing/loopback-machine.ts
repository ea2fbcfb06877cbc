// A host core of the test's own with one SSH machine, `box`: a loopback sshd (this host) whose
// deploys are isolated (remote-agent.ts) and go into a temp root of the test's own. For tests and
// bench cases that need a real SSH machine end to end (shared folders, …). stop() ends everything
// it started, in order, even after a failure, and reports the first error.
//
// `ownNetns`: the sshd listens in a network namespace of the test's own instead (netns-sshd.ts),
// so the agent it deploys gets its default bridge, NAT and published ports there, never in this
// computer's netns; the host core reaches it over a veth pair, as a desktop reaches a server.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostCore, HostCoreOptions } from '../../electron/core/host-core.js';
import { stageRuntime } from '../runtime.mjs';
import { addSshMachine, testHostCore } from './host-machines.js';
import { AGENT_DIR } from './isolated-agent.js';
import { unmountUnder } from './mounts.js';
import { remoteAgentEnv, stopRemoteAgents } from './remote-agent.js';
import { startNetnsSshd, type NetnsSshd } from './netns-sshd.js';
import { startSshd, type Sshd } from './sshd.js';
import { runAllSteps } from './teardown.js';

const BUNDLES_DIR = join(AGENT_DIR, '..', 'bundles');

export interface LoopbackMachine {
  core: HostCore;
  sshd: Sshd;
  /** The test's temp root (removed by stop()). */
  root: string;
  remote: { installRoot: string; runDir: string; stateDir: string; supervisor: 'background' };
  stop(before?: () => Promise<unknown>): Promise<void>;
}

export async function startLoopbackMachine(options: {
  prefix: string;
  hide?: (root: string) => string;
  ownNetns?: boolean;
  core?: Partial<HostCoreOptions>;
}): Promise<LoopbackMachine> {
  await stageRuntime({ arch: 'x64', outDir: BUNDLES_DIR }); // cached after the first time
  const isolation = remoteAgentEnv();
  const root = await mkdtemp(join(tmpdir(), options.prefix));
  const remote = {
    installRoot: join(root, 'remote/opt'),
    runDir: join(root, 'remote/run'),
    stateDir: join(root, 'remote/state'),
    supervisor: 'background' as const,
  };
  let sshd: Sshd | undefined;
  let machineNet: NetnsSshd | undefined;
  let core: HostCore | undefined;
  const stop = async (before?: () => Promise<unknown>): Promise<void> => {
    const steps: Array<() => Promise<unknown>> = [
      async () => before?.(),
      async () => core?.close(),
      async () => stopRemoteAgents(remote.runDir, `${root}/remote`, isolation),
      async () => (machineNet ? machineNet.cleanup() : sshd?.stop()), // the netns goes with its bridge, rules and veths
      async () => {
        unmountUnder(root);
        await rm(root, { recursive: true, force: true });
      },
    ];
    await runAllSteps(steps);
  };
  try {
    const hidden = options.hide?.(root);
    if (hidden) await mkdir(hidden, { recursive: true }); // what is covered must exist first
    if (options.ownNetns) {
      // The netns is the test's own: its agent makes the default bridge there.
      const env = { ...isolation.env };
      delete env.ONGGI_DEFAULT_NETWORK;
      machineNet = await startNetnsSshd(env, hidden);
      sshd = machineNet.sshd;
    } else sshd = await startSshd({ env: isolation.env, ...(hidden ? { hide: hidden } : {}) });
    core = testHostCore(root, options.core);
    await addSshMachine(core, {
      provider: 'ssh',
      name: 'box',
      host: sshd.host,
      port: sshd.port,
      user: 'root',
      identityFile: sshd.userKeyPath,
      acceptNewHostKey: true,
      remote,
    });
    return { core, sshd, root, remote, stop };
  } catch (error) {
    await stop().catch(() => undefined); // the setup's own error is the one to report
    throw error;
  }
}
