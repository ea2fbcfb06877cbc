// Past a server's session limit (OpenSSH's MaxSessions: 10 unless its admin changed it), against a
// real sshd that allows 2: terminals, commands and SFTP still open, on a spare connection to the
// same host, which closes once its sessions have ended. The test sshd of the other suites allows 64,
// which hid the limit every real host has.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientChannel } from 'ssh2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectToSshd } from '../../../../build/testing/sshd-connection.js';
import { startSshd, type Sshd } from '../../../../build/testing/sshd.js';
import { until } from '../../../../build/testing/until.js';
import { channelExit } from './ssh-connection.js';

let sshd: Sshd;
let dir: string;

beforeAll(async () => {
  sshd = await startSshd({ maxSessions: 2 });
  dir = await mkdtemp(join(tmpdir(), 'onggi-ssh-limit-'));
});
afterAll(async () => {
  await sshd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** This process's TCP connections to the sshd (the only client of its port). */
function connectionsToSshd(): number {
  const listed = spawnSync('ss', ['-Htn', 'state', 'established', `( dport = :${sshd.port} )`], { encoding: 'utf8' });
  return listed.stdout.split('\n').filter((line) => line.trim() !== '').length;
}

/** What comes back from `cat` on a channel for a line written to it. */
async function echoed(channel: ClientChannel, line: string): Promise<string> {
  const answer = new Promise<string>((resolve) => channel.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))));
  channel.write(`${line}\n`);
  return answer;
}

it("opens sessions past the server's limit on a spare connection, which closes after its last session", async () => {
  const connection = await connectToSshd(sshd, join(dir, 'known_hosts'), { spareIdleMs: 200 });
  try {
    // The server's two sessions, held open.
    const held = [await connection.execChannel('cat'), await connection.execChannel('cat')];
    expect(connectionsToSshd()).toBe(1);

    // More than it allows: a command, a terminal with a PTY and SFTP all open, and work.
    const third = await connection.execChannel('cat');
    expect(await echoed(third, 'third')).toBe('third\n');
    const shell = await connection.shell({ term: 'xterm', cols: 80, rows: 24, height: 0, width: 0 });
    shell.resume(); // its prompt, read and dropped (unread, it would hold the shell up)
    const sftp = await connection.sftp();
    const listed = await new Promise<string[]>((resolve, reject) =>
      sftp.readdir(dir, (error, entries) => (error ? reject(error) : resolve(entries.map((entry) => entry.filename)))),
    );
    expect(listed).toContain('known_hosts');
    const quick = await connection.exec('echo past the limit');
    expect(quick.stdout).toBe('past the limit\n');
    expect(connectionsToSshd()).toBeGreaterThanOrEqual(2);
    expect(connectionsToSshd()).toBeLessThanOrEqual(3);

    // Its sessions ended, the spare goes; the first connection stays with its own.
    third.end();
    await channelExit(third);
    shell.end('exit\n');
    await channelExit(shell);
    sftp.end();
    await until(connectionsToSshd, (count) => count === 1, 'the spare connection to close');
    expect(await echoed(held[0] as ClientChannel, 'still here')).toBe('still here\n');
    for (const channel of held) channel.end();
  } finally {
    connection.close();
  }
  await until(connectionsToSshd, (count) => count === 0, 'every connection to close');
});
