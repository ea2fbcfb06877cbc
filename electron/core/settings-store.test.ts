import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettingsStore } from './settings-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-settings-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SettingsStore', () => {
  it('starts empty, and writes what it is told to the data folder', async () => {
    const store = new SettingsStore(dir);
    expect(await store.read()).toEqual({ version: 1 });
    await store.update({ lastMachine: 'vm' });
    expect(JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8'))).toEqual({ version: 1, lastMachine: 'vm' });
    expect(await new SettingsStore(dir).read()).toEqual({ version: 1, lastMachine: 'vm' });
  });

  it('refuses a value its schema refuses, and leaves the file as it was', async () => {
    const store = new SettingsStore(dir);
    await store.update({ lastMachine: 'vm' });
    await expect(store.update({ lastMachine: '-rf' })).rejects.toThrow();
    expect(await store.read()).toEqual({ version: 1, lastMachine: 'vm' });
  });

  it('never overwrites a file it cannot read: reads go on with the defaults, writes say which file and field', async () => {
    const file = join(dir, 'settings.json');
    await writeFile(file, '{"version": 1, "lastMachine": 7}\n');
    const store = new SettingsStore(dir);
    expect(await store.readOrDefaults()).toEqual({ version: 1 });
    await expect(store.update({ lastMachine: 'vm' })).rejects.toMatchObject({
      kind: 'settings_file_invalid',
      message: expect.stringMatching(/settings\.json: lastMachine: .*leaves it untouched/),
    });
    await writeFile(file, 'not json');
    await expect(store.read()).rejects.toThrow(/settings\.json: not valid JSON/);
    expect(await readFile(file, 'utf8')).toBe('not json');
  });
});
