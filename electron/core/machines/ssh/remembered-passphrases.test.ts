// "Remember in the system keychain" for key passphrases, against the real loopback sshd and a
// passphrase-protected key: with a vault (here a real AES-256-GCM cipher with a random key, standing
// in for Electron's safeStorage) the file holds ciphertext only and the next connection needs no
// prompt; a stale passphrase is dropped and asked again; removing the machine forgets it; without a
// vault `remember` is refused, naming the field.
import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_DIR } from '../../../../build/testing/isolated-agent.js';
import { startSshd, type Sshd } from '../../../../build/testing/sshd.js';
import { createHostCore, type HostCore } from '../../host-core.js';
import { PASSPHRASES_FILE, type SecretVault } from './remembered-passphrases.js';
import type { HostEvent } from '../../../../shared/host-api.js';
import { addSshMachine, sshMachine } from '../../../../build/testing/host-machines.js';

let sshd: Sshd;
let dir: string;
const cores: HostCore[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  dir = await mkdtemp(join(tmpdir(), 'onggi-remembered-'));
});
afterAll(async () => {
  await Promise.all(cores.map((core) => core.close()));
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A reversible cipher with a key only this process knows (as the OS keychain would hold it). */
function testVault(key = randomBytes(32)): SecretVault & { calls: { encrypt: number; decrypt: number } } {
  const calls = { encrypt: 0, decrypt: 0 };
  return {
    calls,
    isAvailable: () => true,
    encrypt(plain) {
      calls.encrypt++;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decrypt(data) {
      calls.decrypt++;
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      return Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

function core(dataDir: string, secretVault?: SecretVault): HostCore {
  const home = join(dir, 'home');
  const created = createHostCore({
    dataDir,
    agentDir: AGENT_DIR,
    nodeRuntime: { command: process.execPath },
    platform: 'linux',
    ssh: { userKnownHosts: [join(home, '.ssh/known_hosts')], config: { home }, agentSocket: '' },
    ...(secretVault ? { secretVault } : {}),
  });
  cores.push(created);
  return created;
}

/** Answers every question: host keys yes, passphrases with `answer()`; returns the prompts seen. */
function answering(host: HostCore, answer: () => { secret: string; remember?: boolean }): HostEvent[] {
  const seen: HostEvent[] = [];
  host.onEvent((event) => {
    seen.push(event);
    if (event.type === 'machine.hostKeyPrompt') void host.call('machines.answerPrompt', { requestId: event.requestId, accept: true });
    if (event.type === 'machine.secretPrompt') void host.call('machines.answerPrompt', { requestId: event.requestId, ...answer() });
  });
  return seen;
}

const secretPrompts = (seen: HostEvent[]) => seen.filter((event) => event.type === 'machine.secretPrompt');

describe('remembering key passphrases in the OS keychain', () => {
  it('keeps only the vault’s ciphertext (0600), uses it on the next connection without asking, forgets it with the machine', async () => {
    const dataDir = join(dir, 'data1');
    const vault = testVault();
    const passphrase = 'tteokbokki at midnight';
    const key = await sshd.makeUserKey('kept_key', passphrase);
    const first = core(dataDir, vault);
    expect(await first.call('app.version', {})).toMatchObject({ secretVault: true });
    const seen = answering(first, () => ({ secret: passphrase, remember: true }));
    await addSshMachine(first, { provider: 'ssh', name: 'kept', host: '127.0.0.1', port: sshd.port, user: 'root', identityFile: key });
    expect(secretPrompts(seen)).toHaveLength(1);

    const file = join(dataDir, PASSPHRASES_FILE);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(passphrase);
    expect(text).not.toContain(Buffer.from(passphrase).toString('base64'));
    const stored = JSON.parse(text) as { version: number; machines: Record<string, Record<string, string>> };
    const cipher = stored.machines.kept?.[key];
    expect(cipher).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(vault.decrypt(Buffer.from(cipher ?? '', 'base64'))).toBe(passphrase);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dataDir, 'machines.json'), 'utf8')).not.toContain(passphrase);

    // A new host core (the app restarted): the SSH connection opens with no question asked.
    await first.close();
    const second = core(dataDir, vault);
    const seenAgain = answering(second, () => {
      throw new Error('asked for a remembered passphrase');
    });
    const connection = await sshMachine(second, 'kept').sshConnection();
    expect((await connection.exec('echo ok')).stdout.trim()).toBe('ok');
    expect(secretPrompts(seenAgain)).toHaveLength(0);
    expect(vault.calls.decrypt).toBeGreaterThan(1);

    await second.call('machines.remove', { machine: 'kept' });
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ version: 1, machines: {} });
  });

  it('drops a stored passphrase that no longer opens the key and asks again; without remember nothing is stored', async () => {
    const dataDir = join(dir, 'data2');
    const vault = testVault();
    const key = await sshd.makeUserKey('rekeyed_key', 'old words');
    const first = core(dataDir, vault);
    answering(first, () => ({ secret: 'old words', remember: true }));
    await addSshMachine(first, { provider: 'ssh', name: 'rekeyed', host: '127.0.0.1', port: sshd.port, user: 'root', identityFile: key });
    await first.close();
    const file = join(dataDir, PASSPHRASES_FILE);
    expect(JSON.parse(await readFile(file, 'utf8')).machines.rekeyed).toHaveProperty([key]);

    // The user changed the key's passphrase with ssh-keygen -p.
    const changed = spawnSync('ssh-keygen', ['-q', '-p', '-f', key, '-P', 'old words', '-N', 'new words'], { encoding: 'utf8' });
    expect(changed.status, changed.stderr).toBe(0);

    const second = core(dataDir, vault);
    const seen = answering(second, () => ({ secret: 'new words' })); // this time: memory only
    const connection = await sshMachine(second, 'rekeyed').sshConnection();
    expect((await connection.exec('echo ok')).stdout.trim()).toBe('ok');
    expect(secretPrompts(seen)).toMatchObject([{ machine: 'rekeyed', kind: 'key-passphrase', subject: key, attempt: 1 }]);
    const after = await readFile(file, 'utf8');
    expect(JSON.parse(after)).toEqual({ version: 1, machines: {} });
    expect(after).not.toContain('new words');
  });

  it('refuses remember without a vault (CLI, browser mode), naming the field, and stores nothing', async () => {
    const dataDir = join(dir, 'data3');
    const key = await sshd.makeUserKey('plain_key', 'no keychain here');
    const host = core(dataDir);
    expect(await host.call('app.version', {})).toMatchObject({ secretVault: false });
    const refusals: unknown[] = [];
    host.onEvent((event) => {
      if (event.type === 'machine.hostKeyPrompt') void host.call('machines.answerPrompt', { requestId: event.requestId, accept: true });
      if (event.type !== 'machine.secretPrompt') return;
      // Through the host API as the window would call it: refused, and the question still waits.
      host
        .call('machines.answerPrompt', { requestId: event.requestId, secret: 'no keychain here', remember: true })
        .catch((error: unknown) => {
          refusals.push(error);
          return host.call('machines.answerPrompt', { requestId: event.requestId, secret: 'no keychain here' });
        })
        .catch(() => undefined);
    });
    await addSshMachine(host, { provider: 'ssh', name: 'plain', host: '127.0.0.1', port: sshd.port, user: 'root', identityFile: key });
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ field: 'params.remember' });
    expect(String((refusals[0] as Error).message)).toMatch(/remember/);
    await expect(stat(join(dataDir, PASSPHRASES_FILE))).rejects.toThrow(/ENOENT/);
    // Only a key passphrase can be remembered: a host-key answer has no such field.
    await expect(host.call('machines.answerPrompt', { requestId: 'x', accept: true, remember: true })).rejects.toThrow(/remember/);
  });
});
