// A synthetic topology shaped exactly like topology.snapshot's answer: the machine's namespace with
// `bridges` bridges and one veth per container, and each container's namespace with its eth0 and
// address. Used by the layout test and the frame-time benchmark (200 containers on 5 bridges).
import type { Topology, TopologyNamespace } from '../../../../shared/networks.js';

export function syntheticTopology(containers: number, bridges: number): Topology {
  const networks = Array.from({ length: bridges }, (_, index) => ({
    id: index.toString(16).padStart(64, 'a'),
    name: `net${index}`,
    bridge: `ogb${index.toString().padStart(12, '0')}`.slice(0, 15),
    subnet: `10.${90 + index}.0.0/16`,
    gateway: `10.${90 + index}.0.1`,
  }));
  const machine: TopologyNamespace = {
    inode: 4026531840,
    kind: 'machine',
    container: null,
    pid: 1,
    links: [
      {
        ifindex: 1,
        name: 'lo',
        kind: 'loopback',
        state: 'UNKNOWN',
        flags: ['LOOPBACK', 'UP'],
        mac: null,
        mtu: 65536,
        master: null,
        peer: null,
      },
    ],
    addresses: [],
    routes: [],
    error: null,
  };
  networks.forEach((network, index) => {
    machine.links.push({
      ifindex: 10 + index,
      name: network.bridge,
      kind: 'bridge',
      state: 'UP',
      flags: ['UP'],
      mac: '02:42:00:00:00:01',
      mtu: 1500,
      master: null,
      peer: null,
    });
    machine.addresses.push({
      ifindex: 10 + index,
      ifname: network.bridge,
      family: 'inet',
      address: network.gateway,
      prefixLength: 16,
      scope: 'global',
    });
  });
  const namespaces: TopologyNamespace[] = [machine];
  for (let index = 0; index < containers; index++) {
    const network = networks[index % bridges];
    if (!network) break;
    const inode = 4026532000 + index;
    const hostIfindex = 1000 + index;
    const hostVeth = `ogv${index.toString(16).padStart(8, '0')}`;
    machine.links.push({
      ifindex: hostIfindex,
      name: hostVeth,
      kind: 'veth',
      state: 'UP',
      flags: ['UP'],
      mac: null,
      mtu: 1500,
      master: network.bridge,
      peer: { ifindex: 2, netnsid: index, netns: inode, name: 'eth0' },
    });
    const host = Math.floor(index / bridges) + 2;
    const address = `10.${network.subnet.split('.')[1]}.${Math.floor(host / 256)}.${host % 256}`;
    namespaces.push({
      inode,
      kind: 'container',
      container: { id: index.toString(16).padStart(64, '0'), name: `c${index}` },
      pid: 5000 + index,
      links: [
        { ifindex: 1, name: 'lo', kind: 'loopback', state: 'UNKNOWN', flags: ['UP'], mac: null, mtu: 65536, master: null, peer: null },
        {
          ifindex: 2,
          name: 'eth0',
          kind: 'veth',
          state: 'UP',
          flags: ['UP'],
          mac: null,
          mtu: 1500,
          master: null,
          peer: { ifindex: hostIfindex, netnsid: 0, netns: machine.inode, name: hostVeth },
        },
      ],
      addresses: [{ ifindex: 2, ifname: 'eth0', family: 'inet', address, prefixLength: 16, scope: 'global' }],
      routes: [],
      error: null,
    });
  }
  return { at: new Date(0).toISOString(), namespaces, networks };
}
