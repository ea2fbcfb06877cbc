// The loopback sshd fixture itself: it serves, its fingerprint is ssh-keygen's, it finds and kills
// the per-connection child of one client, and stop() leaves nothing behind.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startSshd, type Sshd } from './sshd.js';

let sshd: Sshd | undefined;
afterEach(async () => {
  await sshd?.stop();
  sshd = undefined;
});

/** OpenSSH's client argv for a command on the fixture, trusting whatever host key it shows. */
function sshArgs(server: Sshd, command: string[]): string[] {
  return [
    ...['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'],
    ...['-o', 'LogLevel=ERROR', '-i', server.userKeyPath, '-p', String(server.port), 'root@127.0.0.1', ...command],
  ];
}

function ssh(server: Sshd, ...command: string[]) {
  return spawnSync('ssh', sshArgs(server, command), { encoding: 'utf8', timeout: 20_000 });
}

describe('the loopback sshd fixture', () => {
  it('serves OpenSSH with its own host key and user key, and stops by pid', async () => {
    sshd = await startSshd();
    const run = ssh(sshd, 'echo', 'hello');
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('hello\n');
    expect(sshd.hostKeyFingerprint()).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const { pid, dir } = sshd;
    await sshd.stop();
    sshd = undefined;
    expect(() => process.kill(pid, 0)).toThrow();
    expect(existsSync(dir)).toBe(false);
  });

  it("finds the sshd processes serving one client's connection and kills them", async () => {
    sshd = await startSshd();
    const { spawn } = await import('node:child_process');
    const server = sshd;
    const client = spawn('ssh', sshArgs(server, ['sleep', '30']), { stdio: 'ignore' });
    try {
      let pids: number[] = [];
      const deadline = Date.now() + 10_000;
      while (pids.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        pids = await server.connectionPids();
      }
      expect(pids.length).toBeGreaterThan(0);
      expect(await server.connectionPids(1)).toEqual([]); // no client on port 1
      const exited = new Promise<number | null>((resolve) => client.once('exit', (code) => resolve(code)));
      await server.killConnection();
      expect(await exited).toBe(255); // ssh's "connection lost"
    } finally {
      client.kill('SIGKILL');
    }
  });
});
