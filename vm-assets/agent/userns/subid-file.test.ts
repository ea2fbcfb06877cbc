// The subid files, the range allocator and the owner shift of a committed layer: no container, no namespaces.
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityLog } from '../activity/activity-log.js';
import { UsernsAllocator } from './allocator.js';
import { MAX_HOST_ID, appendSubidEntry, parseSubids, placeNewEntry } from './subid-file.js';
import { unshiftOwners } from './unshift.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-subid-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('subid files', () => {
  it('reads OWNER:START:COUNT lines and skips comments, junk and ranges past the last id', () => {
    const text = '# comment\nalice:100000:65536\nbob:x:1\n\ncarol:165536:65536 \n1000:231072:10\nbig:4294967290:100\nzero:1:0\n';
    expect(parseSubids(text)).toEqual([
      { owner: 'alice', start: 100000, count: 65536 },
      { owner: 'carol', start: 165536, count: 65536 },
      { owner: '1000', start: 231072, count: 10 },
    ]);
  });

  it('places a new entry after every existing one, at least at 100000, aligned to 65536, and never past the last id', () => {
    expect(placeNewEntry([], 65536)).toBe(131072);
    expect(placeNewEntry([{ owner: 'a', start: 100000, count: 65536 }], 65536)).toBe(196608);
    expect(placeNewEntry([{ owner: 'a', start: 131072, count: 65536 }], 10)).toBe(196608);
    expect(placeNewEntry([{ owner: 'a', start: MAX_HOST_ID - 70000, count: 70000 }], 65536)).toBeUndefined();
  });

  it('appends a line, keeping the file as written (a last line without a newline too)', async () => {
    const file = join(dir, 'append');
    await writeFile(file, '#x\nalice:100000:65536');
    await appendSubidEntry(file, '#x\nalice:100000:65536', { owner: 'onggi', start: 196608, count: 65536 });
    expect(await readFile(file, 'utf8')).toBe('#x\nalice:100000:65536\nonggi:196608:65536\n');
  });
});

describe('the range allocator', () => {
  async function allocator(text: string, size = 65536) {
    const file = join(dir, `subid-${Math.random().toString(36).slice(2)}`);
    await writeFile(file, text);
    return new UsernsAllocator({
      subuidFile: file,
      subgidFile: file,
      owner: 'onggi',
      size,
      reserveCount: size * 4,
      activity: new ActivityLog(),
    });
  }

  it('gives concurrent creates disjoint ranges across several entries, and a released range again', async () => {
    const ranges = await allocator('onggi:100000:131072\nother:300000:65536\nonggi:400000:65536\n');
    const got = await Promise.all(['a', 'b', 'c'].map((id) => ranges.allocate(id)));
    expect(got.map((maps) => maps.uidMap[0]?.host)).toEqual([100000, 165536, 400000]);
    await expect(ranges.allocate('d')).rejects.toMatchObject({ kind: 'userns_exhausted' });
    ranges.release('b');
    expect((await ranges.allocate('e')).uidMap[0]?.host).toBe(165536);
  });

  it('skips ranges adopted from records, whatever their order', async () => {
    const ranges = await allocator('onggi:100000:262144\n');
    ranges.adopt('x', { uidMap: [{ container: 0, host: 165536, size: 65536 }], gidMap: [{ container: 0, host: 100000, size: 65536 }] });
    const maps = await ranges.allocate('y');
    expect(maps.uidMap[0]?.host).toBe(100000);
    expect(maps.gidMap[0]?.host).toBe(165536);
  });
});

describe("a userns container's files leaving as a layer", () => {
  it("shifts owners back into the container's ids, keeping setuid bits", async () => {
    const tree = join(dir, 'upper');
    await mkdir(join(tree, 'bin'), { recursive: true });
    await writeFile(join(tree, 'bin/tool'), 'x');
    await writeFile(join(tree, 'www'), 'y');
    await chown(tree, 7000000, 7000000);
    await chown(join(tree, 'bin'), 7000000, 7000000);
    await chown(join(tree, 'bin/tool'), 7000000, 7000000);
    await chmod(join(tree, 'bin/tool'), 0o4755);
    await chown(join(tree, 'www'), 7000033, 7000034);
    const maps = { uidMap: [{ container: 0, host: 7000000, size: 65536 }], gidMap: [{ container: 0, host: 7000000, size: 65536 }] };
    await unshiftOwners(tree, maps);
    const owner = async (rel: string) => {
      const s = await stat(join(tree, rel));
      return [s.uid, s.gid, s.mode & 0o7777];
    };
    expect(await owner('.')).toEqual([0, 0, expect.any(Number)]);
    expect(await owner('bin/tool')).toEqual([0, 0, 0o4755]);
    expect(await owner('www')).toEqual([33, 34, expect.any(Number)]);
  });
});
