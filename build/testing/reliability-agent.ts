// Shared by the reliability suite: a real agent daemon of the test's own (isolated dirs, its own
// cgroup parent), a busybox image imported into it, and a census of everything a container can
// leave behind — mounts, cgroups, state files, processes, the daemon's fds.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeBusyboxLayer } from './busybox-layer.js';
import { connectAgent, type AgentTestClient } from './agent-client.js';
import { isolatedAgent, spawnDaemon, type IsolatedAgent } from './isolated-agent.js';
import { detectCgroups } from '../../vm-assets/agent/system/cgroups.js';
import { AGENT_EVENT_METHOD, type AgentEvent } from '../../shared/agent-rpc.js';

export const IMAGE = 'busybox:reliability';

export interface ReliabilityAgent {
  sandbox: IsolatedAgent;
  daemon: ChildProcess;
  client: AgentTestClient;
  /** Starts (again) the daemon, with extra environment; the old one must be gone. */
  restart(extraEnv?: NodeJS.ProcessEnv): Promise<void>;
  cleanup(): Promise<void>;
}

/** An isolated daemon with the busybox image imported as IMAGE; `node`: the Node it runs on (default: this one). */
export async function startReliabilityAgent(extraEnv: NodeJS.ProcessEnv = {}, { node }: { node?: string } = {}): Promise<ReliabilityAgent> {
  const sandbox = await isolatedAgent();
  const state: { daemon?: ChildProcess; client?: AgentTestClient } = {};
  const agent: ReliabilityAgent = {
    sandbox,
    get daemon() {
      if (!state.daemon) throw new Error('no daemon');
      return state.daemon;
    },
    get client() {
      if (!state.client) throw new Error('no client');
      return state.client;
    },
    async restart(env: NodeJS.ProcessEnv = {}) {
      state.client?.close();
      state.daemon = await spawnDaemon({ ...sandbox, env: { ...sandbox.env, ...env } }, { node });
      state.client = await connectAgent(sandbox.socketPath);
    },
    async cleanup() {
      state.client?.close();
      await sandbox.cleanup();
    },
  };
  try {
    const layer = await makeBusyboxLayer(join(sandbox.root, 'layer'));
    const tarball = join(sandbox.root, 'busybox.tar');
    const tar = spawnSync('tar', ['-C', layer, '-cf', tarball, '.'], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
    await agent.restart(extraEnv);
    await agent.client.call('images.import', { path: tarball, kind: 'rootfs', name: IMAGE });
  } catch (error) {
    await agent.cleanup();
    throw error;
  }
  return agent;
}

export interface Census {
  mounts: string[];
  cgroups: string[];
  /** Files under the state dir's containers/ (relative paths). */
  stateFiles: string[];
  /** Pids in our cgroup parent. */
  processes: number[];
}

export async function census(sandbox: IsolatedAgent): Promise<Census> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${sandbox.root}/`))
    .sort();
  const info = await detectCgroups();
  const roots = [...new Set(info.controllers.filter((c) => c.version === info.version).map((c) => c.mountPoint))];
  const cgroups: string[] = [];
  const processes = new Set<number>();
  for (const root of roots) {
    const base = join(root, sandbox.cgroupParent);
    for (const entry of await readdir(base, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory()) continue;
      cgroups.push(join(base, entry.name));
      for (const pid of (await readFile(join(base, entry.name, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean))
        processes.add(Number(pid));
    }
  }
  return {
    mounts,
    cgroups: cgroups.sort(),
    stateFiles: await listFiles(join(sandbox.stateDir, 'containers')),
    processes: [...processes].sort((a, b) => a - b),
  };
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      // A container's overlay dirs hold what its processes wrote: not the agent's state.
      if (/^(upper|work|merged)$/.test(entry.name)) continue;
      out.push(`${rel}/`, ...(await listFiles(join(dir, entry.name), rel)));
    } else out.push(rel);
  }
  return out.sort();
}

/**
 * The agent's files besides container records and the image store: network state (allocations,
 * hosts files), the activity log, the run dir's pid file and socket. Names only (logs grow).
 */
export async function agentFiles(sandbox: IsolatedAgent): Promise<string[]> {
  const state = (await listFiles(sandbox.stateDir)).filter((path) => !/^(images|containers)\//.test(path));
  const run = (await listFiles(sandbox.runDir)).map((path) => `run/${path}`);
  return [...state, ...run];
}

/** The daemon's open file descriptors, by what they point at. */
export async function openFds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** How long one RPC round trip takes right now. */
export async function roundTripMs(client: AgentTestClient): Promise<number> {
  const started = performance.now();
  await client.call('containers.list', { all: true });
  return performance.now() - started;
}

/** Resolves once the client has received an agent event matching `match` (bounded: 30 s). */
export async function waitForEvent(client: AgentTestClient, match: (event: AgentEvent) => boolean): Promise<AgentEvent> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const index = client.notifications.findIndex((n) => n.method === AGENT_EVENT_METHOD && match(n.params as AgentEvent));
    if (index >= 0) return client.notifications.splice(index, 1)[0]?.params as AgentEvent;
    if (Date.now() > deadline) throw new Error('the awaited agent event did not come within 30 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
