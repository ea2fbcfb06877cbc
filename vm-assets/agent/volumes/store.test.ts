// The volume store's layout and record: volumes/NAME/_data beside a zod-checked volume.json; a
// record that does not read is reported and its data kept; names never leave the store's folder.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VolumeStore } from './store.js';

let root: string;
let store: VolumeStore;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-volume-store-'));
  store = new VolumeStore(join(root, 'volumes'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('volume store', () => {
  it('creates NAME/_data and its record; an existing name answers the same volume', async () => {
    const { record, created } = await store.create('pgdata', { labels: { app: 'db' } });
    expect(created).toBe(true);
    expect(existsSync(join(root, 'volumes/pgdata/_data'))).toBe(true);
    expect(JSON.parse(await readFile(join(root, 'volumes/pgdata/volume.json'), 'utf8'))).toEqual(record);
    const again = await store.create('pgdata');
    expect(again).toEqual({ record, created: false });
  });

  it('names an anonymous volume with 64 hex digits', async () => {
    const { record } = await store.create(undefined, { anonymous: true });
    expect(record.name).toMatch(/^[a-f0-9]{64}$/);
    expect(record.anonymous).toBe(true);
  });

  it('reports a record that does not read, keeps its data, and skips a directory with none (a create cut short)', async () => {
    await mkdir(join(root, 'volumes/broken/_data'), { recursive: true });
    await writeFile(join(root, 'volumes/broken/_data/keep'), 'x');
    await writeFile(join(root, 'volumes/broken/volume.json'), '{"version":1,"name":"../../etc"}');
    await mkdir(join(root, 'volumes/halfway/_data'), { recursive: true });
    const { records, unreadable } = await store.list();
    expect(records.map((r) => r.name).filter((n) => n.length < 64)).toEqual(['pgdata']);
    expect(unreadable.map((u) => u.name)).toEqual(['broken']);
    expect(existsSync(join(root, 'volumes/broken/_data/keep'))).toBe(true);
  });

  it('refuses a name that would leave its folder', () => {
    for (const name of ['../x', 'a/b', '..', 'a..b', '']) expect(() => store.dir(name), name).toThrow();
  });

  it('removes the record first, then the data', async () => {
    await store.remove('pgdata');
    expect(existsSync(join(root, 'volumes/pgdata'))).toBe(false);
    expect(await store.get('pgdata')).toBeUndefined();
  });
});
