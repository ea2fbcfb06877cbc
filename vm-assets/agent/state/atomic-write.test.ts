import { linkSync, statSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const inodes = (...paths: string[]) => paths.map((path) => statSync(path).ino);

it.each([false, true])(
  'with a spare (durable: %s), rewrites make and free no inode after the first two: the file and its spare trade places',
  async (durable) => {
    const file = join(dir, 'record.json');
    const spare = join(dir, '.record.json.spare');
    await writeFileAtomic(file, 'one', { durable, spare: true });
    await writeFileAtomic(file, 'two, longer', { durable, spare: true });
    const [record, kept] = inodes(file, spare);
    await writeFileAtomic(file, '3', { durable, spare: true });
    // The old file's inode became the spare, the spare's the file: the same two, swapped.
    expect(inodes(file, spare)).toEqual([kept, record]);
    expect(await readFile(file, 'utf8')).toBe('3');
    await writeFileAtomic(file, 'four', { durable, spare: true });
    expect(inodes(file, spare)).toEqual([record, kept]);
    expect(await readFile(file, 'utf8')).toBe('four');
    expect((await readdir(dir)).sort()).toEqual(['.record.json.spare', 'record.json']);
  },
);

it('with a spare, a write cut short before its last rename (the kept link left, no spare) is followed by a whole one', async () => {
  const file = join(dir, 'record.json');
  await writeFileAtomic(file, 'old', { durable: false, spare: true });
  await writeFileAtomic(file, 'new', { durable: false, spare: true });
  // What a daemon killed between the renames leaves: the file new, the replaced one still linked as `.next`.
  linkSync(join(dir, '.record.json.spare'), join(dir, '.record.json.spare.next'));
  await rm(join(dir, '.record.json.spare'));
  await writeFile(join(dir, '.record.json.spare.next'), 'stale');
  await writeFileAtomic(file, 'newer', { durable: false, spare: true });
  expect(await readFile(file, 'utf8')).toBe('newer');
  expect((await readdir(dir)).sort()).toEqual(['.record.json.spare', 'record.json']);
});
