// A path inside a container's rootfs, resolved the way the container itself would resolve it:
// symlinks are followed with the rootfs as `/` (an absolute target, or `..` past the top, stays
// inside), so no link in an image or a running container can lead the agent to the machine's
// files. This is Docker's FollowSymlinkInScope; a container that swaps a directory for a link
// between our resolve and our open could still race it, so writers open what we return without
// following a final link (O_NOFOLLOW) and `cp` into a running container goes only where it resolves now.
import { lstatSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';

const MAX_LINKS = 255;

/**
 * The machine path for `path` inside `root`. With `followLast: false` a symlink as the last
 * component is returned as itself (what `cp` copies out, and what it replaces on the way in).
 */
export function resolveInRootfs(root: string, path: string, { followLast = true }: { followLast?: boolean } = {}): string {
  let pending = posix.normalize(`/${path}`).split('/').filter(Boolean);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() ?? '';
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch (error) {
      // A missing component ends the walk: the rest is taken as plain names (a file `cp` creates).
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    }
    if (!isLink || (!followLast && pending.length === 0)) {
      resolved.push(part);
      continue;
    }
    links += 1;
    if (links > MAX_LINKS)
      throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', `${path}: too many levels of symbolic links`, 'params.path');
    const target = readlinkSync(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending = [...target.split('/').filter(Boolean), ...pending];
  }
  return join(root, ...resolved);
}
