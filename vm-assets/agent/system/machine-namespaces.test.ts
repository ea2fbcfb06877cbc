// The machine's namespaces in system.info are PID 1's, read as the kernel reports them
// (`readlink /proc/PID/ns/KIND`), and the agent's own beside them. The agent here runs in a network
// namespace of its own (as a nested agent does), so its net differs from the machine's and the two
// must not be confused.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectAgent } from '../../../build/testing/agent-client.js';
import { isolatedAgent, spawnDaemon, type IsolatedAgent } from '../../../build/testing/isolated-agent.js';
import { NAMESPACE_KINDS } from '../runtime/proc.js';
import { readMachineNamespaces } from './system-info.js';

let sandbox: IsolatedAgent;
let daemon: ChildProcess | undefined;

beforeEach(async () => {
  sandbox = await isolatedAgent();
});
afterEach(async () => {
  daemon = undefined;
  await sandbox.cleanup();
});

/** What `readlink /proc/PID/ns/KIND` prints, as an inode number. */
function readlinkInode(pid: number, kind: string): number | undefined {
  const out = spawnSync('readlink', [`/proc/${pid}/ns/${kind}`], { encoding: 'utf8' }).stdout.trim();
  const match = /^\w+:\[(\d+)\]$/.exec(out);
  return match?.[1] ? Number(match[1]) : undefined;
}

describe('system.info namespaces', () => {
  it('reports PID 1’s namespaces as the machine’s and its own beside them, as readlink does', async () => {
    // unshare execs the daemon: the pid spawnDaemon returns is the agent's own.
    daemon = await spawnDaemon(sandbox, { wrapper: ['unshare', '--net', '--'] });
    const pid = daemon.pid ?? -1;
    const client = await connectAgent(sandbox.socketPath);
    try {
      const info = await client.call('system.info', undefined);
      const namespaces = info.namespaces;
      for (const kind of NAMESPACE_KINDS) {
        expect(namespaces?.agent[kind], `agent ${kind}`).toBe(readlinkInode(pid, kind));
      }
      // Root may still be refused PID 1's links (a PID 1 in a user namespace of its own, as on
      // some CI machines): then the agent says it compares with its own.
      if (readlinkInode(1, 'net') === undefined) {
        expect(namespaces?.machineFrom).toBe('agent');
        expect(namespaces?.machine).toEqual(namespaces?.agent);
        return;
      }
      expect(namespaces?.machineFrom).toBe('init');
      for (const kind of NAMESPACE_KINDS) {
        expect(namespaces?.machine[kind], `machine ${kind}`).toBe(readlinkInode(1, kind));
      }
      // Nested: the agent's network is not the machine's.
      expect(namespaces?.agent.net).not.toBe(namespaces?.machine.net);
    } finally {
      client.close();
    }
  });

  it('takes the init process’s namespaces where it can read them, its own otherwise', async () => {
    // A stand-in for a readable PID 1 in other namespaces: a process of the test's own in a new
    // network and uts namespace (this machine's real PID 1 may refuse even root).
    const init = spawn('unshare', ['--net', '--uts', '--', 'sleep', '60'], { stdio: 'ignore' });
    try {
      const pid = init.pid ?? -1;
      await expect.poll(() => readlinkInode(pid, 'net') !== readlinkInode(process.pid, 'net')).toBe(true);
      const namespaces = await readMachineNamespaces(pid);
      expect(namespaces.machineFrom).toBe('init');
      for (const kind of NAMESPACE_KINDS) {
        expect(namespaces.machine[kind], `machine ${kind}`).toBe(readlinkInode(pid, kind));
        expect(namespaces.agent[kind], `agent ${kind}`).toBe(readlinkInode(process.pid, kind));
      }
      expect(namespaces.machine.uts).not.toBe(namespaces.agent.uts);
    } finally {
      init.kill('SIGKILL');
    }
    // No such process: nothing readable, so the agent's own, said to be so.
    const none = await readMachineNamespaces(2 ** 22 + 1);
    expect(none.machineFrom).toBe('agent');
    expect(none.machine).toEqual(none.agent);
  });
});
