// Container records carry a format version; a record an earlier agent wrote is upgraded on load,
// never reaped, and one from a newer agent is kept unread rather than misread.
import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_OPTIONS } from '../../../shared/containers.js';
import { CONTAINER_RECORD_VERSION, ContainerRecords } from './container-record.js';

// A record exactly as the agent wrote it before records had a version (format 0).
const V0_FILE = join(__dirname, 'testdata/container-record-v0.json');

let root = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-records-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function plant(records: ContainerRecords, text: string): Promise<string> {
  const v0 = JSON.parse(text) as { id: string };
  await mkdir(records.paths(v0.id).dir, { recursive: true });
  await writeFile(records.paths(v0.id).record, text);
  return v0.id;
}

describe('container record format', () => {
  it('upgrades a record without a version (format 0) on load and saves it in the current format', async () => {
    const records = new ContainerRecords(root);
    const text = await readFile(V0_FILE, 'utf8');
    const id = await plant(records, text);
    const loaded = await records.loadAll();
    expect(loaded.orphans).toEqual([]);
    expect(loaded.unreadable).toEqual([]);
    expect(loaded.records).toHaveLength(1);
    const [record] = loaded.records;
    // Fields added since (log rotation, the start-pending marks, mounts, stoppedByUser, paused) take their defaults: additive, no new format.
    expect(record).toEqual({
      ...JSON.parse(text),
      version: CONTAINER_RECORD_VERSION,
      log: DEFAULT_LOG_OPTIONS,
      mounts: [],
      stoppedByUser: false,
      paused: false,
    });
    await records.save(record!);
    expect(JSON.parse(await readFile(records.paths(id).record, 'utf8'))).toMatchObject({ version: 1, id, name: 'web' });
  });

  it('keeps a record of a newer format unread, with its directory, instead of misreading it', async () => {
    const records = new ContainerRecords(root);
    const newer = { ...JSON.parse(await readFile(V0_FILE, 'utf8')), version: CONTAINER_RECORD_VERSION + 1 };
    const id = await plant(records, JSON.stringify(newer));
    const loaded = await records.loadAll();
    expect(loaded.records).toEqual([]);
    expect(loaded.orphans).toEqual([]);
    expect(loaded.unreadable).toEqual([{ id, reason: expect.stringContaining('newer agent') }]);
    expect((await stat(records.paths(id).dir)).isDirectory()).toBe(true);
  });
});
