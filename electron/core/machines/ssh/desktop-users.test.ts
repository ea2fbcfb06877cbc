// Adding an SSH machine from a Windows or macOS desktop, against the real loopback sshd: the key
// file as the user types it there (`~\.ssh\key`, `~/.ssh/key`) is the file in their home, and the
// default user (the account name, as OpenSSH does) is used only when Linux would accept it — a
// Windows account such as `John Doe` makes the user asked for, by name of the field.
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_DIR } from '../../../../build/testing/isolated-agent.js';
import { startSshd, type Sshd } from '../../../../build/testing/sshd.js';
import { createHostCore, type HostCore } from '../../host-core.js';
import type { PlatformFacts } from '../../platform/platform.js';
import { factsFor } from '../../platform/test-facts.js';
import { addSshMachine } from '../../../../build/testing/host-machines.js';

let sshd: Sshd;
let dir: string;
const cores: HostCore[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  dir = await mkdtemp(join(tmpdir(), 'onggi-desktop-users-'));
});
afterAll(async () => {
  await Promise.all(cores.map((core) => core.close()));
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

function core(facts: PlatformFacts, name: string): HostCore {
  const created = createHostCore({
    facts,
    dataDir: join(dir, name),
    agentDir: AGENT_DIR,
    nodeRuntime: { command: process.execPath },
    ssh: { userKnownHosts: [], agentSocket: '' },
  });
  cores.push(created);
  return created;
}

describe('the default SSH user', () => {
  it('a Windows account name with a space is not used: the user is asked for, naming the field', async () => {
    const host = core(factsFor('win32', 'x64'), 'win');
    const error = await addSshMachine(host, {
      provider: 'ssh',
      name: 'box',
      host: '127.0.0.1',
      port: sshd.port,
      acceptNewHostKey: true,
    }).then(
      () => expect.fail('added'),
      (caught: unknown) => caught as { message: string; field?: string },
    );
    expect(error.message).toBe(
      'params.user: give the user to log in as on the machine (--user); the default, your account name "John Doe", is not a user name Linux accepts (letters, digits, . _ - @)',
    );
    expect(error.field).toBe('params.user');
    expect(await host.call('machines.list', {})).toEqual([]); // nothing added, no local machine off Linux
  });

  it('a usable account name is the default, as with OpenSSH (macOS, user root here)', async () => {
    const home = join(dir, 'mac-home');
    await mkdir(join(home, '.ssh'), { recursive: true });
    await copyFile(sshd.userKeyPath, join(home, '.ssh', 'onggi_test'));
    const host = core({ ...factsFor('darwin', 'arm64'), homedir: home, username: 'root' }, 'mac');
    const added = await addSshMachine(host, {
      provider: 'ssh',
      name: 'box',
      host: '127.0.0.1',
      port: sshd.port,
      identityFile: '~/.ssh/onggi_test',
      acceptNewHostKey: true,
    });
    expect(added.definition).toMatchObject({ user: 'root', identityFile: join(home, '.ssh', 'onggi_test') });
  });
});

describe('a key file under ~ on Windows', () => {
  it('`~\\.ssh\\key` is the file in the Windows home (not a file named "~\\.ssh\\key")', async () => {
    const host = core(factsFor('win32', 'x64'), 'win-key');
    await expect(
      addSshMachine(host, {
        provider: 'ssh',
        name: 'box',
        host: '127.0.0.1',
        port: sshd.port,
        user: 'root',
        identityFile: '~\\.ssh\\id_ed25519',
        acceptNewHostKey: true,
      }),
    ).rejects.toThrow(/^cannot read the key file C:\\Users\\John Doe\\\.ssh\\id_ed25519: /);
  });
});
