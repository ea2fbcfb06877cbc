// A synthetic topology shaped exactly like topology.snapshot's answer: the machine's namespace with
// its uplink (eth0, the default route), `bridges` bridges with their outbound NAT and one veth per
// container, each container's namespace with its eth0 and address, a published port on the first
// two containers, and one namespace made by hand (`lab`, wired to the machine by a veth). Used by
// the model and layout tests, the window's screenshots and the frame-time benchmark (200
// containers on 5 bridges).
import type { Topology, TopologyNamespace } from '../../../../shared/networks.js';

/** The hand-made namespace's inode. */
const LAB_INODE = 4026539999;

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
      {
        ifindex: 2,
        name: 'eth0',
        kind: 'device',
        state: 'UP',
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        mac: '52:54:00:12:34:56',
        mtu: 1500,
        master: null,
        peer: null,
        stats: { rxBytes: 81_234_567, txBytes: 4_567_890 },
      },
      {
        ifindex: 3,
        name: 'veth-lab',
        kind: 'veth',
        state: 'UP',
        flags: ['UP'],
        mac: null,
        mtu: 1500,
        master: null,
        peer: { ifindex: 2, netnsid: 99, netns: LAB_INODE, name: 'veth-in' },
      },
    ],
    addresses: [{ ifindex: 2, ifname: 'eth0', family: 'inet', address: '192.168.1.20', prefixLength: 24, scope: 'global' }],
    routes: [
      { dst: 'default', gateway: '192.168.1.1', dev: 'eth0', protocol: 'dhcp', scope: null, prefsrc: null },
      { dst: '192.168.1.0/24', gateway: null, dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '192.168.1.20' },
    ],
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
      stats: { rxBytes: 1_200 * (index + 1), txBytes: 45_000 * (index + 1) },
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
  namespaces.push({
    inode: LAB_INODE,
    kind: 'named',
    name: 'lab',
    container: null,
    pid: null,
    links: [
      { ifindex: 1, name: 'lo', kind: 'loopback', state: 'UNKNOWN', flags: ['UP'], mac: null, mtu: 65536, master: null, peer: null },
      {
        ifindex: 2,
        name: 'veth-in',
        kind: 'veth',
        state: 'UP',
        flags: ['UP'],
        mac: null,
        mtu: 1500,
        master: null,
        peer: { ifindex: 3, netnsid: 0, netns: machine.inode, name: 'veth-lab' },
      },
    ],
    addresses: [{ ifindex: 2, ifname: 'veth-in', family: 'inet', address: '10.9.9.2', prefixLength: 24, scope: 'global' }],
    routes: [],
    error: null,
  });
  const nat = networks.map((network) => ({ network: network.name, bridge: network.bridge, subnet: network.subnet, present: true }));
  const ports = namespaces
    .filter((ns) => ns.kind === 'container')
    .slice(0, 2)
    .map((ns, index) => ({
      container: ns.container?.name ?? '',
      hostIp: '0.0.0.0',
      hostPort: 8080 + index,
      protocol: 'tcp' as const,
      ip: ns.addresses[0]?.address ?? '',
      containerPort: 80,
      present: true,
    }));
  return { at: new Date(0).toISOString(), namespaces, networks, nat, ports };
}
