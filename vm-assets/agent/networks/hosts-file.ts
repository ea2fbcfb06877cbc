// Name resolution between containers: each container gets an /etc/hosts the agent keeps, listing
// its own addresses and the containers that share a user network with it. The file lives in the
// agent's state dir and is bind-mounted over the container's /etc/hosts before the container runs
// anything, so later updates are plain writes to a file the agent owns — never a write through the
// container's (untrusted, changeable) root filesystem.
import { lstat, mkdir, open, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface HostsEntry {
  ip: string;
  names: string[];
}

export function renderHosts(own: readonly HostsEntry[], peers: readonly HostsEntry[]): string {
  const lines = ['# managed by onggi: rewritten when containers join or leave its networks', '127.0.0.1\tlocalhost'];
  lines.push('::1\tlocalhost ip6-localhost ip6-loopback');
  for (const entry of [...own, ...peers]) lines.push(`${entry.ip}\t${[...new Set(entry.names)].join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** Rewrites the file in place (same inode), so the bind mount in a running container sees the new content. */
export async function writeHostsFile(path: string, content: string): Promise<void> {
  const handle = await open(path, 'w', 0o644);
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

export async function removeHostsFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/**
 * Makes `<rootfs>/etc/hosts` a plain file to mount over. Called only while nothing of the
 * container runs (between its creation and its command), so the checks cannot be raced: /etc
 * must be a real directory (a symlink could point anywhere on the machine), and a symlink or
 * other non-file at /etc/hosts is replaced by an empty file in the container's upper layer.
 * Returns the mount target, or undefined when /etc is not a directory (no hosts file then).
 */
export async function prepareHostsTarget(rootfs: string): Promise<string | undefined> {
  const etc = join(rootfs, 'etc');
  const etcStat = await lstat(etc).catch(() => undefined);
  if (etcStat === undefined) await mkdir(etc, { mode: 0o755 });
  else if (!etcStat.isDirectory()) return undefined;
  const target = join(etc, 'hosts');
  const stat = await lstat(target).catch(() => undefined);
  if (stat && !stat.isFile()) {
    if (stat.isDirectory()) return undefined;
    await unlink(target);
  }
  if (!stat || !stat.isFile()) {
    // O_EXCL|O_NOFOLLOW: created here, never through a link.
    const handle = await open(target, 'wx', 0o644);
    await handle.close();
  }
  return target;
}
