// Layer unpacking as root into a temp dir: fidelity (owners, modes, times, links) and the rules
// that keep a hostile layer inside its directory. Every hostile case checks the host paths it
// aimed at do not exist afterwards.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LayerError, unpackLayer } from './layer-unpack.js';
import { makeTar, type TarEntrySpec } from './test-tar.js';

let work: string;
let layer: string;
/** A path outside the layer that hostile entries aim at. */
let outside: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'onggi-unpack-'));
  layer = join(work, 'layers', 'layer');
  await mkdir(layer, { recursive: true });
  outside = join(work, `outside-${randomBytes(4).toString('hex')}`);
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const unpack = (entries: TarEntrySpec[] | Buffer) =>
  unpackLayer(Readable.from([Array.isArray(entries) ? makeTar(entries) : entries]), layer);

describe('unpackLayer', () => {
  it('keeps owners, modes (set-id bits too), times, verbatim symlinks and hardlinks; the diff id is the tar sha256', async () => {
    const entries: TarEntrySpec[] = [
      { path: './', type: 'dir', mode: 0o755 },
      { path: './bin/', type: 'dir', mode: 0o755 },
      { path: './bin/busybox', data: 'ELF...', mode: 0o755, mtime: 1_600_000_000 },
      { path: './bin/sh', type: 'symlink', linkpath: 'busybox' },
      { path: './bin/ls', type: 'symlink', linkpath: '/bin/busybox' },
      { path: './lib64', type: 'symlink', linkpath: '../../../usr/lib' },
      { path: './bin/cat', type: 'link', linkpath: 'bin/busybox' },
      { path: './home/nobody/', type: 'dir', mode: 0o750, uid: 65534, gid: 65534, mtime: 1_500_000_000 },
      { path: './home/nobody/note', data: 'hi', mode: 0o640, uid: 65534, gid: 65534 },
      { path: './usr/local/bin/suid', data: '#!/bin/sh', mode: 0o4755, uid: 0, gid: 0 },
      { path: './usr/local/bin/sgid-nobody', data: 'x', mode: 0o2755, uid: 65534, gid: 65534 },
      { path: './tmp/', type: 'dir', mode: 0o1777 },
      { path: './etc/empty', data: '', mode: 0o600, uid: 65534, mtime: 1_400_000_000 },
    ];
    const tarBytes = makeTar(entries);
    const result = await unpackLayer(Readable.from([tarBytes]), layer);
    expect(result.diffId).toBe(`sha256:${createHash('sha256').update(tarBytes).digest('hex')}`);
    expect(result.compression).toBe('none');
    expect(result.skipped).toEqual([]);

    expect(readFileSync(join(layer, 'bin/busybox'), 'utf8')).toBe('ELF...');
    expect(statSync(join(layer, 'bin/busybox')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(layer, 'bin/busybox')).mtimeMs).toBe(1_600_000_000_000);
    expect(readlinkSync(join(layer, 'bin/sh'))).toBe('busybox');
    expect(readlinkSync(join(layer, 'bin/ls'))).toBe('/bin/busybox'); // absolute target kept as written
    expect(readlinkSync(join(layer, 'lib64'))).toBe('../../../usr/lib'); // climbing target kept as written
    expect(statSync(join(layer, 'bin/cat')).ino).toBe(statSync(join(layer, 'bin/busybox')).ino);
    const home = statSync(join(layer, 'home/nobody'));
    expect([home.uid, home.gid, home.mode & 0o7777, home.mtimeMs]).toEqual([65534, 65534, 0o750, 1_500_000_000_000]);
    const note = statSync(join(layer, 'home/nobody/note'));
    expect([note.uid, note.gid, note.mode & 0o7777]).toEqual([65534, 65534, 0o640]);
    expect(statSync(join(layer, 'usr/local/bin/suid')).mode & 0o7777).toBe(0o4755);
    const sgid = statSync(join(layer, 'usr/local/bin/sgid-nobody'));
    expect([sgid.uid, sgid.mode & 0o7777]).toEqual([65534, 0o2755]); // mode set after chown, which clears set-id bits
    expect(statSync(join(layer, 'tmp')).mode & 0o7777).toBe(0o1777);
    const empty = statSync(join(layer, 'etc/empty'));
    expect([empty.size, empty.mode & 0o7777, empty.uid, empty.mtimeMs]).toEqual([0, 0o600, 65534, 1_400_000_000_000]);
    expect(statSync(join(layer, 'usr/local')).mode & 0o7777).toBe(0o755); // parents the archive did not list

    // The same tar gzipped has the same diff id.
    await rm(layer, { recursive: true });
    await mkdir(layer);
    const gz = await unpackLayer(Readable.from([gzipSync(tarBytes)]), layer);
    expect(gz.compression).toBe('gzip');
    expect(gz.diffId).toBe(result.diffId);
  });

  it('refuses a ".." entry and writes nothing outside', async () => {
    await expect(
      unpack([
        { path: 'ok', data: 'fine' },
        { path: `../${outside.split('/').pop() ?? ''}`, data: 'escaped' },
      ]),
    ).rejects.toThrow(/escapes the layer/);
    await expect(unpack([{ path: `a/../../../${outside.split('/').pop() ?? ''}`, data: 'escaped' }])).rejects.toThrow(LayerError);
    expect(existsSync(outside)).toBe(false);
    expect(existsSync(join(work, 'layers', outside.split('/').pop() ?? ''))).toBe(false);
  });

  it('makes absolute paths relative to the layer', async () => {
    const hostPath = `/etc/onggi-test-${randomBytes(4).toString('hex')}`;
    await unpack([
      { path: hostPath, data: 'inside' },
      { path: `${outside}/x`, data: 'also inside' },
    ]);
    expect(existsSync(hostPath)).toBe(false);
    expect(existsSync(outside)).toBe(false);
    expect(readFileSync(join(layer, hostPath), 'utf8')).toBe('inside');
    expect(readFileSync(join(layer, outside, 'x'), 'utf8')).toBe('also inside');
  });

  it('refuses to write through a symlink that points outside (or anywhere)', async () => {
    await mkdir(outside);
    await expect(
      unpack([
        { path: 'link', type: 'symlink', linkpath: outside },
        { path: 'link/file', data: 'pwned' },
      ]),
    ).rejects.toThrow(/through the symlink "link"/);
    expect(existsSync(join(outside, 'file'))).toBe(false);
    await rm(layer, { recursive: true });
    await mkdir(layer);
    // Relative, climbing out: same refusal.
    await expect(
      unpack([
        { path: 'up', type: 'symlink', linkpath: '../..' },
        { path: 'up/pwned', data: 'x' },
      ]),
    ).rejects.toThrow(/through the symlink/);
    expect(existsSync(join(work, 'pwned'))).toBe(false);
  });

  it('replaces a symlink with a file instead of writing through it', async () => {
    await unpack([
      { path: 'f', type: 'symlink', linkpath: join(outside, 'target') },
      { path: 'f', data: 'new content' },
    ]);
    expect(existsSync(outside)).toBe(false);
    expect(lstatSync(join(layer, 'f')).isFile()).toBe(true);
    expect(readFileSync(join(layer, 'f'), 'utf8')).toBe('new content');
  });

  it('refuses hardlinks to anything but an earlier file of the same layer', async () => {
    const passwdLinks = statSync('/etc/passwd').nlink;
    await expect(unpack([{ path: 'pw', type: 'link', linkpath: '/etc/passwd' }])).rejects.toThrow(
      /not a file written earlier in this layer/,
    );
    await expect(unpack([{ path: 'pw', type: 'link', linkpath: '../../../../../../etc/passwd' }])).rejects.toThrow(/escapes the layer/);
    await expect(
      unpack([
        { path: 'etc', type: 'symlink', linkpath: '/etc' },
        { path: 'pw', type: 'link', linkpath: 'etc/passwd' },
      ]),
    ).rejects.toThrow(/not a file written earlier/);
    // A file written, its directory then replaced by a symlink: the old path is no longer a target.
    await rm(layer, { recursive: true });
    await mkdir(layer);
    await expect(
      unpack([
        { path: 'd/f', data: 'x' },
        { path: 'd', type: 'symlink', linkpath: '/etc' },
        { path: 'h', type: 'link', linkpath: 'd/f' },
      ]),
    ).rejects.toThrow(/not a file written earlier/);
    expect(existsSync(join(layer, 'pw'))).toBe(false);
    expect(existsSync(join(layer, 'h'))).toBe(false);
    expect(statSync('/etc/passwd').nlink).toBe(passwdLinks);
  });

  it('collects OCI whiteouts for the helper instead of writing them', async () => {
    const result = await unpack([
      { path: 'data/', type: 'dir' },
      { path: 'data/.wh.old.txt', data: '' },
      { path: 'gone/.wh.deep', data: '' },
      { path: 'opaque/', type: 'dir', mode: 0o700 },
      { path: 'opaque/.wh..wh..opq', data: '' },
      { path: 'opaque/c', data: 'c' },
      { path: '.wh..wh.plnk', data: '' }, // reserved names are ignored
    ]);
    expect(result.whiteouts.sort()).toEqual(['data/old.txt', 'gone/deep']);
    expect(result.opaques).toEqual(['opaque']);
    expect(existsSync(join(layer, 'data/.wh.old.txt'))).toBe(false);
    expect(existsSync(join(layer, 'opaque/.wh..wh..opq'))).toBe(false);
    expect(readFileSync(join(layer, 'opaque/c'), 'utf8')).toBe('c');
    expect(statSync(join(layer, 'opaque')).mode & 0o777).toBe(0o700);
  });

  it('refuses whiteouts whose directory was later replaced by a symlink (the marker must not land outside)', async () => {
    await mkdir(outside);
    await expect(
      unpack([
        { path: 'd/.wh.x', data: '' },
        { path: 'd', type: 'symlink', linkpath: outside },
      ]),
    ).rejects.toThrow(/no longer a directory/);
    await rm(layer, { recursive: true });
    await mkdir(layer);
    await expect(
      unpack([
        { path: 'o/.wh..wh..opq', data: '' },
        { path: 'o', type: 'symlink', linkpath: outside },
      ]),
    ).rejects.toThrow(/no longer a directory/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('skips device nodes and FIFOs, and says so', async () => {
    const result = await unpack([
      { path: 'dev/sda', type: 'block', mode: 0o660 },
      { path: 'dev/null', type: 'char', mode: 0o666 },
      { path: 'run/fifo', type: 'fifo' },
      { path: 'ok', data: 'ok' },
    ]);
    expect(result.skipped).toEqual(['dev/sda (BlockDevice)', 'dev/null (CharacterDevice)', 'run/fifo (FIFO)']);
    expect(existsSync(join(layer, 'dev/sda'))).toBe(false);
    expect(readFileSync(join(layer, 'ok'), 'utf8')).toBe('ok');
  });

  it('refuses zstd, and archives that are not tar', async () => {
    await expect(unpack(Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(100)]))).rejects.toThrow(/zstd/);
    await expect(unpack(randomBytes(4096))).rejects.toThrow(LayerError);
    const truncated = makeTar([{ path: 'big', data: 'x'.repeat(5000) }]).subarray(0, 1500);
    await expect(unpack(truncated)).rejects.toThrow(LayerError);
  });
});
