// The machine's network as the kernel reports it, not as the agent intended it: links,
// addresses and routes of the agent's own netns (with the links' counters), of every running
// container's netns and of every other namespace named under /run/netns (made by hand: the
// seeds' `ip netns add`), read with `ip -j`, with veth pairs matched across namespaces by their
// ifindexes.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Topology, TopologyLink, TopologyNamespace } from '../../../shared/networks.js';
import { errorMessage } from '../../../shared/errors.js';
import * as z from 'zod';
import { lazySchema } from '../../../shared/lazy-schema.js';
import { readCommand } from './commands.js';
import { linkKind, netnsInode, readLinkCounters, readNetns, type IpLink, type NetnsView } from './kernel.js';
import type { NetnsViewCache } from './netns-cache.js';
import { NETNS_RUN_DIR } from './netns-names.js';

/** Named namespaces read per snapshot at most (each is one `ip` spawn; the view says when some were left out). */
const MAX_NAMED = 32;

export interface TopologyContainer {
  id: string;
  name: string;
  pid: number;
}

interface Read {
  inode: number;
  /** The links' byte counters (the machine's namespace only). */
  counters?: Map<string, { rxBytes: number; txBytes: number }>;
  kind: TopologyNamespace['kind'];
  name: string | null;
  container: { id: string; name: string } | null;
  pid: number | null;
  view: NetnsView | null;
  error: string | null;
}

export interface TopologyOptions {
  /** With it, a container's namespace is read with `ip` only when its fingerprint changed (netns-cache.ts). */
  cache?: NetnsViewCache;
  /** The packet filter's part of the path (NAT and published ports), already checked against the kernel. */
  path?: Pick<Topology, 'nat' | 'ports'>;
  /** Our containers' names under /run/netns, by container id (netns-names.ts). */
  nameOf?: (containerId: string) => string | undefined;
}

export async function snapshotTopology(
  containers: readonly TopologyContainer[],
  networks: Topology['networks'],
  { cache, path, nameOf }: TopologyOptions = {},
): Promise<Topology> {
  const reads: Read[] = [];
  const machineInode = await netnsInode('self');
  reads.push({
    inode: machineInode ?? 0,
    kind: 'machine',
    name: null,
    container: null,
    pid: null,
    counters: await readLinkCounters(),
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
        name: nameOf?.(container.id) ?? null,
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
  reads.push(...(await readNamed(seen)));
  const nsids = await machineNsids(reads);
  return { at: new Date().toISOString(), namespaces: reads.map((read) => toNamespace(read, reads, nsids)), networks, ...path };
}

/**
 * The machine namespace's ids for the named namespaces (`ip netns list-id`), as inodes: a veth's
 * `link_netnsid` then says for certain which namespace its peer is in. The ifindex match alone is
 * ambiguous when two namespaces were built alike (ifindexes are per namespace).
 */
async function machineNsids(reads: readonly Read[]): Promise<Map<number, number>> {
  const byName = new Map(reads.flatMap((read) => (read.name === null ? [] : [[read.name, read.inode] as const])));
  const map = new Map<number, number>();
  if (byName.size === 0) return map;
  // Without the ids the peers are matched by ifindex alone (findPeer), as before this read existed.
  const listed = await readCommand(['ip', '-j', 'netns', 'list-id'])
    .then((out) => NsidList.safeParse(JSON.parse(out || '[]')))
    .catch(() => undefined);
  for (const entry of listed?.success ? listed.data : []) {
    const inode = entry.name === undefined ? undefined : byName.get(entry.name);
    if (inode !== undefined) map.set(entry.nsid, inode);
  }
  return map;
}

const NsidList = lazySchema(() => z.array(z.looseObject({ nsid: z.number().int(), name: z.string().optional() })));

/** The namespaces under /run/netns that are neither the agent's own nor a container's (`seen`). */
async function readNamed(seen: Set<number>): Promise<Read[]> {
  // No /run/netns: nobody has named a namespace on this machine.
  const names = (await readdir(NETNS_RUN_DIR).catch((): string[] => [])).sort();
  // The same directory, just listed: gone means no named namespaces.
  const dir = await stat(NETNS_RUN_DIR).catch(() => undefined);
  const found: Array<{ name: string; inode: number }> = [];
  for (const name of names) {
    // A name whose mount is gone is a plain file of the directory's own filesystem: not a namespace.
    const info = await stat(join(NETNS_RUN_DIR, name)).catch(() => undefined);
    if (!info || !dir || info.dev === dir.dev || seen.has(info.ino)) continue;
    seen.add(info.ino);
    found.push({ name, inode: info.ino });
  }
  return Promise.all(
    found.slice(0, MAX_NAMED).map(async ({ name, inode }) => ({
      inode,
      kind: 'named' as const,
      name,
      container: null,
      pid: null,
      ...(await readOne(() => readNetns({ path: join(NETNS_RUN_DIR, name) }))),
    })),
  );
}

async function readOne(read: () => Promise<NetnsView>): Promise<{ view: NetnsView | null; error: string | null }> {
  try {
    return { view: await read(), error: null };
  } catch (error) {
    return { view: null, error: errorMessage(error) };
  }
}

/** nsids: for the machine's namespace, its ids of other namespaces → their inodes. */
function toNamespace(read: Read, all: readonly Read[], nsids: ReadonlyMap<number, number>): TopologyNamespace {
  const view = read.view;
  return {
    inode: read.inode,
    kind: read.kind,
    name: read.name,
    container: read.container,
    pid: read.pid,
    links: (view?.links ?? []).map((link) => toLink(link, read, all, read.kind === 'machine' ? nsids : undefined)),
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

function toLink(link: IpLink, read: Read, all: readonly Read[], nsids?: ReadonlyMap<number, number>): TopologyLink {
  const kind = linkKind(link);
  let peer: TopologyLink['peer'] = null;
  if (kind === 'veth' && link.link_index !== undefined) {
    const known = link.link_netnsid === undefined ? undefined : nsids?.get(link.link_netnsid);
    const found =
      known === undefined
        ? findPeer(link, read, all)
        : peerIn(
            link,
            all.find((other) => other.inode === known),
          );
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
    stats: read.counters?.get(link.ifname) ?? null,
  };
}

/** A veth's other end in a namespace known for certain: the veth there whose ifindex is our link_index. */
function peerIn(link: IpLink, other: Read | undefined): { inode: number; name: string } | undefined {
  const candidate = other?.view?.links.find((l) => l.ifindex === link.link_index && linkKind(l) === 'veth');
  return other && candidate ? { inode: other.inode, name: candidate.ifname } : undefined;
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
