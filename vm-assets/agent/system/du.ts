// Bytes a file tree holds on disk, counted exactly as `du -s -x -B1 PATH` does: allocated blocks
// (st_blocks × 512, so sparse files count what they use and small files a whole block), the
// directories themselves included, a file with several hard links once, symlinks as the link
// (never followed), and nothing on another filesystem (a running container's rootfs mount).
// Allocated bytes rather than `--apparent-size` because that is what a full disk runs out of.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Inodes already counted (`dev:ino`), shared across calls to count a hard link once across trees. */
export type SeenInodes = Set<string>;

/** How many lstat calls run at once: enough to overlap I/O, few enough to stay gentle. */
const PARALLEL = 16;

/**
 * `device`: the filesystem the walk started on, when `path` is one entry of a larger walk (as du
 * sees it): a `path` that is a mount point on another filesystem then counts nothing.
 */
export async function diskUsage(path: string, seen: SeenInodes = new Set(), device?: bigint): Promise<number> {
  const top = await lstat(path, { bigint: true }).catch(ignoreGone);
  if (!top || (device !== undefined && top.dev !== device)) return 0;
  let total = 0;
  const count = (stat: { dev: bigint; ino: bigint; nlink: bigint; blocks: bigint }): void => {
    if (stat.nlink > 1n) {
      const key = `${stat.dev}:${stat.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    total += Number(stat.blocks) * 512;
  };
  count(top);
  if (!top.isDirectory()) return total;
  const dirs = [path];
  while (dirs.length > 0) {
    const dir = dirs.pop() as string;
    const names = await readdir(dir).catch(ignoreGone);
    if (!names) continue;
    for (let i = 0; i < names.length; i += PARALLEL) {
      const batch = names.slice(i, i + PARALLEL).map((name) => join(dir, name));
      const stats = await Promise.all(batch.map((p) => lstat(p, { bigint: true }).catch(ignoreGone)));
      stats.forEach((stat, j) => {
        // A mount point is not counted at all, as du -x leaves it out.
        if (!stat || stat.dev !== top.dev) return;
        count(stat);
        if (stat.isDirectory()) dirs.push(batch[j] as string);
      });
    }
  }
  return total;
}

/** A file deleted while we walk (a running container's scratch) is simply not counted. */
function ignoreGone(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
  throw error;
}
