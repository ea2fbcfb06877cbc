// From what the kernel reports (topology.snapshot) to what the graph draws: the machine's root
// namespace, each bridge, each container's namespace, and one link per veth pair (the host end on
// its bridge, the peer inside the container). Nothing here is the agent's intention: a veth whose
// peer cannot be found is still drawn, ending at the bridge, so a broken pair is visible.
import type { Topology, TopologyNamespace } from '../../../../shared/networks.js';

export type GraphNodeKind = 'machine' | 'bridge' | 'container';

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
}

export interface GraphEdge {
  id: string;
  kind: 'bridge' | 'veth';
  source: string;
  target: string;
  /** veth: the host end (on the bridge) and the container end (`eth0`). */
  hostEnd?: string;
  peerEnd?: string;
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

  const networkByBridge = new Map(topology.networks.map((network) => [network.bridge, network]));
  const bridges = machine.links.filter((link) => link.kind === 'bridge');
  for (const bridge of bridges) {
    const network = networkByBridge.get(bridge.name);
    nodes.push({
      id: `br:${bridge.name}`,
      kind: 'bridge',
      label: bridge.name,
      addresses: addressesOf(machine, bridge.name),
      state: stateOf(bridge.state),
      ...(network ? { name: network.name, detail: network.subnet } : {}),
    });
    edges.push({ id: `e:machine:${bridge.name}`, kind: 'bridge', source: MACHINE_NODE, target: `br:${bridge.name}` });
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

  // The host ends: veths on a bridge. Their peer is found by the namespace inode the agent read,
  // else by the peer's ifindex/name among the container namespaces' links.
  for (const link of machine.links) {
    if (link.kind !== 'veth' || link.master === null || !bridgeNames.has(link.master)) continue;
    const peer = link.peer;
    let owner: TopologyNamespace | undefined;
    let peerName: string | undefined;
    if (peer) {
      owner =
        (peer.netns !== null ? containers.find((ns) => ns.inode === peer.netns) : undefined) ??
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
