// The desktop side's confinement, against the real client: `sshfs -o slave` on this host, whose
// stdin/stdout are piped straight to serveShare (no SSH in between: that is share-mount.test.ts).
// The machine-side view is the FUSE mount; what it may not reach is checked through the kernel.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveShare, type ShareServer } from './sftp-server.js';
import { sshfsSlaveArgs } from './share-mount.js';

let dir: string;
const mounted: string[] = [];
const children: ChildProcess[] = [];

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
  for (const mountpoint of mounted) spawnSync('fusermount3', ['-u', '-z', mountpoint]);
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function mount(name: string, readOnly: boolean): Promise<{ mountpoint: string; server: ShareServer }> {
  const mountpoint = join(dir, `mnt-${name}`);
  await mkdir(mountpoint);
  const child = spawn('sshfs', sshfsSlaveArgs(mountpoint), { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  mounted.push(mountpoint);
  const server = serveShare(Duplex.from({ readable: child.stdout, writable: child.stdin }), { root: join(dir, 'share'), readOnly });
  // Mounted once the kernel lists it (sshfs mounts after the SFTP handshake).
  for (let i = 0; i < 200; i += 1) {
    if ((await readFile('/proc/self/mountinfo', 'utf8')).includes(` ${mountpoint} `)) return { mountpoint, server };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`sshfs did not mount ${mountpoint}`);
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
});
