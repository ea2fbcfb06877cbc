// A local agent of the test's own: its socket, pid file and state under a fresh temp dir, so
// tests never touch /run/onggi or a developer's running agent. cleanup() ends only the daemon
// this dir's pid file names, and removes the dir, even when the test failed.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../..');
export const AGENT_DIR = join(REPO_ROOT, 'vm-assets/dist/agent');
export const CLI = join(REPO_ROOT, 'bin/onggi.js');

export interface IsolatedAgent {
  root: string;
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
  const home = join(root, 'home');
  const runDir = join(root, 'run');
  const stateDir = join(root, 'state');
  const daemonPid = async (): Promise<number | undefined> => {
    const pid = Number((await readFile(join(runDir, 'agent.pid'), 'utf8').catch(() => '')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  };
  return {
    root,
    home,
    runDir,
    stateDir,
    socketPath: join(runDir, 'agent.sock'),
    env: { ...process.env, ONGGI_HOME: home, ONGGI_LOCAL_RUN_DIR: runDir, ONGGI_LOCAL_STATE_DIR: stateDir },
    daemonPid,
    async cleanup() {
      const pid = await daemonPid();
      if (pid !== undefined) await terminate(pid);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** SIGTERM, then SIGKILL after a grace period; resolves once the pid is gone. */
export async function terminate(pid: number, graceMs = 5000): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
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
