// Adding SSH machines through the host core the way the window will: questions arrive as events
// and are answered by request id; machines come from ~/.ssh/config too (with ProxyJump).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_DIR } from '../../../../build/testing/isolated-agent.js';
import { startSshd, type Sshd } from '../../../../build/testing/sshd.js';
import { createHostCore, type HostCore } from '../../host-core.js';
import type { HostEvent } from '../../../../shared/host-api.js';
import { addSshMachine } from '../../../../build/testing/host-machines.js';

let sshd: Sshd;
let dir: string;
const cores: HostCore[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  dir = await mkdtemp(join(tmpdir(), 'onggi-ssh-machines-'));
});
afterAll(async () => {
  await Promise.all(cores.map((core) => core.close()));
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

function core(dataDir: string, home = join(dir, 'home')): HostCore {
  const created = createHostCore({
    dataDir,
    agentDir: AGENT_DIR,
    nodeRuntime: { command: process.execPath },
    platform: 'linux',
    ssh: { userKnownHosts: [join(home, '.ssh/known_hosts')], config: { home }, agentSocket: '' },
  });
  cores.push(created);
  return created;
}

describe('adding SSH machines through the host core', () => {
  it('asks about the host key and the passphrase as events, answered by request id; a refusal adds nothing', async () => {
    const host = core(join(dir, 'data1'));
    const key = await sshd.makeUserKey('window_key', 'open sesame');
    const seen: HostEvent[] = [];
    let acceptKey = false;
    host.onEvent((event) => {
      seen.push(event);
      if (event.type === 'machine.hostKeyPrompt')
        void host.call('machines.answerPrompt', { requestId: event.requestId, accept: acceptKey });
      if (event.type === 'machine.secretPrompt')
        void host.call('machines.answerPrompt', { requestId: event.requestId, secret: 'open sesame' });
    });
    const params = { provider: 'ssh', name: 'win', host: '127.0.0.1', port: sshd.port, user: 'root', identityFile: key };
    await expect(addSshMachine(host, params)).rejects.toThrow(/not known and was not accepted/);
    expect(await host.call('machines.list', {})).toEqual([{ name: 'local', provider: 'local', state: 'stopped' }]);
    acceptKey = true;
    const added = await addSshMachine(host, params);
    expect(added.view).toEqual({ name: 'win', provider: 'ssh', host: '127.0.0.1', port: sshd.port, user: 'root', via: [] });
    const prompts = seen.filter((event) => event.type === 'machine.hostKeyPrompt');
    expect(prompts[0]).toMatchObject({
      machine: 'win',
      host: '127.0.0.1',
      port: sshd.port,
      keyType: 'ssh-ed25519',
      fingerprint: sshd.hostKeyFingerprint(),
    });
    expect(seen.filter((event) => event.type === 'machine.secretPrompt')[0]).toMatchObject({
      kind: 'key-passphrase',
      subject: key,
      attempt: 1,
    });
    expect(await host.call('machines.list', {})).toContainEqual({ name: 'win', provider: 'ssh', state: 'stopped' });
    // Nothing secret on disk.
    const stored = await readFile(join(dir, 'data1/machines.json'), 'utf8');
    expect(stored).not.toContain('open sesame');
    await expect(host.call('machines.answerPrompt', { requestId: 'nope', accept: true })).rejects.toThrow(/no question is waiting/);
    // Invalid params name their field.
    await expect(addSshMachine(host, { provider: 'ssh', name: 'bad name', host: 'x' })).rejects.toThrow(/params\.name/);
    await host.call('machines.remove', { machine: 'win' });
    expect(JSON.parse(await readFile(join(dir, 'data1/machines.json'), 'utf8'))).toEqual({ version: 1, machines: [] });
  });

  it('takes a machine from ~/.ssh/config, with its ProxyJump hop resolved from the config too', async () => {
    const home = join(dir, 'home');
    await mkdir(join(home, '.ssh'), { recursive: true });
    await writeFile(
      join(home, '.ssh/config'),
      `Host jump\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.userKeyPath}\n\n` +
        `Host inner\n  HostName localhost\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.userKeyPath}\n  ProxyJump jump\n`,
    );
    const host = core(join(dir, 'data2'), home);
    host.onEvent(() => undefined);
    const added = await addSshMachine(host, { provider: 'ssh', name: 'inner', fromSshConfig: 'inner', acceptNewHostKey: true });
    expect(added.definition).toMatchObject({
      host: 'localhost',
      port: sshd.port,
      user: 'root',
      identityFile: sshd.userKeyPath,
      sshConfigHost: 'inner',
      proxyJump: [{ host: '127.0.0.1', port: sshd.port, user: 'root', identityFile: sshd.userKeyPath }],
    });
    expect(added.view.via).toEqual([`root@127.0.0.1:${sshd.port}`]);
    const known = await readFile(join(dir, 'data2/known_hosts'), 'utf8');
    expect(known).toContain(`[127.0.0.1]:${sshd.port} ssh-ed25519`);
    expect(known).toContain(`[localhost]:${sshd.port} ssh-ed25519`);
    // A machine shell through the hop.
    const terminal = await host.openTerminal('inner', { command: ['sh', '-c', 'echo "$SSH_CONNECTION"'], tty: false });
    let out = '';
    terminal.stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
    expect(await terminal.exit).toEqual({ code: 0 });
    expect(out).toMatch(/^(127\.0\.0\.1|::1) /);
  });
});
