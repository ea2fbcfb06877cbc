// The machine's network as the kernel reports it, not as the agent intended it: links,
// addresses and routes of the agent's own netns and of every running container's netns, read
// with `ip -j`, with veth pairs matched across namespaces by their ifindexes.
import type { Topology, TopologyLink, TopologyNamespace } from '../../../shared/networks.js';
import { errorMessage } from '../../../shared/errors.js';
import { linkKind, netnsInode, readNetns, type IpLink, type NetnsView } from './kernel.js';
import type { NetnsViewCache } from './netns-cache.js';

export interface TopologyContainer {
  id: string;
  name: string;
  pid: number;
}

interface Read {
  inode: number;
  kind: 'machine' | 'container';
  container: { id: string; name: string } | null;
  pid: number | null;
  view: NetnsView | null;
  error: string | null;
}

/** With a cache, a container's namespace is read with `ip` only when its fingerprint changed (netns-cache.ts). */
export async function snapshotTopology(
  containers: readonly TopologyContainer[],
  networks: Topology['networks'],
  cache?: NetnsViewCache,
): Promise<Topology> {
  const reads: Read[] = [];
  const machineInode = await netnsInode('self');
  reads.push({
    inode: machineInode ?? 0,
    kind: 'machine',
    container: null,
    pid: null,
    ...(await readOne(() => readNetns())),
  });
  const seen = new Set<number>([machineInode ?? 0]);
  const containerReads = await Promise.all(
    containers.map(async (container) => {
      const inode = await netnsInode(container.pid);
      if (inode === null) return undefined; // ended since it was listed
      return {
        inode,
        kind: 'container' as const,
        container: { id: container.id, name: container.name },
        pid: container.pid,
        ...(await readOne(() => cache?.read(container.pid, inode) ?? readNetns({ pid: container.pid }))),
      };
    }),
  );
  for (const read of containerReads) {
    // Two containers sharing one netns would be listed once, under the first.
    if (read && !seen.has(read.inode)) {
      seen.add(read.inode);
      reads.push(read);
    }
  }
  cache?.keepOnly(seen);
  return { at: new Date().toISOString(), namespaces: reads.map((read) => toNamespace(read, reads)), networks };
}

async function readOne(read: () => Promise<NetnsView>): Promise<{ view: NetnsView | null; error: string | null }> {
  try {
    return { view: await read(), error: null };
  } catch (error) {
    return { view: null, error: errorMessage(error) };
  }
}

function toNamespace(read: Read, all: readonly Read[]): TopologyNamespace {
  const view = read.view;
  return {
    inode: read.inode,
    kind: read.kind,
    container: read.container,
    pid: read.pid,
    links: (view?.links ?? []).map((link) => toLink(link, read, all)),
    addresses: (view?.addrs ?? []).flatMap((link) =>
      (link.addr_info ?? []).map((info) => ({
        ifindex: link.ifindex,
        ifname: link.ifname,
        family: info.family,
        address: info.local,
        prefixLength: info.prefixlen,
        scope: info.scope ?? 'global',
      })),
    ),
    routes: (view?.routes ?? []).map((route) => ({
      dst: route.dst,
      gateway: route.gateway ?? null,
      dev: route.dev ?? null,
      protocol: route.protocol ?? null,
      scope: route.scope ?? null,
      prefsrc: route.prefsrc ?? null,
    })),
    error: read.error,
  };
}

function toLink(link: IpLink, read: Read, all: readonly Read[]): TopologyLink {
  const kind = linkKind(link);
  let peer: TopologyLink['peer'] = null;
  if (kind === 'veth' && link.link_index !== undefined) {
    const found = findPeer(link, read, all);
    peer = {
      ifindex: link.link_index,
      netnsid: link.link_netnsid ?? null,
      netns: found?.inode ?? (link.link_netnsid === undefined ? read.inode : null),
      name: found?.name ?? null,
    };
  }
  return {
    ifindex: link.ifindex,
    name: link.ifname,
    kind,
    state: link.operstate ?? 'UNKNOWN',
    flags: link.flags,
    mac: link.address ?? null,
    mtu: link.mtu ?? null,
    master: link.master ?? null,
    peer,
  };
}

/**
 * A veth's other end: in the same netns when the kernel gives no link_netnsid, else the veth in
 * another namespace whose ifindex is our link_index and whose link_index is our ifindex (ifindexes
 * are per namespace, so only the pair matches both ways).
 */
function findPeer(link: IpLink, read: Read, all: readonly Read[]): { inode: number; name: string } | undefined {
  const candidates: Array<{ inode: number; name: string }> = [];
  const sameNs = link.link_netnsid === undefined;
  for (const other of all) {
    if (sameNs !== (other === read)) continue;
    for (const candidate of other.view?.links ?? []) {
      if (candidate.ifindex === link.link_index && candidate.link_index === link.ifindex && linkKind(candidate) === 'veth')
        candidates.push({ inode: other.inode, name: candidate.ifname });
    }
  }
  return candidates.length === 1 ? candidates[0] : undefined;
}
