// What the kernel says about a network namespace, read from iproute2's JSON output (`ip -j`):
// never parsed from the human-readable text, which changes between versions.
import { readFile, readlink } from 'node:fs/promises';
import * as z from 'zod';
import { lazySchema } from '../../../shared/lazy-schema.js';
import { inNetns, parseJsonSequence, readCommand } from './commands.js';

const IpAddrInfo = lazySchema(() =>
  z.looseObject({
    family: z.string(),
    local: z.string(),
    prefixlen: z.number().int(),
    scope: z.string().optional(),
  }),
);

export const IpLink = lazySchema(() =>
  z.looseObject({
    ifindex: z.number().int(),
    ifname: z.string(),
    flags: z.array(z.string()).default([]),
    mtu: z.number().int().optional(),
    operstate: z.string().optional(),
    link_type: z.string().optional(),
    address: z.string().optional(),
    master: z.string().optional(),
    /** The peer's ifindex, for veths (and the lower device for vlans and the like). */
    link_index: z.number().int().optional(),
    /** Present when the peer lives in another netns: that netns's id as this one numbers it. */
    link_netnsid: z.number().int().optional(),
    linkinfo: z.looseObject({ info_kind: z.string().optional() }).optional(),
    /** With `ip -s`: the link's counters. */
    stats64: z.looseObject({ rx: z.looseObject({ bytes: z.number() }), tx: z.looseObject({ bytes: z.number() }) }).optional(),
    addr_info: z.array(IpAddrInfo).optional(),
  }),
);
export type IpLink = z.infer<typeof IpLink>;

export const IpRoute = lazySchema(() =>
  z.looseObject({
    dst: z.string(),
    gateway: z.string().optional(),
    dev: z.string().optional(),
    protocol: z.string().optional(),
    scope: z.string().optional(),
    prefsrc: z.string().optional(),
  }),
);
export type IpRoute = z.infer<typeof IpRoute>;

export interface NetnsView {
  links: IpLink[];
  /** `ip -j addr`: the same links, each with its addr_info. */
  addrs: IpLink[];
  routes: IpRoute[];
}

/** Where to read: the agent's own netns, a process's (a container's init), or a namespace file (`/run/netns/NAME`). */
export type NetnsTarget = { pid?: number; path?: string };

function prefix(target: NetnsTarget): string[] {
  if (target.path !== undefined) return ['nsenter', `--net=${target.path}`];
  return target.pid === undefined ? [] : inNetns(target.pid);
}

/** Links, addresses and main-table routes in one `ip -batch` (one process per namespace). */
export async function readNetns(target: NetnsTarget = {}): Promise<NetnsView> {
  const out = await readCommand([...prefix(target), 'ip', '-j', '-d', '-batch', '-'], { input: 'link show\naddr show\nroute show\n' });
  const [links, addrs, routes] = parseJsonSequence(out);
  return {
    links: z.array(IpLink).parse(links ?? []),
    addrs: z.array(IpLink).parse(addrs ?? []),
    routes: z.array(IpRoute).parse(routes ?? []),
  };
}

export async function readLinks(target: NetnsTarget = {}): Promise<IpLink[]> {
  return z.array(IpLink).parse(JSON.parse((await readCommand([...prefix(target), 'ip', '-j', '-d', 'link', 'show'])) || '[]'));
}

/**
 * The names of the links in the agent's own netns, from /proc/self/net/dev (per-netns, like every
 * /proc/net file): the kernel's link list without spawning `ip`, for teardown's "what is left?".
 */
export async function linkNames(): Promise<Set<string>> {
  const text = await readFile('/proc/self/net/dev', 'utf8');
  const names = new Set<string>();
  for (const line of text.split('\n').slice(2)) {
    const name = line.split(':', 1)[0]?.trim();
    if (name) names.add(name);
  }
  return names;
}

/** The kind a person would call a link: the kernel's info_kind, else loopback or a hardware device. */
export function linkKind(link: IpLink): string {
  if (link.linkinfo?.info_kind) return link.linkinfo.info_kind;
  if (link.link_type === 'loopback') return 'loopback';
  if (link.link_type === 'none') return 'tun';
  return 'device';
}

/** The netns inode of a process (`net:[4026531840]` → 4026531840). */
export async function netnsInode(pid: number | 'self'): Promise<number | null> {
  // A process that is gone has no netns: null, which callers treat as such.
  const link = await readlink(`/proc/${pid}/ns/net`).catch(() => '');
  const match = /\[(\d+)\]$/.exec(link);
  return match?.[1] ? Number(match[1]) : null;
}

/**
 * The byte counters of the agent's own namespace's links, from /proc/self/net/dev (the namespace
 * of the reading process): no spawn, so the window can ask every 2 s while the graph is shown.
 */
export async function readLinkCounters(): Promise<Map<string, { rxBytes: number; txBytes: number }>> {
  const counters = new Map<string, { rxBytes: number; txBytes: number }>();
  // No procfs (or a kernel without it): no counters, which the window shows as none.
  const text = await readFile('/proc/self/net/dev', 'utf8').catch(() => '');
  // Two header lines, then `  name: rx_bytes rx_packets … (8 receive fields) tx_bytes …`.
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    const [rxBytes, txBytes] = [fields[0], fields[8]];
    if (rxBytes === undefined || txBytes === undefined || !Number.isSafeInteger(rxBytes) || !Number.isSafeInteger(txBytes)) continue;
    counters.set(line.slice(0, colon).trim(), { rxBytes, txBytes });
  }
  return counters;
}
