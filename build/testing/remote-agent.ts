// The agents a test's deploys start on the loopback "machine" (this host, through a test sshd):
// isolated like every other test agent, and ended afterwards. Isolation reaches them through the
// sshd's SetEnv (every session, hence the daemon the deploy starts, gets it): containers under a
// cgroup parent of the test's own, no default bridge in the machine's own netns.
//
// Stopping ends the agent supervisors and daemons: the pids in their run dir's files, and any
// process whose command line names the test's own temp root (nothing else can). Supervisors first,
// so they do not restart the daemons being stopped. Then the cgroup parent goes, with whatever
// containers were left in it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeCgroupParent, testCgroupParent } from './cgroup-sandbox.js';
import { processesNaming, terminate } from './isolated-agent.js';
import { removeNetnsNamesUnder, testNetnsPrefix } from './netns-names.js';
import type { Sshd } from './sshd.js';

export interface RemoteAgentEnv {
  cgroupParent: string;
  /** For startSshd({ env }). */
  env: Record<string, string>;
}

export function remoteAgentEnv(): RemoteAgentEnv {
  const cgroupParent = testCgroupParent();
  return { cgroupParent, env: { ONGGI_CGROUP_PARENT: cgroupParent, ONGGI_DEFAULT_NETWORK: 'none', ONGGI_NETNS_PREFIX: testNetnsPrefix() } };
}

/** Where a test's deploy installs on the loopback machine (all under the test's own temp root). */
export interface RemoteDirs {
  installRoot: string;
  runDir: string;
  stateDir: string;
}

/** The CLI's hidden `machine add ssh` flags that put the deploy in those dirs, under the background supervisor. */
export function remoteLayoutFlags(remote: RemoteDirs): string[] {
  return [
    '--remote-root',
    remote.installRoot,
    '--remote-run-dir',
    remote.runDir,
    '--remote-state-dir',
    remote.stateDir,
    '--supervisor',
    'background',
  ];
}

/** `machine add ssh NAME` for a test sshd, as root with this key, deploying into those dirs. */
export function addTestMachineArgs(name: string, sshd: Pick<Sshd, 'host' | 'port'>, key: string, remote: RemoteDirs): string[] {
  return [
    'machine',
    'add',
    'ssh',
    name,
    '--host',
    sshd.host,
    '--port',
    String(sshd.port),
    '--user',
    'root',
    '--key',
    key,
    ...remoteLayoutFlags(remote),
  ];
}

export async function stopRemoteAgents(runDir: string, testRoot: string, isolation?: RemoteAgentEnv): Promise<void> {
  const pids = new Set<number>();
  for (const file of ['supervisor.pid', 'agent.pid']) {
    const pid = Number((await readFile(join(runDir, file), 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0) pids.add(pid);
  }
  for (const pid of await processesNaming(testRoot)) pids.add(pid);
  const isSupervisor = async (pid: number) =>
    (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes('onggi-agent-supervisor');
  const ordered = [...pids];
  const flags = await Promise.all(ordered.map(isSupervisor));
  for (const [index, pid] of ordered.entries()) if (flags[index]) await terminate(pid);
  for (const [index, pid] of ordered.entries()) if (!flags[index]) await terminate(pid);
  if (isolation) await removeCgroupParent(isolation.cgroupParent);
  removeNetnsNamesUnder(testRoot);
}
