// From what the kernel reports (topology.snapshot) to what the graph draws: the whole path of a
// packet. The machine's uplink (the link of its default route) with its address, the machine's
// root namespace, each bridge with its outbound NAT, each container's namespace, one link per veth
// pair (the host end on its bridge, the peer inside the container), published ports as entry
// points (`0.0.0.0:8080 → site:80/tcp`), and the namespaces and veths made by hand on the machine,
// marked as not Onggi's. Nothing here is the agent's intention: a veth whose peer cannot be found
// is still drawn, ending at the bridge, and a NAT or port rule the packet filter lacks is drawn
// broken, so what does not work is visible.
import type { Topology, TopologyNamespace } from '../../../../shared/networks.js';

export type GraphNodeKind = 'uplink' | 'machine' | 'bridge' | 'container' | 'port' | 'named';

export interface GraphNode {
  id: string;
  kind: GraphNodeKind;
  label: string;
  /** Addresses with their prefix (`10.88.0.1/24`), and the interface they are on. */
  addresses: Array<{ ifname: string; cidr: string }>;
  /** `up`, `down` or `unknown`, from the kernel's operstate. */
  state: 'up' | 'down' | 'unknown';
  /** For containers: the container's name (probe target); for bridges: the network's name. */
  name?: string;
  detail?: string;
  /** Made by hand or by another tool, not by Onggi (a bridge no network of ours uses, a named namespace). */
  foreign?: boolean;
}

export interface GraphEdge {
  id: string;
  /** uplink: uplink → machine; bridge: machine → bridge (with its NAT); port: machine → entry point; dnat: entry point → container. */
  kind: 'uplink' | 'bridge' | 'veth' | 'port' | 'dnat';
  source: string;
  target: string;
  /** veth: the host end (on the bridge) and the container end (`eth0`). */
  hostEnd?: string;
  peerEnd?: string;
  /** bridge: the subnet's outbound NAT (MASQUERADE) to the uplink, when the network has one. */
  nat?: { subnet: string; uplink: string | null; present: boolean };
  /** port, dnat: whether the packet filter has the rule now (false: drawn broken). */
  present?: boolean;
  foreign?: boolean;
}

export interface GraphModel {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const MACHINE_NODE = 'ns:machine';

function stateOf(operstate: string): GraphNode['state'] {
  if (operstate === 'UP') return 'up';
  if (operstate === 'DOWN' || operstate === 'LOWERLAYERDOWN') return 'down';
  return 'unknown';
}

function addressesOf(ns: TopologyNamespace, ifname?: string): GraphNode['addresses'] {
  return ns.addresses
    .filter((address) => address.family === 'inet' && address.scope !== 'host' && (ifname === undefined || address.ifname === ifname))
    .map((address) => ({ ifname: address.ifname, cidr: `${address.address}/${address.prefixLength}` }));
}

export function containerNodeId(ns: TopologyNamespace): string {
  return `ns:${ns.inode}`;
}

/** The machine's way out: the device of its default route (the first, when several). */
export function uplinkOf(machine: TopologyNamespace): string | null {
  return machine.routes.find((route) => route.dst === 'default' && route.dev !== null)?.dev ?? null;
}

export function buildGraph(topology: Topology): GraphModel {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const machine = topology.namespaces.find((ns) => ns.kind === 'machine');
  nodes.push({
    id: MACHINE_NODE,
    kind: 'machine',
    label: 'machine',
    addresses: [],
    state: 'up',
    ...(machine ? { detail: `netns ${machine.inode}` } : {}),
  });
  if (!machine) return { nodes, edges };

  const uplink = uplinkOf(machine);
  const uplinkLink = machine.links.find((link) => link.name === uplink);
  if (uplink !== null) {
    const gateway = machine.routes.find((route) => route.dst === 'default' && route.dev === uplink)?.gateway ?? null;
    nodes.push({
      id: `up:${uplink}`,
      kind: 'uplink',
      label: uplink,
      addresses: addressesOf(machine, uplink),
      state: uplinkLink ? stateOf(uplinkLink.state) : 'unknown',
      ...(gateway ? { detail: `via ${gateway}` } : {}),
    });
    edges.push({ id: `e:uplink:${uplink}`, kind: 'uplink', source: `up:${uplink}`, target: MACHINE_NODE });
  }

  const networkByBridge = new Map(topology.networks.map((network) => [network.bridge, network]));
  const natByBridge = new Map((topology.nat ?? []).map((nat) => [nat.bridge, nat]));
  const bridges = machine.links.filter((link) => link.kind === 'bridge');
  for (const bridge of bridges) {
    const network = networkByBridge.get(bridge.name);
    const nat = natByBridge.get(bridge.name);
    nodes.push({
      id: `br:${bridge.name}`,
      kind: 'bridge',
      label: bridge.name,
      addresses: addressesOf(machine, bridge.name),
      state: stateOf(bridge.state),
      ...(network ? { name: network.name, detail: network.subnet } : { foreign: true }),
    });
    edges.push({
      id: `e:machine:${bridge.name}`,
      kind: 'bridge',
      source: MACHINE_NODE,
      target: `br:${bridge.name}`,
      ...(nat ? { nat: { subnet: nat.subnet, uplink, present: nat.present } } : {}),
      ...(network ? {} : { foreign: true }),
    });
  }
  const bridgeNames = new Set(bridges.map((bridge) => bridge.name));

  const containers = topology.namespaces.filter((ns) => ns.kind === 'container');
  for (const ns of containers) {
    const eth = ns.links.filter((link) => link.kind === 'veth');
    nodes.push({
      id: containerNodeId(ns),
      kind: 'container',
      label: ns.container?.name ?? `netns ${ns.inode}`,
      addresses: addressesOf(ns),
      state: ns.error ? 'down' : eth.some((link) => stateOf(link.state) === 'down') ? 'down' : eth.length > 0 ? 'up' : 'unknown',
      ...(ns.container ? { name: ns.container.name } : {}),
      detail: ns.error ?? `netns ${ns.inode}`,
    });
  }

  // Namespaces named under /run/netns that are not our containers': made by hand (the seeds' labs).
  const named = topology.namespaces.filter((ns) => ns.kind === 'named');
  for (const ns of named) {
    nodes.push({
      id: containerNodeId(ns),
      kind: 'named',
      label: ns.name ?? `netns ${ns.inode}`,
      addresses: addressesOf(ns),
      state: ns.error ? 'down' : 'unknown',
      detail: ns.error ?? `netns ${ns.inode}`,
      foreign: true,
    });
  }
  // Veths between two namespaces that are not the machine's (hand-made pairs, or a container
  // wired to a hand-made namespace): one edge per pair, drawn from the side listed first.
  const drawnPairs = new Set<string>();
  for (const ns of [...named, ...containers]) {
    for (const link of ns.links) {
      const peerNs = link.kind === 'veth' ? link.peer?.netns : null;
      if (peerNs === null || peerNs === undefined || peerNs === machine.inode || peerNs === ns.inode) continue;
      const other = topology.namespaces.find((candidate) => candidate.inode === peerNs);
      if (!other || (ns.kind === 'container' && other.kind === 'container')) continue;
      const key = [`${ns.inode}:${link.ifindex}`, `${peerNs}:${link.peer?.ifindex ?? -1}`].sort().join('|');
      if (drawnPairs.has(key)) continue;
      drawnPairs.add(key);
      edges.push({
        id: `e:${ns.inode}:${link.name}`,
        kind: 'veth',
        source: containerNodeId(ns),
        target: containerNodeId(other),
        hostEnd: link.name,
        ...(link.peer?.name ? { peerEnd: link.peer.name } : {}),
        foreign: true,
      });
    }
  }

  // Published ports: the machine's address and port, DNAT'd to the container's (`0.0.0.0:8080 → site:80/tcp`).
  const byContainerName = new Map(containers.flatMap((ns) => (ns.container ? [[ns.container.name, ns] as const] : [])));
  for (const port of topology.ports ?? []) {
    const id = `port:${port.hostIp}:${port.hostPort}/${port.protocol}`;
    const owner = byContainerName.get(port.container);
    nodes.push({
      id,
      kind: 'port',
      label: `${port.hostIp}:${port.hostPort}/${port.protocol}`,
      addresses: [],
      state: port.present ? 'up' : 'down',
      name: port.container,
      detail: `→ ${port.container}:${port.containerPort}/${port.protocol}`,
    });
    edges.push({ id: `e:${id}:in`, kind: 'port', source: MACHINE_NODE, target: id, present: port.present });
    if (owner) edges.push({ id: `e:${id}:dnat`, kind: 'dnat', source: id, target: containerNodeId(owner), present: port.present });
  }

  // The host ends: veths in the machine's namespace. Their peer is found by the namespace inode
  // the agent read, else by the peer's ifindex/name among the container namespaces' links. One on
  // a bridge of ours goes from that bridge; any other (made by hand) from its bridge or the machine.
  const ends = [...containers, ...named];
  for (const link of machine.links) {
    if (link.kind !== 'veth') continue;
    if (link.master === null || !bridgeNames.has(link.master)) {
      const peerNs = link.peer?.netns;
      const other = ends.find((ns) => ns.inode === peerNs);
      if (!other) continue; // its other end is in a namespace nobody named: nothing to draw it to
      edges.push({
        id: `e:${link.name}`,
        kind: 'veth',
        source: MACHINE_NODE,
        target: containerNodeId(other),
        hostEnd: link.name,
        ...(link.peer?.name ? { peerEnd: link.peer.name } : {}),
        foreign: true,
      });
      continue;
    }
    const peer = link.peer;
    let owner: TopologyNamespace | undefined;
    let peerName: string | undefined;
    if (peer) {
      owner =
        (peer.netns !== null ? ends.find((ns) => ns.inode === peer.netns) : undefined) ??
        containers.find((ns) => ns.links.some((candidate) => candidate.kind === 'veth' && candidate.peer?.name === link.name));
      const inside = owner?.links.find(
        (candidate) => candidate.ifindex === peer.ifindex || (candidate.peer?.ifindex === link.ifindex && candidate.kind === 'veth'),
      );
      peerName = inside?.name ?? peer.name ?? undefined;
    }
    edges.push({
      id: `e:${link.name}`,
      kind: 'veth',
      source: `br:${link.master}`,
      target: owner ? containerNodeId(owner) : `br:${link.master}`,
      hostEnd: link.name,
      ...(peerName ? { peerEnd: peerName } : {}),
      ...(owner?.kind === 'named' || !networkByBridge.has(link.master) ? { foreign: true } : {}),
    });
  }
  return { nodes, edges };
}

/** The veth edges between a container and its bridges: the path a probe between two containers takes. */
export function probePath(model: GraphModel, from: string, to: string): string[] {
  const vethOf = (node: string) => model.edges.filter((edge) => edge.kind === 'veth' && edge.target === node);
  const a = vethOf(from);
  const b = vethOf(to);
  const shared = a.filter((edge) => b.some((other) => other.source === edge.source));
  if (shared.length > 0) {
    const bridge = shared[0]?.source;
    return [...a, ...b].filter((edge) => edge.source === bridge).map((edge) => edge.id);
  }
  return [...a, ...b].map((edge) => edge.id);
}
