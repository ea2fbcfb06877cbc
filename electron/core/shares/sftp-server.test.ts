// The desktop side's confinement, against the real client: the init helper's `sharefs` mounted on
// this host, its socket answered straight by serveShare (no SSH in between: that is
// share-mount.test.ts). The machine-side view is the FUSE mount; what it may not reach is checked
// through the kernel.
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  rmdir,
  stat,
  symlink,
  truncate,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Duplex, duplexPair } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountSharefs, sftpPackets, type SharefsMount } from '../../../build/testing/sharefs-mount.js';
import { until } from '../../../build/testing/until.js';
import { shareRemovals } from './machine-removals.js';
import { serveShare, type ShareServer } from './sftp-server.js';

let dir: string;
const mounts: SharefsMount[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-sftp-'));
  await mkdir(join(dir, 'outside'));
  await writeFile(join(dir, 'outside', 'secret'), 'not yours');
  await mkdir(join(dir, 'share', 'sub'), { recursive: true });
  await writeFile(join(dir, 'share', 'sub', 'file'), 'hello');
  await symlink('sub/file', join(dir, 'share', 'inside'));
  await symlink('../outside/secret', join(dir, 'share', 'climbs'));
  await symlink(join(dir, 'share', 'sub', 'file'), join(dir, 'share', 'absolute'));
  await symlink('/etc', join(dir, 'share', 'etc'));
});
afterAll(async () => {
  for (const made of mounts) await made.close(); // sharefs ends with its mount
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The machine's notes of removals, as its SshMachine keeps one for its servers and events. */
const removals = shareRemovals();

async function mount(name: string, readOnly: boolean): Promise<{ mountpoint: string; server: ShareServer }> {
  const made = await mountSharefs({ dir, name, root: join(dir, 'share'), readOnly, removals });
  mounts.push(made);
  const server = made.servers.at(-1);
  if (!server) throw new Error('sharefs mounted without connecting');
  return { mountpoint: made.mountpoint, server };
}

describe('serveShare confines the machine to the shared folder', () => {
  it('reads, writes, and follows links that stay inside; refuses links out, absolute links, and making either', async () => {
    const { mountpoint, server } = await mount('rw', false);
    expect(await readFile(join(mountpoint, 'sub', 'file'), 'utf8')).toBe('hello');
    expect(await readFile(join(mountpoint, 'inside'), 'utf8')).toBe('hello');
    await writeFile(join(mountpoint, 'sub', 'new'), 'from the machine');
    expect(await readFile(join(dir, 'share', 'sub', 'new'), 'utf8')).toBe('from the machine');

    // A relative link climbing out: the machine's kernel asks READLINK, the desktop refuses.
    await expect(readFile(join(mountpoint, 'climbs'), 'utf8')).rejects.toMatchObject({ code: 'EACCES' });
    // Absolute links are refused even when they point inside the share.
    await expect(readlink(join(mountpoint, 'absolute'))).rejects.toMatchObject({ code: 'EACCES' });
    await expect(readlink(join(mountpoint, 'etc'))).rejects.toMatchObject({ code: 'EACCES' });
    // Making either kind of link from the machine is refused too.
    await expect(symlink('/etc/passwd', join(mountpoint, 'made-absolute'))).rejects.toMatchObject({ code: 'EACCES' });
    await expect(symlink('../../outside/secret', join(mountpoint, 'sub', 'made-climb'))).rejects.toMatchObject({ code: 'EACCES' });
    await symlink('file', join(mountpoint, 'sub', 'made-inside'));
    expect(await readlink(join(dir, 'share', 'sub', 'made-inside'))).toBe('file');
    expect(server.refused.some((line) => line.includes('absolute'))).toBe(true);
    expect(server.refused.some((line) => line.includes('out of the share'))).toBe(true);
  });

  it('a read-only share refuses writes, creates, removes and attribute changes', async () => {
    const { mountpoint } = await mount('ro', true);
    expect(await readFile(join(mountpoint, 'sub', 'file'), 'utf8')).toBe('hello');
    await expect(writeFile(join(mountpoint, 'sub', 'file'), 'changed')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(writeFile(join(mountpoint, 'sub', 'made'), 'x')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(rm(join(mountpoint, 'sub', 'file'))).rejects.toMatchObject({ code: 'EACCES' });
    expect(await readFile(join(dir, 'share', 'sub', 'file'), 'utf8')).toBe('hello');
  });

  it('a drop of a name removed on the desktop is answered done without touching the disk, and refused when the name is there', async () => {
    for (const readOnly of [false, true]) {
      const { mountpoint, server } = await mount(`drop-${readOnly ? 'ro' : 'rw'}`, readOnly);
      const outcome = (settled: Promise<unknown>) =>
        settled.then(
          () => 'done',
          (error: NodeJS.ErrnoException) => error.code,
        );
      // Cached by the machine's kernel (share-mount.ts caches names long), then removed on the desktop.
      await writeFile(join(dir, 'share', 'sub', 'gone'), 'soon gone');
      await mkdir(join(dir, 'share', 'sub', 'gone-dir'));
      expect((await stat(join(mountpoint, 'sub', 'gone'))).size).toBe(9);
      expect((await stat(join(mountpoint, 'sub', 'gone-dir'))).isDirectory()).toBe(true);
      await rm(join(dir, 'share', 'sub', 'gone'));
      await rm(join(dir, 'share', 'sub', 'gone-dir'), { recursive: true });
      expect((await stat(join(mountpoint, 'sub', 'gone'))).size).toBe(9);

      // The drop share-events.ts sends: the kernel forgets both at once.
      removals.desktop.expect(join(dir, 'share', 'sub', 'gone'));
      removals.desktop.expect(join(dir, 'share', 'sub', 'gone-dir'));
      expect(await outcome(unlink(join(mountpoint, 'sub', 'gone')))).toBe('done');
      expect(await outcome(rmdir(join(mountpoint, 'sub', 'gone-dir')))).toBe('done');
      expect(await outcome(stat(join(mountpoint, 'sub', 'gone')))).toBe('ENOENT');
      expect(await outcome(stat(join(mountpoint, 'sub', 'gone-dir')))).toBe('ENOENT');
      // Not a lasting negative entry: the name made again on the desktop is seen.
      await writeFile(join(dir, 'share', 'sub', 'gone'), 'back again');
      expect((await stat(join(mountpoint, 'sub', 'gone'))).size).toBe(10);

      // A name there again on the desktop when the drop arrives is never removed by it.
      removals.desktop.expect(join(dir, 'share', 'sub', 'gone'));
      expect(await outcome(unlink(join(mountpoint, 'sub', 'gone')))).toBe('EACCES');
      expect(await readFile(join(dir, 'share', 'sub', 'gone'), 'utf8')).toBe('back again');
      expect(server.refused.some((line) => line.includes('there again on the desktop'))).toBe(true);
      await rm(join(dir, 'share', 'sub', 'gone'));
    }
  });
});

describe('serveShare notes what the machine removed', () => {
  it('a removal made through the mount is noted (its desktop event is an echo); one made on the desktop is not', async () => {
    const { mountpoint } = await mount('removals', false);
    await writeFile(join(dir, 'share', 'sub', 'by-machine'), 'x');
    await writeFile(join(dir, 'share', 'sub', 'by-desktop'), 'x');
    await mkdir(join(dir, 'share', 'sub', 'dir-by-machine'));
    await writeFile(join(dir, 'share', 'sub', 'moved-by-machine'), 'x');
    await rm(join(mountpoint, 'sub', 'by-machine'));
    await rm(join(mountpoint, 'sub', 'dir-by-machine'), { recursive: true });
    await rename(join(mountpoint, 'sub', 'moved-by-machine'), join(mountpoint, 'sub', 'moved-here'));
    await rm(join(dir, 'share', 'sub', 'by-desktop'));
    expect(removals.machine.removedLately(join(dir, 'share', 'sub', 'by-machine'))).toBe(true);
    expect(removals.machine.removedLately(join(dir, 'share', 'sub', 'dir-by-machine'))).toBe(true);
    expect(removals.machine.removedLately(join(dir, 'share', 'sub', 'moved-by-machine'))).toBe(true);
    expect(removals.machine.removedLately(join(dir, 'share', 'sub', 'moved-here'))).toBe(false);
    expect(removals.machine.removedLately(join(dir, 'share', 'sub', 'by-desktop'))).toBe(false);
    // Another machine sharing the folder did not see it: its change events still send it the drop.
    expect(shareRemovals().machine.removedLately(join(dir, 'share', 'sub', 'by-machine'))).toBe(false);
  });
});

/** One SFTP packet: uint32 length, then the type byte and the body. */
function packet(type: number, ...fields: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from([type]), ...fields]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}
const u32 = (value: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
};
const u64 = (value: number) => {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64BE(BigInt(value));
  return buffer;
};
const str = (value: Buffer | string) => {
  const buffer = Buffer.from(value);
  return Buffer.concat([u32(buffer.length), buffer]);
};

/** The packets the server sent, as [type, body] (body after the type byte). */
function replies(stream: Duplex): Array<[number, Buffer]> {
  const parsed: Array<[number, Buffer]> = [];
  stream.on(
    'data',
    sftpPackets((packet) => parsed.push([packet[4] ?? 0, packet.subarray(5)])),
  );
  return parsed;
}

const CHUNK = 64 * 1024;
const READS = 256; // 16 MiB of replies

/** A session with `big` opened by hand, whose machine side then stops reading and asks for `reads` chunks at once. */
async function stalledReader(reads: number) {
  const [serverSide, machineSide] = duplexPair();
  const server = serveShare(serverSide, { root: join(dir, 'share'), readOnly: true, removals: shareRemovals() });
  const got = replies(machineSide);
  machineSide.write(packet(1, u32(3))); // INIT v3
  machineSide.write(packet(3, u32(1), str('/big'), u32(1), u32(0))); // OPEN for reading, no attributes
  const opened = (await until(
    () => got.find(([type]) => type === 102)?.[1],
    (body) => body !== undefined,
    'the handle',
  )) as Buffer;
  const handle = opened.subarray(8, 8 + opened.readUInt32BE(4));
  machineSide.pause();
  machineSide.write(
    Buffer.concat(Array.from({ length: reads }, (_, i) => packet(5, u32(100 + i), str(handle), u64(i * CHUNK), u32(CHUNK)))),
  );
  return { serverSide, machineSide, server, got };
}

describe('serveShare does not buffer without bound for a machine that stops reading', () => {
  beforeAll(() => writeFile(join(dir, 'share', 'big'), Buffer.alloc(CHUNK * READS, 7)));

  it('holds requests while replies wait to be read, and answers them all once they are', async () => {
    const { serverSide, machineSide, server, got } = await stalledReader(READS);
    await until(
      () => serverSide.writableLength,
      (buffered) => server.held || buffered >= CHUNK * READS,
      'the server to hold the requests (or to have buffered every reply)',
    );
    // What waits on the desktop: what was sent before the machine's side filled, and the reads then running.
    expect(serverSide.writableLength).toBeLessThan(CHUNK * 24);
    expect(server.held).toBe(true);

    machineSide.resume();
    const data = await until(
      () => got.filter(([type]) => type === 103),
      (answered) => answered.length === READS,
      'every read answered',
    );
    expect(data.every(([, body]) => body.readUInt32BE(4) === CHUNK && body[8] === 7)).toBe(true);
    machineSide.end();
    await server.closed;
  });

  it('a session that ends while its requests are held still closes its files', async () => {
    const { serverSide, server } = await stalledReader(64);
    await until(
      () => server.held,
      (held) => held,
      'the server to hold the requests',
    );
    serverSide.destroy();
    await server.closed; // resolves once the last barrier closed the file
  });
});

describe('serveShare does contiguous READs and WRITEs received together as one (io-runs.ts)', () => {
  it('answers each with its own part of the file, a short one at the end and EOF past it; writes land in place', async () => {
    const size = 5 * CHUNK + 1000;
    const content = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) % 251));
    await writeFile(join(dir, 'share', 'runs'), content);
    const [serverSide, machineSide] = duplexPair();
    const server = serveShare(serverSide, { root: join(dir, 'share'), readOnly: false, removals: shareRemovals() });
    const got = replies(machineSide);
    machineSide.write(packet(1, u32(3)));
    machineSide.write(packet(3, u32(1), str('/runs'), u32(1 | 2), u32(0))); // OPEN for reading and writing
    const opened = (await until(
      () => got.find(([type]) => type === 102)?.[1],
      (body) => body !== undefined,
      'the handle',
    )) as Buffer;
    const handle = str(opened.subarray(8, 8 + opened.readUInt32BE(4)));
    // Eight READs in one go: the first runs alone, the seven behind it in runs of at most 256 KiB.
    machineSide.write(Buffer.concat(Array.from({ length: 8 }, (_, i) => packet(5, u32(200 + i), handle, u64(i * CHUNK), u32(CHUNK)))));
    const answers = await until(
      () => got.filter(([type, body]) => (type === 103 || type === 101) && body.readUInt32BE(0) >= 200),
      (answered) => answered.length === 8,
      'every read answered',
    );
    for (const [type, body] of answers) {
      const i = body.readUInt32BE(0) - 200;
      const expected = content.subarray(i * CHUNK, Math.min(size, (i + 1) * CHUNK));
      if (expected.length === 0)
        expect([type, body.readUInt32BE(4)], `read ${i}`).toEqual([101, 1]); // EOF
      else expect(type === 103 && body.subarray(8, 8 + body.readUInt32BE(4)).equals(expected), `read ${i}`).toBe(true);
    }
    // Four WRITEs in one go, then the data as the file has it.
    const fresh = Buffer.alloc(4 * CHUNK, 9);
    machineSide.write(
      Buffer.concat(
        Array.from({ length: 4 }, (_, i) =>
          packet(6, u32(300 + i), handle, u64(CHUNK + i * CHUNK), str(fresh.subarray(i * CHUNK, (i + 1) * CHUNK))),
        ),
      ),
    );
    const written = await until(
      () => got.filter(([type, body]) => type === 101 && body.readUInt32BE(0) >= 300),
      (answered) => answered.length === 4,
      'every write answered',
    );
    expect(written.map(([, body]) => body.readUInt32BE(4))).toEqual([0, 0, 0, 0]);
    expect(
      (await readFile(join(dir, 'share', 'runs'))).equals(Buffer.concat([content.subarray(0, CHUNK), fresh, content.subarray(5 * CHUNK)])),
    ).toBe(true);
    machineSide.end();
    await server.closed;
  });
});

/** A NAME packet's entries (after the request id): each name with the attributes it came with. */
function names(body: Buffer): Array<{ name: string; mode?: number; size?: number; uid?: number; mtime?: number }> {
  const found = [];
  let at = 8; // request id, count
  const text = () => {
    const length = body.readUInt32BE(at);
    at += 4 + length;
    return body.subarray(at - length, at).toString('utf8');
  };
  for (let i = body.readUInt32BE(4); i > 0; i -= 1) {
    const name = text();
    expect(text()).toBe(name); // the longname
    const flags = body.readUInt32BE(at);
    at += 4;
    const entry: { name: string; mode?: number; size?: number; uid?: number; mtime?: number } = { name };
    if (flags & 1) {
      entry.size = Number(body.readBigUInt64BE(at));
      at += 8;
    }
    if (flags & 2) {
      entry.uid = body.readUInt32BE(at);
      at += 8;
    }
    if (flags & 4) {
      entry.mode = body.readUInt32BE(at);
      at += 4;
    }
    if (flags & 8) {
      entry.mtime = body.readUInt32BE(at + 4);
      at += 8;
    }
    found.push(entry);
  }
  expect(at).toBe(body.length);
  return found;
}

describe('serveShare lists folders on worker threads (listing-workers.ts)', () => {
  it('answers in NAME packets of at most 256 entries, each name once with its own attributes; folders opened together each get their own', async () => {
    const big = join(dir, 'share', 'many');
    await mkdir(join(big, '폴더'), { recursive: true });
    await Promise.all(Array.from({ length: 600 }, (_, i) => writeFile(join(big, i % 3 ? `f${i}` : `옹기-${i}`), 'x'.repeat(i))));
    await writeFile(join(big, 'sparse'), '');
    await truncate(join(big, 'sparse'), 5 * 2 ** 30); // a size past 32 bits
    await utimes(join(big, 'f1'), 1_000_000, 2_000_000_000);
    await symlink('f1', join(big, 'link'));
    const few = join(dir, 'share', 'few');
    await mkdir(few);
    await writeFile(join(few, 'one'), '1');

    const [serverSide, machineSide] = duplexPair();
    const server = serveShare(serverSide, { root: join(dir, 'share'), readOnly: true, removals: shareRemovals() });
    const got = replies(machineSide);
    const answer = (id: number) => until(() => got.find(([, body]) => body.readUInt32BE(0) === id), Boolean, `the answer to ${id}`);
    machineSide.write(packet(1, u32(3)));
    machineSide.write(Buffer.concat([packet(11, u32(1), str('/many')), packet(11, u32(2), str('/few'))])); // OPENDIR, OPENDIR
    const handles: Buffer[] = [];
    for (const id of [1, 2]) {
      const [type, body] = (await answer(id)) as [number, Buffer];
      expect(type).toBe(102);
      handles.push(str(body.subarray(8, 8 + body.readUInt32BE(4))));
    }
    const listed: Array<ReturnType<typeof names>> = [[], []];
    const packets = [0, 0];
    for (let id = 10, open = [0, 1]; open.length > 0; id += 2) {
      // both folders' READDIRs back to back
      machineSide.write(Buffer.concat(open.map((which, i) => packet(12, u32(id + i), handles[which] as Buffer))));
      for (const [i, which] of [...open].entries()) {
        const [type, body] = (await answer(id + i)) as [number, Buffer];
        if (type === 101) {
          expect(body.readUInt32BE(4)).toBe(1); // EOF
          open = open.filter((other) => other !== which);
          continue;
        }
        expect(type).toBe(104);
        expect(body.readUInt32BE(4)).toBeLessThanOrEqual(256);
        (listed[which] as ReturnType<typeof names>).push(...names(body));
        packets[which] = (packets[which] ?? 0) + 1;
      }
    }
    expect(packets[0]).toBe(3); // 606 entries
    for (const [which, folder] of [big, few].entries()) {
      const entries = listed[which] as ReturnType<typeof names>;
      expect(entries.map(({ name }) => name).sort()).toEqual(['.', '..', ...(await readdir(folder))].sort());
      // `..` without attributes: at the share's root it would be the desktop folder above the share
      expect(entries.find(({ name }) => name === '..')).toEqual({ name: '..' });
      for (const entry of entries.filter(({ name }) => name !== '..')) {
        const stats = await lstat(join(folder, entry.name));
        expect(entry, entry.name).toEqual({
          name: entry.name,
          mode: stats.mode,
          size: stats.size,
          uid: stats.uid,
          mtime: Math.floor(stats.mtimeMs / 1000),
        });
      }
    }
    expect(listed[0]?.find(({ name }) => name === 'f1')?.mtime).toBe(2_000_000_000);
    expect(listed[0]?.find(({ name }) => name === 'sparse')?.size).toBe(5 * 2 ** 30);

    // sharefs's list-folder@onggi: a folder that fits one packet comes whole in the EXTENDED_REPLY;
    // a larger one is answered with a handle to READDIR; another extension, or no path, is refused
    const list = (id: number, path: string) => packet(200, u32(id), str('list-folder@onggi'), str(path));
    machineSide.write(
      Buffer.concat([
        list(50, '/few'),
        list(51, '/many'),
        packet(200, u32(52), str('statvfs@openssh.com'), str('/')),
        packet(200, u32(53), str('list-folder@onggi')),
      ]),
    );
    const [wholeType, whole] = (await answer(50)) as [number, Buffer];
    expect(wholeType).toBe(201);
    expect(names(whole)).toEqual(listed[1]);
    expect(((await answer(51)) as [number, Buffer])[0]).toBe(102);
    expect(((await answer(52)) as [number, Buffer])[1].readUInt32BE(4)).toBe(8); // OP_UNSUPPORTED
    expect(((await answer(53)) as [number, Buffer])[1].readUInt32BE(4)).toBe(4); // FAILURE
    machineSide.end();
    await server.closed;
  });
});

describe('serveShare and a machine that breaks the protocol', () => {
  it('a packet larger than SFTP allows ends that session, and the desktop process goes on', async () => {
    const [serverSide, machineSide] = duplexPair();
    const server = serveShare(serverSide, { root: join(dir, 'share'), readOnly: false, removals: shareRemovals() });
    machineSide.write(packet(1, u32(3)));
    // A WRITE of 256 KiB of data: its packet is past the 256 KiB ssh2 (as OpenSSH) takes, and more follows it.
    const big = packet(6, u32(7), str('1'), u64(0), str(Buffer.alloc(256 * 1024)));
    machineSide.write(Buffer.concat([big, packet(7, u32(8), str('/sub/file'))]));
    machineSide.write(packet(7, u32(9), str('/sub/file')));
    await server.closed;
    expect(serverSide.destroyed).toBe(true);
  });
});
