// Resolving a path inside an unpacked root the way the container will see it: symlinks are
// followed, but `/` and `..` never leave the root (as securejoin does for runc).
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';

const MAX_LINKS = 40;

/** The host path that `path` (absolute, as the container sees it) names inside `root`, or undefined if it does not exist. */
export async function resolveInRoot(root: string, path: string): Promise<string | undefined> {
  let pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const host = join(root, ...resolved, part);
    // probe: a path that does not exist yet ends the walk
    const st = await lstat(host).catch(() => undefined);
    if (st === undefined) return undefined;
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return undefined;
      const target = await readlink(host);
      if (target.startsWith('/')) resolved.length = 0;
      pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
      continue;
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}
