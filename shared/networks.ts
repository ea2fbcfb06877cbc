// The networks contract: bridge networks and their addresses, what a container is attached to,
// the kernel's own view of the machine's links (topology) and the connectivity probe. IPv4
// parsing lives here so the CLI, the window and the agent refuse the same inputs with the same words.
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { ResourceName } from './names.js';

// ---- IPv4 and CIDR ------------------------------------------------------------------------------

export class AddressError extends Error {}

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

/** A dotted quad as an unsigned 32-bit number; leading zeros are refused (`010.0.0.1` is octal to some tools). */
export function parseIpv4(text: string): number {
  if (!IPV4.test(text)) throw new AddressError(`"${text}" is not an IPv4 address (e.g. 10.90.0.5)`);
  return text.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export interface Cidr {
  /** The network address as a number (host bits zero). */
  network: number;
  prefix: number;
}

/** Address blocks a bridge network may never use: they mean something else to every machine. */
const RESERVED_BLOCKS: Array<[string, string]> = [
  ['0.0.0.0/8', '"this network"'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
];

/** `10.90.0.0/24`: host bits must be zero and the block must leave room for a gateway and a container. */
export function parseCidr(text: string): Cidr {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match?.[1] || match[2] === undefined)
    throw new AddressError(`"${text}" is not a subnet: write it as ADDRESS/PREFIX, e.g. 10.90.0.0/24`);
  const address = parseIpv4(match[1]);
  const prefix = Number(match[2]);
  if (prefix < 8 || prefix > 29)
    throw new AddressError(`prefix /${prefix} is outside /8 to /29 (a network needs room for a gateway and containers)`);
  const network = address - (address % 2 ** (32 - prefix));
  if (network !== address) throw new AddressError(`"${text}" has host bits set: the network is ${formatIpv4(network)}/${prefix}`);
  const cidr = { network, prefix };
  for (const [block, what] of RESERVED_BLOCKS) {
    if (cidrsOverlap(cidr, parseCidrLoose(block))) throw new AddressError(`${text} overlaps ${block} (${what})`);
  }
  return cidr;
}

/** A route's destination as `ip -j route` prints it: `10.0.0.0/24`, a host `10.0.0.5`, or `default`. */
export function parseCidrLoose(text: string): Cidr {
  if (text === 'default') return { network: 0, prefix: 0 };
  const [address = '', prefixText] = text.split('/');
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  const value = parseIpv4(address);
  return { network: value - (value % 2 ** (32 - prefix)), prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function cidrContains(cidr: Cidr, address: number): boolean {
  return address >= cidr.network && address < cidr.network + cidrSize(cidr);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.network < b.network + cidrSize(b) && b.network < a.network + cidrSize(a);
}

/** True for an address a container or gateway may hold: inside the subnet, not its network or broadcast address. */
export function isHostAddress(cidr: Cidr, address: number): boolean {
  return cidrContains(cidr, address) && address !== cidr.network && address !== cidr.network + cidrSize(cidr) - 1;
}

// ---- schemas -----------------------------------------------------------------------------------

const issue = (ctx: z.RefinementCtx, error: unknown): void => {
  ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
};

/** `none` and `host` are words of `--network`, never names of networks. */
export const RESERVED_NETWORK_NAMES = ['none', 'host'] as const;
export const NetworkName = ResourceName.refine((name) => !(RESERVED_NETWORK_NAMES as readonly string[]).includes(name), {
  message: `is reserved (${RESERVED_NETWORK_NAMES.join(', ')})`,
});
/** A network by name, full id, or an id prefix of at least 4 hex digits. */
export const NetworkSelector = lazySchema(() => z.string().min(1).max(128));
/** The same rule as ContainerSelector (shared/containers.ts imports this file, so it cannot be imported here). */
const ContainerRef = lazySchema(() => z.string().min(1).max(128));
/**
 * More names a container answers to on one network, besides its name and hostname (Docker's
 * network-scoped aliases: compose gives each container its service name). They are written into
 * hosts files, so no whitespace: letters, digits, `_`, `.`, `-` (compose's service names).
 */
export const NetworkAliases = lazySchema(() =>
  z
    .array(
      z
        .string()
        .max(128)
        .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'must be letters, digits, _, . and - (starting with a letter or digit)'),
    )
    .max(64),
);

export const Ipv4Address = lazySchema(() =>
  z
    .string()
    .max(15, 'is not an IPv4 address')
    .superRefine((text, ctx) => {
      if (!isIpv4(text)) issue(ctx, new AddressError(`"${text}" is not an IPv4 address (e.g. 10.90.0.5)`));
    }),
);

export const Subnet = lazySchema(() =>
  z
    .string()
    .max(18, 'is not a subnet')
    .superRefine((text, ctx) => {
      try {
        parseCidr(text);
      } catch (error) {
        issue(ctx, error);
      }
    }),
);

export const NetworkId = lazySchema(() => z.string().regex(/^[a-f0-9]{64}$/));

export const NetworkSummary = lazySchema(() =>
  z.strictObject({
    id: NetworkId,
    name: z.string().max(63),
    driver: z.literal('bridge'),
    /** The bridge device on the machine (`onggi0`, `ogb` + 12 hex). */
    bridge: z.string().max(15),
    subnet: z.string(),
    gateway: z.string(),
    /** The network containers join when they name none. */
    isDefault: z.boolean(),
    createdAt: z.string().max(64),
    /** Containers attached (any state). */
    containers: z.number().int().nonnegative(),
  }),
);
export type NetworkSummary = z.infer<typeof NetworkSummary>;

export const PublishedPort = lazySchema(() =>
  z.strictObject({
    hostIp: z.string(),
    hostPort: z.number().int().min(1).max(65535),
    containerPort: z.number().int().min(1).max(65535),
    protocol: z.enum(['tcp', 'udp']),
  }),
);
export type PublishedPort = z.infer<typeof PublishedPort>;

/** One container's link to one network, as the agent recorded it. */
export const NetworkAttachment = lazySchema(() =>
  z.strictObject({
    network: z.string().max(63),
    networkId: NetworkId,
    /** The interface inside the container (`eth0`, `eth1`, …). */
    interface: z.string().max(15),
    ip: z.string(),
    prefixLength: z.number().int().min(0).max(32),
    gateway: z.string(),
    mac: z.string().max(17),
    /** The veth's end on the machine, a port of the network's bridge. */
    hostVeth: z.string().max(15),
    /** Whether the veth pair exists now (the container is running). */
    active: z.boolean(),
    aliases: z.array(z.string()).optional(),
  }),
);
export type NetworkAttachment = z.infer<typeof NetworkAttachment>;

export const NetworkEndpoint = lazySchema(() =>
  z.strictObject({
    containerId: z.string(),
    containerName: z.string(),
    interface: z.string(),
    ip: z.string(),
    mac: z.string(),
    hostVeth: z.string(),
    active: z.boolean(),
  }),
);

export const NetworkDetail = lazySchema(() =>
  NetworkSummary.extend({
    endpoints: z.array(NetworkEndpoint),
    /** The packet filter the agent found (`iptables` or `nftables`) and the rules it keeps for this network. */
    firewall: z.strictObject({ backend: z.string(), rules: z.array(z.string()) }),
  }),
);
export type NetworkDetail = z.infer<typeof NetworkDetail>;

// ---- topology: what the kernel reports ---------------------------------------------------------

export const TopologyLink = lazySchema(() =>
  z.strictObject({
    ifindex: z.number().int(),
    name: z.string(),
    /** `bridge`, `veth`, `loopback`, `device` (hardware), or the kernel's kind for others (`dummy`, `vxlan`, …). */
    kind: z.string(),
    /** The kernel's operstate (`UP`, `DOWN`, `UNKNOWN`, `LOWERLAYERDOWN`). */
    state: z.string(),
    flags: z.array(z.string()),
    mac: z.string().nullable(),
    mtu: z.number().int().nullable(),
    /** The bridge this link is a port of. */
    master: z.string().nullable(),
    /** For a veth: its other end, and the namespace (by inode) it lives in when the agent could tell. */
    peer: z
      .strictObject({
        ifindex: z.number().int(),
        /** The peer's netns as this netns numbers it (`link_netnsid`); null when the peer is in the same netns. */
        netnsid: z.number().int().nullable(),
        netns: z.number().int().nullable(),
        name: z.string().nullable(),
      })
      .nullable(),
    /** The kernel's byte counters (`ip -s`), read for the machine's own links (a veth's host end carries its container's traffic). */
    stats: z.strictObject({ rxBytes: z.number().int().nonnegative(), txBytes: z.number().int().nonnegative() }).nullable().optional(),
  }),
);
export type TopologyLink = z.infer<typeof TopologyLink>;

export const TopologyAddress = lazySchema(() =>
  z.strictObject({
    ifindex: z.number().int(),
    ifname: z.string(),
    family: z.string(),
    address: z.string(),
    prefixLength: z.number().int(),
    scope: z.string(),
  }),
);

export const TopologyRoute = lazySchema(() =>
  z.strictObject({
    dst: z.string(),
    gateway: z.string().nullable(),
    dev: z.string().nullable(),
    protocol: z.string().nullable(),
    scope: z.string().nullable(),
    prefsrc: z.string().nullable(),
  }),
);

export const TopologyNamespace = lazySchema(() =>
  z.strictObject({
    /** The netns inode (`readlink /proc/PID/ns/net`). */
    inode: z.number().int(),
    /** `named`: a namespace under /run/netns that is not one of our containers' (made by hand, or by another tool). */
    kind: z.enum(['machine', 'container', 'named']),
    /** Its name under /run/netns (`ip netns list`), when it has one. */
    name: z.string().nullable().optional(),
    container: z.strictObject({ id: z.string(), name: z.string() }).nullable(),
    pid: z.number().int().nullable(),
    links: z.array(TopologyLink),
    addresses: z.array(TopologyAddress),
    routes: z.array(TopologyRoute),
    /** Set when the namespace vanished or could not be read while the snapshot was taken. */
    error: z.string().nullable(),
  }),
);
export type TopologyNamespace = z.infer<typeof TopologyNamespace>;

/**
 * A packet filter rule on a packet's path, as the agent wants it and whether the kernel has it now
 * (found by the rule's `onggi:` comment among the rules the packet filter lists): a missing rule
 * is drawn as a broken path, not hidden.
 */
export const TopologyNat = lazySchema(() =>
  z.strictObject({ network: z.string(), bridge: z.string(), subnet: z.string(), present: z.boolean() }),
);
export const TopologyPort = lazySchema(() =>
  z.strictObject({
    container: z.string(),
    hostIp: z.string(),
    hostPort: z.number().int(),
    protocol: z.enum(['tcp', 'udp']),
    ip: z.string(),
    containerPort: z.number().int(),
    present: z.boolean(),
  }),
);
export type TopologyPort = z.infer<typeof TopologyPort>;

export const Topology = lazySchema(() =>
  z.strictObject({
    at: z.string(),
    namespaces: z.array(TopologyNamespace),
    networks: z.array(z.strictObject({ id: NetworkId, name: z.string(), bridge: z.string(), subnet: z.string(), gateway: z.string() })),
    /** Outbound NAT (MASQUERADE) of each network's subnet to the machine's other links. */
    nat: z.array(TopologyNat).optional(),
    /** Published ports: the machine's address and port DNAT'd to a container's. */
    ports: z.array(TopologyPort).optional(),
  }),
);
export type Topology = z.infer<typeof Topology>;

export const TopologyCounters = lazySchema(() =>
  z.strictObject({
    at: z.string(),
    links: z.array(z.strictObject({ name: z.string(), rxBytes: z.number().int().nonnegative(), txBytes: z.number().int().nonnegative() })),
  }),
);
export type TopologyCounters = z.infer<typeof TopologyCounters>;

export const TopologyChangedEvent = lazySchema(() =>
  z.strictObject({
    type: z.literal('topology.changed'),
    at: z.string(),
    /** What the agent did (`network.create`, `container.start`, …) or `kernel` for a change it only observed. */
    reason: z.string().max(128),
  }),
);

// ---- probe -------------------------------------------------------------------------------------

export const ProbeParams = lazySchema(() =>
  z
    .strictObject({
      from: ContainerRef,
      /** A container (by name or id) or an IPv4 address. */
      to: z.string().min(1).max(128),
      kind: z.enum(['ping', 'tcp']).optional(),
      port: z.number().int().min(1).max(65535).optional(),
      timeoutMs: z.number().int().min(100).max(5000).optional(),
    })
    .refine((p) => p.kind !== 'tcp' || p.port !== undefined, { message: 'a tcp probe needs a port', path: ['port'] }),
);

export const ProbeResult = lazySchema(() =>
  z.strictObject({
    ok: z.boolean(),
    kind: z.enum(['ping', 'tcp']),
    from: z.string(),
    to: z.string(),
    /** The address actually probed (a container's address on a network both share, when there is one). */
    address: z.string(),
    port: z.number().int().nullable(),
    latencyMs: z.number().nonnegative().nullable(),
    error: z.string().nullable(),
    /** The command that ran in the source container's network namespace. */
    command: z.array(z.string()),
  }),
);
export type ProbeResult = z.infer<typeof ProbeResult>;

const NetRef = lazySchema(() => z.strictObject({ network: NetworkSelector }));

export const networkMethods = {
  'networks.create': {
    params: lazySchema(() => z.strictObject({ name: NetworkName, subnet: Subnet.optional(), gateway: Ipv4Address.optional() })),
    result: NetworkSummary,
  },
  'networks.list': { params: lazySchema(() => z.strictObject({}).optional()), result: lazySchema(() => z.array(NetworkSummary)) },
  'networks.inspect': { params: NetRef, result: NetworkDetail },
  'networks.remove': { params: NetRef, result: lazySchema(() => z.strictObject({ id: NetworkId })) },
  'networks.connect': {
    params: lazySchema(() =>
      z.strictObject({
        network: NetworkSelector,
        container: ContainerRef,
        ip: Ipv4Address.optional(),
        aliases: NetworkAliases.optional(),
      }),
    ),
    result: NetworkAttachment,
  },
  'networks.disconnect': {
    params: lazySchema(() => z.strictObject({ network: NetworkSelector, container: ContainerRef })),
    result: lazySchema(() => z.strictObject({ network: z.string(), container: z.string() })),
  },
  'networks.probe': { params: ProbeParams, result: ProbeResult },
  'topology.snapshot': { params: lazySchema(() => z.strictObject({}).optional()), result: Topology },
  /** The machine namespace's links' byte counters alone: what the graph refreshes every 2 s while shown. */
  'topology.counters': { params: lazySchema(() => z.strictObject({}).optional()), result: TopologyCounters },
} as const;
