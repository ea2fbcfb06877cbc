// machines.json: round trip, atomic replacement, and a bad file reported with its field and left
// exactly as it was — by the store, by the host core and by the CLI.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_DIR, CLI } from '../../../build/testing/isolated-agent.js';
import { OnggiError } from '../../../shared/errors.js';
import { SshMachineDefinition } from '../../../shared/machines.js';
import { createHostCore } from '../host-core.js';
import { MachineStore } from './machine-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const machine = (name: string) => SshMachineDefinition.parse({ provider: 'ssh', name, host: 'example.com', user: 'ubuntu' });

describe('the machine store', () => {
  it('starts empty, adds, refuses duplicates and reserved names, removes; writes leave no temp files', async () => {
    const store = new MachineStore(dir);
    expect(await store.load()).toEqual([]);
    await store.add(machine('one'));
    await store.add(machine('two'));
    await expect(store.add(machine('one'))).rejects.toThrow('a machine named "one" exists');
    await expect(store.add(machine('local'))).rejects.toThrow('a machine named "local" exists');
    expect((await store.load()).map((entry) => entry.name)).toEqual(['one', 'two']);
    expect(store.loadSync()).toEqual(await store.load());
    expect(await store.remove('one')).toBe(true);
    expect(await store.remove('one')).toBe(false);
    expect((await store.load()).map((entry) => entry.name)).toEqual(['two']);
    expect(await readdir(dir)).toEqual(['machines.json']);
    expect(JSON.parse(await readFile(join(dir, 'machines.json'), 'utf8'))).toMatchObject({
      version: 1,
      machines: [{ name: 'two', port: 22 }],
    });
  });

  it('names the field of a bad file and never overwrites it', async () => {
    const store = new MachineStore(dir);
    const bad = JSON.stringify({
      version: 1,
      machines: [{ provider: 'ssh', name: 'web', host: 'example.com', user: 'ubuntu', port: 70000 }],
    });
    await writeFile(store.path, bad);
    const error = await store.load().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OnggiError);
    expect((error as OnggiError).message).toBe(
      `${store.path}: machines[0].port: must be at most 65535; fix or move the file away — Onggi leaves it untouched`,
    );
    expect((error as OnggiError).field).toBe('machines[0].port');
    await expect(store.add(machine('other'))).rejects.toThrow('machines[0].port');
    await writeFile(store.path, '{"version": 1, "machines": [');
    await expect(store.load()).rejects.toThrow(/is not valid JSON/);
    expect(await readFile(store.path, 'utf8')).toBe('{"version": 1, "machines": [');
    await writeFile(store.path, JSON.stringify({ version: 1, machines: [machine('a'), machine('a')] }));
    await expect(store.load()).rejects.toThrow('machines[1].name: "a" is taken');
  });

  it('a bad file: the host core still serves the local machine and explains unknown names; the CLI says the same', async () => {
    const bad = JSON.stringify({ version: 1, machines: [{ provider: 'ssh', name: 'web', host: '-oProxyCommand=x', user: 'ubuntu' }] });
    await writeFile(join(dir, 'machines.json'), bad);
    const core = createHostCore({ dataDir: dir, agentDir: AGENT_DIR, nodeRuntime: { command: process.execPath }, platform: 'linux' });
    try {
      expect(await core.call('machines.list', {})).toEqual([{ name: 'local', provider: 'local', state: 'stopped' }]);
      await expect(core.call('machines.info', { machine: 'web' })).rejects.toThrow(
        'machines[0].host: must be a host name or an IP address',
      );
    } finally {
      await core.close();
    }
    const run = spawnSync(process.execPath, [CLI, 'ps', '--machine', 'web'], {
      env: { ...process.env, ONGGI_HOME: dir },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`onggi: ${join(dir, 'machines.json')}: machines[0].host: must be a host name or an IP address`);
    expect(await readFile(join(dir, 'machines.json'), 'utf8')).toBe(bad);
  });
});
