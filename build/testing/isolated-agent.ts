// A local agent of the test's own: its socket, pid file and state under a fresh temp dir, so
// tests never touch /run/onggi or a developer's running agent. cleanup() ends only the daemon
// this dir's pid file names, and removes the dir, even when the test failed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { removeCgroupParent, testCgroupParent } from './cgroup-sandbox.js';
import { unmountUnder } from './mounts.js';
import { removeNetnsNames, testNetnsPrefix } from './netns-names.js';
import { AGENT_DAEMON_ENV, AGENT_DAEMON_NODE_FLAGS } from '../../shared/agent-launch.js';

// import.meta.dirname, not __dirname: Playwright loads these helpers as ES modules too.
export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const AGENT_DIR = join(REPO_ROOT, 'vm-assets/dist/agent');
export const CLI = join(REPO_ROOT, 'bin/onggi.js');

export interface IsolatedAgent {
  root: string;
  /** The cgroup parent the agent puts its containers under (ONGGI_CGROUP_PARENT). */
  cgroupParent: string;
  home: string;
  runDir: string;
  stateDir: string;
  socketPath: string;
  env: NodeJS.ProcessEnv;
  /** The daemon's pid from its pid file, if one is running. */
  daemonPid(): Promise<number | undefined>;
  cleanup(): Promise<void>;
}

export async function isolatedAgent(): Promise<IsolatedAgent> {
  const root = await mkdtemp(join(tmpdir(), 'onggi-test-'));
  const cgroupParent = testCgroupParent();
  const home = join(root, 'home');
  const runDir = join(root, 'run');
  const stateDir = join(root, 'state');
  const daemonPid = async (): Promise<number | undefined> => {
    const pid = Number((await readFile(join(runDir, 'agent.pid'), 'utf8').catch(() => '')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  };
  return {
    root,
    cgroupParent,
    home,
    runDir,
    stateDir,
    socketPath: join(runDir, 'agent.sock'),
    // No default bridge (ONGGI_DEFAULT_NETWORK=none): these daemons run in the machine's own netns,
    // which tests must not change; the network suite runs its daemon in a netns of its own.
    env: {
      ...process.env,
      ONGGI_HOME: home,
      // The docker CLI's config (docker contexts the host core makes): the sandbox's, never the machine's ~/.docker.
      DOCKER_CONFIG: join(root, 'docker-config'),
      ONGGI_LOCAL_RUN_DIR: runDir,
      ONGGI_LOCAL_STATE_DIR: stateDir,
      ONGGI_CGROUP_PARENT: cgroupParent,
      ONGGI_DEFAULT_NETWORK: 'none',
      // Its containers' /run/netns names cannot meet another test agent's containers' of the same name.
      ONGGI_NETNS_PREFIX: testNetnsPrefix(),
    },
    daemonPid,
    async cleanup() {
      const pid = await daemonPid();
      if (pid !== undefined) await terminate(pid);
      // A daemon a host core was still starting when the test ended has no pid file yet: its
      // command line names our socket all the same. (Containers are ended with the cgroup parent.)
      for (const other of await processesNaming(runDir)) await terminate(other);
      // Containers outlive the agent by design: end them (they are in our cgroup parent), then
      // unmount what they left mounted under our root.
      await removeCgroupParent(cgroupParent);
      removeNetnsNames(stateDir);
      unmountUnder(root);
      await rm(root, { recursive: true, force: true });
    },
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the built agent daemon on the sandbox's socket and state dir; resolves once it is ready.
 * `entry`: another copy of the bundle; `wrapper`: an argv that execs it (e.g. nsenter into a netns);
 * `node`: another Node (the runtime deploy ships, for the bench).
 */
export function spawnDaemon(
  sandbox: Pick<IsolatedAgent, 'socketPath' | 'stateDir' | 'env'>,
  {
    entry = join(AGENT_DIR, 'agent.cjs'),
    wrapper = [],
    node = process.execPath,
  }: { entry?: string; wrapper?: string[]; node?: string } = {},
): Promise<ChildProcess> {
  const argv = [
    ...wrapper,
    node,
    // As every launcher starts it: the bench's idle RSS is the one a machine pays.
    ...AGENT_DAEMON_NODE_FLAGS,
    entry,
    'daemon',
    '--socket',
    sandbox.socketPath,
    '--state',
    sandbox.stateDir,
    '--ready-fd',
    '3',
  ];
  const child = spawn(argv[0] ?? process.execPath, argv.slice(1), {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...sandbox.env, ...AGENT_DAEMON_ENV },
  });
  return new Promise((resolve, reject) => {
    let err = '';
    let said = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    // `ready`, or `busy PID` from a daemon that found another agent serving its state directory.
    (child.stdio[3] as Readable).on('data', (d: Buffer) => {
      said += d.toString();
      if (said.includes('ready\n')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`daemon exited ${code}: ${said}${err}`)));
  });
}

/** Processes (other than this one) whose command line names a path under `dir`. */
export async function processesNaming(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(`${dir}/`)) pids.push(Number(entry));
  }
  return pids;
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the pid is gone. */
export async function terminate(pid: number, graceMs = 5000): Promise<void> {
  const alive = (): boolean => isAlive(pid);
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive()) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
