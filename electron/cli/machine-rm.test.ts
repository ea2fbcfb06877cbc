// `onggi machine rm` goes through the host API's `machines.remove`, as the window's Remove does:
// whatever removing a machine means (a Vagrant VM: destroyed, its directory gone; any machine: its
// remembered key passphrases forgotten) happens once, in one place, for both front ends.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeMachinesFile } from '../../build/testing/host-machines.js';
import { CLI } from '../../build/testing/isolated-agent.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'onggi-cli-rm-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function onggi(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ONGGI_HOME: home, ONGGI_TEST_PLATFORM: 'darwin/arm64' },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

/** The keychain file as the app leaves it: ciphertext per machine and key file (the CLI never writes it, but must forget). */
async function rememberedFor(...machines: string[]): Promise<void> {
  const entries = Object.fromEntries(
    machines.map((machine) => [machine, { '/keys/id_ed25519': Buffer.from('cipher').toString('base64') }]),
  );
  await writeFile(join(home, 'ssh-passphrases.json'), JSON.stringify({ version: 1, machines: entries }));
}

async function remembered(): Promise<string[]> {
  const file = JSON.parse(await readFile(join(home, 'ssh-passphrases.json'), 'utf8')) as { machines: Record<string, unknown> };
  return Object.keys(file.machines);
}

describe('onggi machine rm', () => {
  it('of a Vagrant VM forgets its remembered passphrases (as the window’s remove does) and removes its directory', async () => {
    // A VM no provider ever made: removing it needs no `vagrant` at all.
    await writeMachinesFile(home, [
      { provider: 'vagrant', name: 'dev', box: 'debian/bookworm64', vagrantProvider: 'libvirt' },
      { provider: 'ssh', name: 'ec2', host: '127.0.0.1', port: 1, user: 'admin' },
    ]);
    await mkdir(join(home, 'vagrant', 'dev'), { recursive: true });
    await rememberedFor('dev', 'ec2');

    const removed = onggi(['machine', 'rm', 'dev']);
    expect(removed.stderr).toBe('');
    expect(removed.stdout).toBe('dev\n');
    expect(removed.status).toBe(0);
    expect(await remembered()).toEqual(['ec2']);
    expect(existsSync(join(home, 'vagrant', 'dev'))).toBe(false);
    expect(onggi(['machine', 'ls']).stdout).not.toMatch(/^dev /m);
  });

  it('of an SSH host forgets its passphrases too; an unknown name is refused', async () => {
    await writeMachinesFile(home, [{ provider: 'ssh', name: 'ec2', host: '127.0.0.1', port: 1, user: 'admin' }]);
    await rememberedFor('ec2', 'other');
    expect(onggi(['machine', 'rm', 'ec2']).status).toBe(0);
    expect(await remembered()).toEqual(['other']);
    const unknown = onggi(['machine', 'rm', 'nope']);
    expect(unknown.stderr).toMatch(/no machine named "nope"/);
    expect(unknown.status).toBe(1);
  });
});
