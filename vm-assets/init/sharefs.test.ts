// onggi-init sharefs (sharefs.c), the FUSE file system a shared desktop folder is mounted with on a
// machine: the real helper mounted on this host, served by the real desktop server (serveShare) on a
// unix socket, checked through the kernel. What the confinement refuses is sftp-server.test.ts's.
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mountSharefs, type SharefsMount } from '../../build/testing/sharefs-mount.js';
import { shareRemovals } from '../../electron/core/shares/machine-removals.js';

/** SFTP request types (draft-ietf-secsh-filexfer-02). */
const LSTAT = 7;
const READ = 5;
const READDIR = 12;
const EXTENDED = 200;
const OPENDIR = 11;

let dir = '';
let share = '';
const mounts: SharefsMount[] = [];
const tmpfs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-sharefs-'));
  share = join(dir, 'share');
  await mkdir(share);
});

afterAll(async () => {
  for (const made of mounts) await made.close(); // sharefs ends with its mount
  for (const path of tmpfs) spawnSync('umount', ['-l', path]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function mount(name: string): Promise<SharefsMount> {
  const made = await mountSharefs({ dir, name, root: share, readOnly: false, removals: shareRemovals() });
  mounts.push(made);
  return made;
}

/**
 * `find` of a tree: each entry's path, size (but a folder's), mode and type, sorted. Not spawnSync,
 * here or for anything else that goes through a mount: this process is the desktop that answers it.
 */
async function walk(root: string): Promise<string[]> {
  const found = await promisify(execFile)('find', [root, '-mindepth', '1', '-printf', '%P %y %m %s\n'], { encoding: 'utf8' });
  return found.stdout
    .trim()
    .split('\n')
    .map((line) => (line.split(' ')[1] === 'd' ? line.replace(/ \d+$/, '') : line))
    .sort();
}

describe('sharefs', () => {
  it('lists a folder with its entries’ attributes: a walk lists each folder once and asks no file’s attributes', async () => {
    const tree = join(share, 'walk');
    for (let d = 0; d < 10; d += 1) {
      await mkdir(join(tree, `d${d}`), { recursive: true });
      for (let f = 0; f < 10; f += 1) {
        await writeFile(join(tree, `d${d}`, `f${f}`), 'x'.repeat(d * f), { mode: [0o644, 0o600, 0o755][f % 3] });
      }
    }
    await mkdir(join(tree, 'empty'));
    await symlink('d1/f1', join(tree, 'link'));
    const made = await mount('walk');
    const before = made.requests.length;
    expect(await walk(join(made.mountpoint, 'walk'))).toEqual(await walk(tree));
    const asked = made.requests.slice(before);
    // the walk's own top folder is looked up; everything under it came with the listings
    expect(asked.filter((type) => type === LSTAT)).toHaveLength(1);
    // its 12 folders (the top, ten, the empty one), each listed once, in one request (list-folder@onggi):
    // the ones fetched ahead are not listed again
    expect(asked.filter((type) => type === EXTENDED)).toHaveLength(12);
    expect(asked.filter((type) => type === OPENDIR || type === READDIR)).toEqual([]);
  });

  it('a folder too large for one packet, and a desktop that knows no list-folder@onggi: listed with OPENDIR and READDIR', async () => {
    const tree = join(share, 'large');
    await mkdir(join(tree, 'many'), { recursive: true });
    await Promise.all(Array.from({ length: 700 }, (_, i) => writeFile(join(tree, 'many', `파일-${i}`), 'x'.repeat(i % 50))));
    await mkdir(join(tree, 'few'));
    await writeFile(join(tree, 'few', 'one'), '1');
    // the desktop answers a listing of `many` (702 entries, 256 a packet) with a handle to READDIR
    const made = await mount('large');
    let before = made.requests.length;
    expect(await walk(join(made.mountpoint, 'large'))).toEqual(await walk(tree));
    let asked = made.requests.slice(before);
    expect(asked.filter((type) => type === EXTENDED)).toHaveLength(3);
    expect(asked.filter((type) => type === READDIR)).toHaveLength(4); // three packets, then EOF
    // an older desktop: the first listing asks once, then every one is listed as from any SFTP server
    const older = await mountSharefs({ dir, name: 'older', root: share, readOnly: false, removals: shareRemovals(), noExtensions: true });
    mounts.push(older);
    before = older.requests.length;
    expect(await walk(join(older.mountpoint, 'large'))).toEqual(await walk(tree));
    asked = older.requests.slice(before);
    expect(asked.filter((type) => type === EXTENDED)).toHaveLength(1);
    expect(asked.filter((type) => type === OPENDIR)).toHaveLength(3);
  });

  it('a listing changed through the mount is never stale: made, removed, renamed (a folder with its files)', async () => {
    await mkdir(join(share, 'edits', 'inner'), { recursive: true });
    await writeFile(join(share, 'edits', 'inner', 'kept'), 'kept');
    const { mountpoint } = await mount('edits');
    const at = (...parts: string[]) => join(mountpoint, 'edits', ...parts);
    expect(await readdir(at())).toEqual(['inner']);
    await writeFile(at('made'), 'made here');
    await mkdir(at('folder'));
    expect((await readdir(at())).sort()).toEqual(['folder', 'inner', 'made']);
    await unlink(at('made'));
    expect((await readdir(at())).sort()).toEqual(['folder', 'inner']);
    await rename(at('inner'), at('folder', 'moved'));
    expect(await readdir(at())).toEqual(['folder']);
    expect(await readdir(at('folder'))).toEqual(['moved']);
    expect(await readFile(at('folder', 'moved', 'kept'), 'utf8')).toBe('kept');
    await expect(stat(at('inner', 'kept'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(share, 'edits', 'folder', 'moved', 'kept'), 'utf8')).toBe('kept');
  });

  it('a desktop change shows once its folder is touched on the machine, as the change events do', async () => {
    await mkdir(join(share, 'events'));
    await writeFile(join(share, 'events', 'first'), '1');
    const { mountpoint } = await mount('events');
    const folder = join(mountpoint, 'events');
    expect(await readdir(folder)).toEqual(['first']);
    await writeFile(join(share, 'events', 'second'), '22');
    // share-events.ts sets the folder's times to the desktop's (no change there): the listing is asked again
    const times = await stat(join(share, 'events'));
    await utimes(folder, times.atime, times.mtime);
    expect((await readdir(folder)).sort()).toEqual(['first', 'second']);
    expect((await stat(join(folder, 'second'))).size).toBe(2);
  });

  it('reads and writes of any size and offset come back as written', async () => {
    const { mountpoint } = await mount('data');
    const data = randomBytes(3 * 1024 * 1024 + 123);
    await writeFile(join(mountpoint, 'blob'), data);
    expect((await readFile(join(share, 'blob'))).equals(data)).toBe(true);
    await writeFile('/proc/sys/vm/drop_caches', '3'); // read back from the desktop, not the page cache
    expect((await readFile(join(mountpoint, 'blob'))).equals(data)).toBe(true);
    const file = await open(join(mountpoint, 'blob'), 'r+');
    try {
      const piece = Buffer.alloc(300_000);
      const { bytesRead } = await file.read(piece, 0, piece.length, 1_000_001);
      expect(bytesRead).toBe(piece.length);
      expect(piece.equals(data.subarray(1_000_001, 1_300_001))).toBe(true);
      // past the end: what is there, then nothing
      expect((await file.read(Buffer.alloc(4096), 0, 4096, data.length - 100)).bytesRead).toBe(100);
      expect((await file.read(Buffer.alloc(4096), 0, 4096, data.length)).bytesRead).toBe(0);
      await file.write(Buffer.from('middle'), 0, 6, 2_000_000);
    } finally {
      await file.close();
    }
    const changed = await readFile(join(share, 'blob'));
    expect(changed.subarray(2_000_000, 2_000_006).toString()).toBe('middle');
    expect(changed.length).toBe(data.length);
  });

  it('a write the desktop fails is reported by the close (written behind, never lost)', async () => {
    const small = join(share, 'small');
    await mkdir(small);
    const made = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'onggi-sharefs-test', small], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`mount tmpfs: ${made.stderr}`);
    tmpfs.push(small);
    const { mountpoint } = await mount('full');
    // the desktop's disk holds 256 KiB: the write(2)s return, the close says what happened to them
    await expect(writeFile(join(mountpoint, 'small', 'big'), Buffer.alloc(2 * 1024 * 1024, 1))).rejects.toMatchObject({ code: 'ENOSPC' });
  });

  it('a link gone dark (open, silent) fails what waits on it after SILENCE_SECONDS, and the next request reconnects', async () => {
    await mkdir(join(share, 'dark'));
    await writeFile(join(share, 'dark', 'first'), 'first');
    await writeFile(join(share, 'dark', 'second'), 'second');
    await writeFile(join(share, 'dark', 'big'), randomBytes(4 * 1024 * 1024));
    const made = await mountSharefs({ dir, name: 'dark', root: share, readOnly: false, removals: shareRemovals(), silenceS: 1 });
    mounts.push(made);
    expect(await readFile(join(made.mountpoint, 'dark', 'first'), 'utf8')).toBe('first');
    // dark while the desktop is still answering reads it received: its replies must not bring it back
    const before = made.requests.length;
    const reading = readFile(join(made.mountpoint, 'dark', 'big')).catch(() => undefined);
    await vi.waitFor(() => expect(made.requests.slice(before)).toContain(READ), { interval: 1 });
    made.darken();
    // asked of a desktop that reads nothing and closes nothing: an error, not a hang (the test's timeout would say so)
    await expect(readFile(join(made.mountpoint, 'dark', 'second'), 'utf8')).rejects.toMatchObject({ code: 'EIO' });
    expect(made.servers).toHaveLength(1);
    await reading; // read or failed, as far as the desktop got before going dark
    // sharefs dropped the dark connection itself: the next request makes a new one
    expect(await readFile(join(made.mountpoint, 'dark', 'second'), 'utf8')).toBe('second');
    expect(made.servers).toHaveLength(2);
  });

  it('with the desktop gone a request fails at once; once it listens again the same mount works', async () => {
    await mkdir(join(share, 'cut'));
    await writeFile(join(share, 'cut', 'open'), 'opened before');
    await writeFile(join(share, 'cut', 'later'), 'read after');
    const made = await mount('cut');
    const held = await open(join(made.mountpoint, 'cut', 'open'), 'r');
    try {
      await made.cut();
      // not listed, not cached: it must ask the desktop, which is not there (a hang would end the test by timeout)
      await expect(readFile(join(made.mountpoint, 'cut', 'later'), 'utf8')).rejects.toMatchObject({ code: 'EIO' });
      await made.restore();
      expect(await readFile(join(made.mountpoint, 'cut', 'later'), 'utf8')).toBe('read after');
      // a file opened on the lost connection: its handle died with it
      await expect(held.read(Buffer.alloc(16), 0, 16, 0)).rejects.toMatchObject({ code: 'EIO' });
    } finally {
      await held.close().catch(() => undefined); // its release is answered whatever the link
    }
  });
});
