// diskUsage against GNU du on trees with what du treats specially: hard links (counted once, also
// across trees), symlinks (not followed), sparse files (allocated blocks), empty dirs, and a mount.
import { execFileSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { link, mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gnuDu } from '../../../build/testing/gnu-du.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diskUsage } from './du.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-du-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const du = (...paths: string[]) => gnuDu(paths);

describe('diskUsage', () => {
  it('counts what du -s -x -B1 counts', async () => {
    const a = join(root, 'a');
    await mkdir(join(a, 'deep/er/still'), { recursive: true });
    await writeFile(join(a, 'small'), 'x');
    await writeFile(join(a, 'deep/big'), Buffer.alloc(300_000, 7));
    await link(join(a, 'deep/big'), join(a, 'deep/er/big-again'));
    await symlink('/usr', join(a, 'to-usr'));
    await writeFile(join(a, 'sparse'), 'start');
    await truncate(join(a, 'sparse'), 50_000_000);
    expect(await diskUsage(a)).toBe(du(a));
    expect(await diskUsage(a)).toBeLessThan(1_000_000); // the sparse file's hole and /usr are not counted
    expect(await diskUsage(join(a, 'small'))).toBe(du(join(a, 'small')));
    expect(await diskUsage(join(root, 'missing'))).toBe(0);
  });

  it('counts a hard link shared by two trees once when given the same seen set, as du with both arguments', async () => {
    const [a, b] = [join(root, 'a'), join(root, 'b')];
    await mkdir(a);
    await mkdir(b);
    await writeFile(join(a, 'file'), Buffer.alloc(100_000, 1));
    await link(join(a, 'file'), join(b, 'file'));
    const seen = new Set<string>();
    expect((await diskUsage(a, seen)) + (await diskUsage(b, seen))).toBe(du(a, b));
    expect(await diskUsage(b)).toBe(du(b));
  });

  it('leaves out what is mounted inside the tree, as du -x does', async () => {
    const a = join(root, 'a');
    await mkdir(join(a, 'mnt'), { recursive: true });
    await writeFile(join(a, 'file'), Buffer.alloc(10_000, 1));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'onggi-du-test', join(a, 'mnt')]);
    try {
      await writeFile(join(a, 'mnt/inside'), Buffer.alloc(1_000_000, 1));
      expect(await diskUsage(a)).toBe(du(a));
      expect(await diskUsage(a)).toBeLessThan(100_000);
      const device = lstatSync(a, { bigint: true }).dev;
      expect(await diskUsage(join(a, 'mnt'), new Set(), device)).toBe(0);
    } finally {
      execFileSync('umount', [join(a, 'mnt')]);
    }
  });
});
