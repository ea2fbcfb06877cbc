// A container's network namespace changes rarely (its own processes lack CAP_NET_ADMIN), yet a
// topology snapshot read every one with `nsenter … ip -j` — a spawn per namespace, ~16 ms each
// on a busy machine, 3 s at 200 containers. This keeps each namespace's last `ip -j` view and
// reuses it only while a fingerprint of the same kernel state, read from files without spawning,
// is unchanged: any change to links, addresses or main-table routes makes the next snapshot read
// that namespace again with `ip`.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readNetns, type NetnsView } from './kernel.js';

/** Per link, what `ip -j link` shows that sysfs also has (`carrier` fails on a link that is down: that is a value too). */
const LINK_FILES = ['ifindex', 'iflink', 'address', 'mtu', 'operstate', 'flags', 'carrier'];

export class NetnsViewCache {
  private readonly views = new Map<number, { fingerprint: string; view: NetnsView }>();

  /** The view of the netns (inode) a process is in: the cached one while its fingerprint holds, else read with `ip`. */
  async read(pid: number, inode: number): Promise<NetnsView> {
    // Taken before `ip` reads: a change racing that read only makes the next snapshot read again.
    const fingerprint = netnsFingerprint(pid);
    const cached = this.views.get(inode);
    if (fingerprint !== null && cached?.fingerprint === fingerprint) return cached.view;
    const view = await readNetns({ pid });
    if (fingerprint === null) this.views.delete(inode);
    else this.views.set(inode, { fingerprint, view });
    return view;
  }

  /** Forgets the namespaces a snapshot no longer saw (their containers ended). */
  keepOnly(inodes: ReadonlySet<number>): void {
    for (const inode of this.views.keys()) if (!inodes.has(inode)) this.views.delete(inode);
  }
}

/**
 * What the kernel says about a process's netns, without spawning: the link names in
 * /proc/PID/net/dev, each link's sysfs attributes (through the process's root, whose /sys the
 * container mounted inside its own netns), the IPv6 addresses, the FIB (IPv4 addresses and
 * routes of the local and main tables) and the main table's routes. Traffic counters and route
 * use counts are left out. Null when the process is gone or its /sys does not show its own netns
 * (then the caller never caches).
 */
export function netnsFingerprint(pid: number): string | null {
  // Synchronous on purpose: procfs and sysfs answer from memory, and ~20 files per namespace
  // through the thread pool cost the agent more CPU than the spawns this replaces.
  const net = `/proc/${pid}/net`;
  const sysNet = `/proc/${pid}/root/sys/class/net`;
  const read = (path: string) => readFileSync(path, 'utf8');
  try {
    const names = read(join(net, 'dev'))
      .split('\n')
      .slice(2)
      .map((line) => line.split(':')[0]?.trim() ?? '')
      .filter(Boolean)
      .sort();
    if (names.join(' ') !== readdirSync(sysNet).sort().join(' ')) return null;
    const links = names.map((name) => {
      const values = LINK_FILES.map((file) => {
        try {
          return read(join(sysNet, name, file)).trim();
        } catch {
          return '-';
        }
      });
      return `${name} ${values.join(' ')}`;
    });
    // Columns 5 and 6 of /proc/net/route (RefCnt, Use) move with traffic.
    const routes = read(join(net, 'route'))
      .split('\n')
      .map((line) =>
        line
          .split(/\s+/)
          .filter((_, i) => i !== 4 && i !== 5)
          .join(' '),
      )
      .join('\n');
    return [links.join('\n'), routes, read(join(net, 'if_inet6')), read(join(net, 'fib_trie'))].join('\n--\n');
  } catch {
    return null;
  }
}
