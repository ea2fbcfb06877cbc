// What the kernel says about a network namespace, read from iproute2's JSON output (`ip -j`):
// never parsed from the human-readable text, which changes between versions.
import { readFile, readlink } from 'node:fs/promises';
import { z } from 'zod';
import { inNetns, parseJsonSequence, readCommand } from './commands.js';

const IpAddrInfo = z.looseObject({
  family: z.string(),
  local: z.string(),
  prefixlen: z.number().int(),
  scope: z.string().optional(),
});

export const IpLink = z.looseObject({
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
  addr_info: z.array(IpAddrInfo).optional(),
});
export type IpLink = z.infer<typeof IpLink>;

export const IpRoute = z.looseObject({
  dst: z.string(),
  gateway: z.string().optional(),
  dev: z.string().optional(),
  protocol: z.string().optional(),
  scope: z.string().optional(),
  prefsrc: z.string().optional(),
});
export type IpRoute = z.infer<typeof IpRoute>;

export interface NetnsView {
  links: IpLink[];
  /** `ip -j addr`: the same links, each with its addr_info. */
  addrs: IpLink[];
  routes: IpRoute[];
}

/** Where to read: the agent's own netns, or a process's (a container's init). */
export type NetnsTarget = { pid?: number };

function prefix(target: NetnsTarget): string[] {
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
