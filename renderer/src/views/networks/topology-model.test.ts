// The graph model draws the whole path of a packet from what topology.snapshot reports.
import { describe, expect, it } from 'vitest';
import type { Topology } from '../../../../shared/networks.js';
import { syntheticTopology } from './topology-fixture';
import { MACHINE_NODE, buildGraph } from './topology-model';

describe('the topology graph model', () => {
  const topology = syntheticTopology(4, 2);
  const model = buildGraph(topology);
  const node = (id: string) => model.nodes.find((candidate) => candidate.id === id);
  const edge = (id: string) => model.edges.find((candidate) => candidate.id === id);

  it('draws the uplink of the default route with its address and gateway, into the machine', () => {
    expect(node('up:eth0')).toMatchObject({
      kind: 'uplink',
      addresses: [{ ifname: 'eth0', cidr: '192.168.1.20/24' }],
      detail: 'via 192.168.1.1',
    });
    expect(edge('e:uplink:eth0')).toMatchObject({ source: 'up:eth0', target: MACHINE_NODE });
  });

  it('puts each network’s outbound NAT through the uplink on its bridge', () => {
    for (const network of topology.networks) {
      expect(edge(`e:machine:${network.bridge}`)?.nat).toEqual({ subnet: network.subnet, uplink: 'eth0', present: true });
    }
  });

  it('draws published ports as entry points DNAT’d to their container', () => {
    const c0 = topology.namespaces.find((ns) => ns.container?.name === 'c0');
    expect(node('port:0.0.0.0:8080/tcp')).toMatchObject({ kind: 'port', detail: '→ c0:80/tcp' });
    expect(edge('e:port:0.0.0.0:8080/tcp:in')).toMatchObject({ source: MACHINE_NODE, present: true });
    expect(edge('e:port:0.0.0.0:8080/tcp:dnat')).toMatchObject({ target: `ns:${c0?.inode}`, present: true });
  });

  it('shows a namespace and veth made by hand, marked as not Onggi’s', () => {
    const lab = topology.namespaces.find((ns) => ns.name === 'lab');
    expect(node(`ns:${lab?.inode}`)).toMatchObject({ kind: 'named', label: 'lab', foreign: true });
    expect(edge('e:veth-lab')).toMatchObject({ source: MACHINE_NODE, target: `ns:${lab?.inode}`, peerEnd: 'veth-in', foreign: true });
    // Ours are not marked.
    expect(model.edges.filter((candidate) => candidate.kind === 'veth' && !candidate.foreign)).toHaveLength(4);
  });

  it('marks a NAT or port rule the packet filter lacks as broken, rather than hiding it', () => {
    const broken: Topology = {
      ...topology,
      nat: topology.nat?.map((nat, index) => ({ ...nat, present: index !== 0 })),
      ports: topology.ports?.map((port) => ({ ...port, present: false })),
    };
    const model = buildGraph(broken);
    expect(model.edges.find((candidate) => candidate.id === `e:machine:${topology.networks[0]?.bridge}`)?.nat?.present).toBe(false);
    expect(model.edges.filter((candidate) => candidate.kind === 'dnat').every((candidate) => candidate.present === false)).toBe(true);
    expect(model.nodes.find((candidate) => candidate.id === 'port:0.0.0.0:8080/tcp')?.state).toBe('down');
  });

  it('draws a bridge no network of ours uses as not Onggi’s', () => {
    const machine = topology.namespaces[0];
    if (!machine) throw new Error('no machine');
    const withBridge: Topology = {
      ...topology,
      namespaces: [
        {
          ...machine,
          links: [
            ...machine.links,
            { ...machine.links[1], ifindex: 77, name: 'br-lab', kind: 'bridge', peer: null, master: null } as never,
          ],
        },
        ...topology.namespaces.slice(1),
      ],
    };
    expect(buildGraph(withBridge).nodes.find((candidate) => candidate.id === 'br:br-lab')).toMatchObject({ kind: 'bridge', foreign: true });
  });
});
