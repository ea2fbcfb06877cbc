// The part files a killed host core left behind are removed by the next one, and only those: a
// part whose writer still runs (another window's host core on the same data dir) is kept.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Uploads } from './uploads.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The pid of a process that has ended (and been reaped by us, so it is not a zombie). */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await once(child, 'exit');
  return child.pid ?? Number.NaN;
}

describe('Uploads.reapAbandoned', () => {
  it('removes the parts of host cores that ended and keeps those of live ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onggi-uploads-'));
    dirs.push(dir);
    const uuid = '0b7f3c1e-2a4d-4e5f-8a9b-0c1d2e3f4a5b';
    const dead = await deadPid();
    const sleeper = spawn('sleep', ['30']);
    try {
      const files = {
        dead: `${dead}-${uuid}.part`,
        live: `${sleeper.pid}-${uuid}.part`,
        own: `${process.pid}-${uuid}.part`,
        oldLayout: `${uuid}.part`,
        other: 'notes.txt',
      };
      await Promise.all(Object.values(files).map((name) => writeFile(join(dir, name), 'x')));
      const uploads = new Uploads(dir, () => Promise.resolve([]));
      expect((await uploads.reapAbandoned()).sort()).toEqual([files.dead, files.oldLayout].sort());
      expect((await readdir(dir)).sort()).toEqual([files.live, files.own, files.other].sort());
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('reaps before the first upload begins, and a missing folder is not an error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onggi-uploads-'));
    dirs.push(dir);
    const missing = new Uploads(join(dir, 'absent'), () => Promise.resolve([]));
    expect(await missing.reapAbandoned()).toEqual([]);

    const leftover = `${await deadPid()}-0b7f3c1e-2a4d-4e5f-8a9b-0c1d2e3f4a5b.part`;
    await writeFile(join(dir, leftover), 'half');
    const uploads = new Uploads(dir, () => Promise.resolve([]));
    const { id } = await uploads.begin({ machine: 'local', size: 1 });
    expect(await readdir(dir)).toEqual([`${process.pid}-${id}.part`]);
    await uploads.abort(id);
    expect(await readdir(dir)).toEqual([]);
  });
});
