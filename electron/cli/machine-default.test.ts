// `onggi` as a Mac or Windows user runs it (ONGGI_TEST_PLATFORM: no local machine), with machines
// in its data folder: a command without --machine acts on the machine the user chose, never on a
// `local` that does not exist there. The SSH machine listens nowhere (127.0.0.1:1), so "cannot
// reach 127.0.0.1:1" proves the command went to it, in well under a second.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI } from '../../build/testing/isolated-agent.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'onggi-cli-default-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function onggi(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ONGGI_HOME: home, ONGGI_TEST_PLATFORM: 'darwin/arm64', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

async function machines(...names: string[]): Promise<void> {
  const list = names.map((name) => ({ provider: 'ssh', name, host: '127.0.0.1', port: 1, user: 'admin' }));
  await writeFile(join(home, 'machines.json'), JSON.stringify({ version: 1, machines: list }));
}

describe('onggi without --machine on a desktop with no local machine', () => {
  it('acts on the only machine', async () => {
    await machines('ec2');
    const ps = onggi(['ps']);
    expect(ps.stderr).toBe('onggi: cannot reach 127.0.0.1:1: ECONNREFUSED\n');
    expect(ps.status).toBe(1);
  });

  it('with none, says how to add one', () => {
    const ps = onggi(['ps']);
    expect(ps.stderr).toMatch(/^onggi: there is no machine yet: add a Linux host with `onggi machine add ssh NAME --host HOST`/);
    expect(ps.status).toBe(1);
  });

  it('with several, lists them; `machine use` picks one for the next commands, and `machine ls` marks it', async () => {
    await machines('ec2', 'lab');
    const ps = onggi(['ps']);
    expect(ps.stderr).toContain('which machine? there are 2: ec2 (ssh), lab (ssh); choose one with `onggi machine use NAME`');
    expect(ps.status).toBe(1);

    const use = onggi(['machine', 'use', 'lab']);
    expect(use.stdout).toBe('using lab\n');
    expect(use.status).toBe(0);
    expect(onggi(['machine', 'ls']).stdout).toMatch(/^lab +ssh +stopped +admin@127\.0\.0\.1:1 +\*$/m);
    expect(JSON.parse(onggi(['machine', 'ls', '--json']).stdout)).toMatchObject([
      { name: 'ec2', current: false },
      { name: 'lab', current: true },
    ]);
    // The flag and ONGGI_MACHINE choose for one command; they are not remembered.
    expect(onggi(['ps', '--machine', 'nope']).stderr).toBe('onggi: no machine named "nope" (known: ec2, lab) (params.machine)\n');
    expect(onggi(['ps'], { ONGGI_MACHINE: 'nope' }).stderr).toBe('onggi: no machine named "nope" (known: ec2, lab) (params.machine)\n');
    const again = onggi(['ps']);
    expect(again.stderr).toBe('onggi: cannot reach 127.0.0.1:1: ECONNREFUSED\n');
  });
});
