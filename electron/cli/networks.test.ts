// Issue 4 end to end, as a user drives it: the `onggi` CLI and a real agent daemon, both inside a
// network namespace the test made (see netns-lab.ts), so every bridge, veth, NAT and filter rule
// lives there; a second netns stands for the outside world. Real kernel, real traffic.
import { spawn, spawnSync } from 'node:child_process';
import { watch } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatActivity } from '../../shared/activity-format.js';
import type { ActivityEntry } from '../../shared/agent-rpc.js';
import type { ContainerDetail, ContainerSummary } from '../../shared/containers.js';
import type { NetworkDetail, NetworkSummary, ProbeResult, Topology } from '../../shared/networks.js';
import { LineSplitter } from '../../shared/ndjson.js';
import { fieldsOfErrors } from '../../build/testing/agent-client.js';
import { isolatedAgent } from '../../build/testing/isolated-agent.js';
import { IMAGE, MACHINE_IP, OUTSIDE_IP, countKernel, createLab, type CliResult, type NetnsLab } from '../../build/testing/netns-lab.js';

/** A UDP responder on port 53 that answers with its eth0 address and what it got. */
const UDP_ECHO = `
const socket = require('node:dgram').createSocket('udp4');
const eth0 = require('node:os').networkInterfaces().eth0.find((a) => a.family === 'IPv4').address;
socket.on('message', (message, from) => socket.send(eth0 + ' got ' + message, from.port, from.address));
socket.bind(53, () => console.log('up'));
`;
/** Sends one datagram (argv: host port text) and prints the reply; fails after 2 s without one. */
const UDP_ASK = `
const [host, port, text] = process.argv.slice(1);
const socket = require('node:dgram').createSocket('udp4');
setTimeout(() => { process.stderr.write('no reply'); process.exit(1); }, 2000).unref();
socket.on('message', (reply) => { process.stdout.write(String(reply)); process.exit(0); });
socket.send(text, Number(port), host);
`;

/** Namespaces, bridges and packet filters need root: the suite says so instead of failing. */
const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function out(result: CliResult): string {
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.err}`);
  return result.out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Retries a check that depends on a server in a container coming up. */
async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(50);
  }
  return check();
}

interface Link {
  ifindex: number;
  ifname: string;
  address?: string;
  mtu?: number;
  master?: string;
  operstate?: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

interface Route {
  dst: string;
  gateway?: string;
  dev?: string;
}

/** `ip -j` run by the test itself, not by the agent. */
function ipJson(prefix: string[], what: 'link' | 'addr'): Link[];
function ipJson(prefix: string[], what: 'route'): Route[];
function ipJson(prefix: string[], what: 'link' | 'addr' | 'route'): Link[] | Route[] {
  const result = spawnSync(prefix[0] ?? 'ip', [...prefix.slice(1), 'ip', '-j', what, 'show'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip -j ${what} show failed: ${result.stderr}`);
  return JSON.parse(result.stdout || '[]') as Link[] | Route[];
}

describe.skipIf(!isRoot)('onggi networks, end to end (in a netns of the test’s own)', { timeout: 120_000 }, () => {
  let lab: NetnsLab;
  const onggi = (...args: string[]) => lab.onggi(...args);
  const inspect = (container: string) => JSON.parse(out(onggi('inspect', container))) as ContainerDetail;
  const exec = (container: string, ...command: string[]) => onggi('exec', container, ...command);
  const probe = (...args: string[]) => JSON.parse(onggi('probe', '--json', ...args).out) as ProbeResult;
  /** The activity log as the CLI and the window print it (`ip …`, `echo V > FILE`). */
  const activityOf = (...filter: string[]) =>
    (JSON.parse(out(onggi('activity', ...filter, '--json'))) as ActivityEntry[]).map(formatActivity);

  /** Every namespace of a snapshot equals what `ip -j`, run by the test, reports there now. */
  const expectKernelTopology = (topology: Topology) => {
    // Named namespaces: only the lab's own (another test's may come and go while this one reads).
    for (const ns of topology.namespaces.filter((n) => n.kind !== 'named' || n.name === lab.outside)) {
      const file =
        ns.kind === 'machine' ? `/run/netns/${lab.machine}` : ns.kind === 'named' ? `/run/netns/${ns.name}` : `/proc/${ns.pid}/ns/net`;
      const prefix = ['nsenter', `--net=${file}`];
      // The namespace's inode, read independently: the netns file's own inode.
      const inode = Number(spawnSync('stat', ['-L', '-c', '%i', file], { encoding: 'utf8' }).stdout);
      expect(ns.inode).toBe(inode);
      const links = ipJson(prefix, 'link');
      const view = (l: { ifindex: number; name: string; mac: string | null; mtu: number | null; master: string | null; state: string }) => [
        l.ifindex,
        l.name,
        l.mac,
        l.mtu,
        l.master,
        l.state,
      ];
      expect(ns.links.map(view)).toEqual(
        links.map((l) =>
          view({
            ifindex: l.ifindex,
            name: l.ifname,
            mac: l.address ?? null,
            mtu: l.mtu ?? null,
            master: l.master ?? null,
            state: l.operstate ?? 'UNKNOWN',
          }),
        ),
      );
      const addrs = ipJson(prefix, 'addr').flatMap((l) => (l.addr_info ?? []).map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`));
      expect(ns.addresses.map((a) => `${a.ifname} ${a.address}/${a.prefixLength}`)).toEqual(addrs);
      const routes = ipJson(prefix, 'route').map((r) => `${r.dst} via ${r.gateway ?? '-'} dev ${r.dev ?? '-'}`);
      expect(ns.routes.map((r) => `${r.dst} via ${r.gateway ?? '-'} dev ${r.dev ?? '-'}`)).toEqual(routes);
      expect(ns.error).toBeNull();
    }
  };

  beforeAll(async () => {
    lab = await createLab({ forwardPolicyDrop: true });
  }, 120_000);
  afterAll(async () => {
    await lab?.cleanup();
  });

  it('refuses invalid CIDRs, overlapping subnets, ports in use and bad names, naming the field', async () => {
    const refused = (args: string[], field: string, words?: string) => {
      const result = onggi(...args);
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.err).toContain(field);
      if (words) expect(result.err).toContain(words);
    };
    refused(['network', 'create', 'bad/name'], 'params.name');
    refused(['network', 'create', 'none'], 'params.name', 'reserved');
    refused(['network', 'create', 'x1', '--subnet', '10.0.0.0/33'], 'params.subnet');
    refused(['network', 'create', 'x2', '--subnet', '10.1.2.3/24'], 'params.subnet', 'host bits');
    refused(['network', 'create', 'x3', '--subnet', '300.1.0.0/16'], 'params.subnet', 'not an IPv4 address');
    refused(['network', 'create', 'x4', '--subnet', '127.0.0.0/16'], 'params.subnet', 'loopback');
    expect(out(onggi('network', 'create', 'alpha', '--subnet', '10.91.0.0/24'))).toMatch(/^[0-9a-f]{64}\n$/);
    refused(['network', 'create', 'alpha'], 'params.name', 'already exists');
    refused(['network', 'create', 'beta', '--subnet', '10.91.0.0/16'], 'params.subnet', 'overlaps network "alpha"');
    refused(['network', 'create', 'gamma', '--subnet', '198.18.0.0/16'], 'params.subnet', "overlaps the machine's route 198.18.0.0/24");
    refused(['network', 'create', 'delta', '--subnet', '10.92.0.0/24', '--gateway', '10.93.0.1'], 'params.gateway');
    refused(['run', '-d', '--network', 'nosuch', IMAGE, 'true'], 'params.networks[0]', 'no network "nosuch"');
    refused(['run', '-d', '--network', 'host', IMAGE, 'true'], 'params.networks[0]', 'reserved');
    refused(['run', '-d', '--network', 'alpha', '--ip', '10.92.0.5', IMAGE, 'true'], 'params.ip', 'not a usable address');
    refused(['run', '-d', '--network', 'alpha', '--ip', '10.91.0.1', IMAGE, 'true'], 'params.ip', 'already in use');
    refused(['run', '-d', '-p', '99999:80', IMAGE, 'true'], 'params.ports[0]');
    refused(['run', '-d', '--network', 'none', '-p', '8080:80', IMAGE, 'true'], 'params.ports[0]', 'needs a network');

    // A port something on the machine listens on, and one another container publishes.
    const listener = spawn('nsenter', [
      `--net=/run/netns/${lab.machine}`,
      process.execPath,
      '-e',
      "require('net').createServer().listen(18081, () => console.log('up'))",
    ]);
    try {
      await new Promise((resolve) => listener.stdout.once('data', resolve));
      refused(['run', '-d', '-p', '18081:80', IMAGE, 'sleep', '100'], 'params.ports[0]', 'already in use on the machine');
    } finally {
      listener.kill('SIGKILL');
    }
    out(onggi('run', '-d', '--name', 'pc1', '-p', '18082:80', IMAGE, 'sleep', '1000'));
    refused(['run', '-d', '-p', '127.0.0.1:18082:8080', IMAGE, 'sleep', '100'], 'params.ports[0]', 'already published by container pc1');

    // Remove is refused while a container is attached; the default network is never removed.
    out(onggi('run', '-d', '--name', 'ra', '--network', 'alpha', IMAGE, 'sleep', '1000'));
    refused(['network', 'rm', 'alpha'], 'params.network', 'containers attached (ra)');
    refused(['network', 'rm', 'onggi'], 'params.network', 'default network');
    out(onggi('rm', '-f', 'ra', 'pc1'));
    out(onggi('network', 'rm', 'alpha'));
    // Nothing a refused run created is left: no container, no address taken.
    expect(JSON.parse(out(onggi('ps', '-a', '--json')))).toEqual([]);
    const networks = JSON.parse(out(onggi('network', 'ls', '--json'))) as NetworkSummary[];
    expect(networks.map((n) => [n.name, n.bridge, n.subnet, n.isDefault])).toEqual([['onggi', 'onggi0', '10.77.0.0/16', true]]);
  });

  it('lets two containers on one user network reach each other by address and by name', () => {
    out(onggi('network', 'create', 'web', '--subnet', '10.90.0.0/24'));
    const a = out(onggi('run', '-d', '--name', 'a', '--network', 'web', IMAGE, 'sleep', '1000')).trim();
    out(onggi('run', '-d', '--name', 'b', '--network', 'web', '--network-alias', 'db', '--ip', '10.90.0.50', IMAGE, 'sleep', '1000'));
    const first = inspect('a').networks?.[0];
    expect(first).toMatchObject({
      network: 'web',
      interface: 'eth0',
      ip: '10.90.0.2',
      prefixLength: 24,
      gateway: '10.90.0.1',
      active: true,
    });
    expect(first?.hostVeth).toBe(`ogv${a.slice(0, 11)}0`);
    expect(inspect('b').networks?.[0]?.ip).toBe('10.90.0.50');

    expect(exec('a', 'ping', '-c', '1', '-W', '1', '10.90.0.50').code).toBe(0);
    expect(exec('a', 'ping', '-c', '1', '-W', '1', 'b').code).toBe(0);
    expect(exec('b', 'ping', '-c', '1', '-W', '1', 'a').code).toBe(0);
    expect(out(exec('a', 'ping', '-c', '1', '-W', '1', 'db'))).toContain('10.90.0.50'); // b's --network-alias
    expect(out(exec('b', 'cat', '/etc/hosts'))).toMatch(/^10\.90\.0\.2\ta /m);
    // a's file, bound by the init helper before b existed, follows the agent's in-place rewrite.
    expect(out(exec('a', 'cat', '/etc/hosts'))).toMatch(/^10\.90\.0\.50\tb /m);
    // Inside: eth0 with the address, lo up, the default route via the bridge.
    expect(out(exec('a', 'ip', '-4', 'addr', 'show', 'eth0'))).toContain('inet 10.90.0.2/24');
    expect(out(exec('a', 'ip', 'route'))).toContain('default via 10.90.0.1 dev eth0');
    expect(out(exec('a', 'ping', '-c', '1', '-W', '1', '127.0.0.1'))).toContain('1 packets received');

    const ping = probe('a', 'b');
    expect(ping).toMatchObject({ ok: true, kind: 'ping', address: '10.90.0.50' });
    expect(ping.latencyMs).toBeGreaterThan(0);
    // The activity log has the seeds' commands, literally.
    const activity = activityOf('--container', 'a');
    const pid = inspect('a').pid;
    const bridge = (JSON.parse(out(onggi('network', 'inspect', 'web'))) as NetworkDetail).bridge;
    expect(bridge).toMatch(/^ogb[0-9a-f]{12}$/);
    // The container end is made in the container's netns under its final name: no move, no rename.
    expect(activity).toContain(`ip link add ogv${a.slice(0, 11)}0 type veth peer name eth0 netns ${pid} address 0a:58:0a:5a:00:02`);
    expect(activity).toContain(`ip link set ogv${a.slice(0, 11)}0 master ${bridge} up`);
    expect(activity).toContain(`nsenter --net=/proc/${pid}/ns/net ip link set eth0 up`);
    expect(activity).toContain(`nsenter --net=/proc/${pid}/ns/net ip addr add 10.90.0.2/24 dev eth0`);
    expect(activity).toContain(`nsenter --net=/proc/${pid}/ns/net ip route add default via 10.90.0.1`);
    // /etc/hosts is bound by the init helper as it sets up the root: no process mounts it afterwards.
    expect(activity.filter((line) => line.includes('mount --bind'))).toEqual([]);
    // And the network's own steps, filed under it: bridge, address, sysctl writes, NAT rule.
    const steps = activityOf('--network', 'web');
    expect(steps).toContain(`ip link add ${bridge} type bridge`);
    expect(steps).toContain(`ip addr add 10.90.0.1/24 dev ${bridge}`);
    expect(steps).toContain(`ip link set ${bridge} up`);
    expect(steps).toContain(`echo 1 > /proc/sys/net/ipv4/conf/${bridge}/route_localnet`);
    expect(steps).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^iptables -w -t nat -A ONGGI-POSTROUTING '!' -o ${bridge} -s 10\\.90\\.0\\.0/24 -m comment --comment onggi:web:[0-9a-f]{10} -j MASQUERADE$`,
        ),
      ),
    );
    expect(steps).toContainEqual(
      expect.stringMatching(
        new RegExp(`^iptables -w -t filter -A ONGGI-ACCEPT -i ${bridge} -m comment --comment onggi:web:[0-9a-f]{10} -j ACCEPT$`),
      ),
    );
  });

  it('keeps containers on two different networks apart, while both reach the outside through NAT', async () => {
    out(onggi('network', 'create', 'db', '--subnet', '10.89.0.0/24'));
    out(onggi('run', '-d', '--name', 'c', '--network', 'db', IMAGE, 'sleep', '1000'));
    expect(probe('c', 'a')).toMatchObject({ ok: false, address: '10.90.0.2' });
    expect(probe('a', 'c')).toMatchObject({ ok: false, address: '10.89.0.2' });
    expect(exec('c', 'ping', '-c', '1', '-W', '1', '10.90.0.2').code).not.toBe(0);
    expect(exec('c', 'ping', '-c', '1', '-W', '1', 'a').code).not.toBe(0); // no name either

    // The outside has no route back to the containers: only masquerading can make this work.
    expect(lab.inOutside(['ip', 'route']).out).not.toMatch(/10\.(89|90)\./);
    const server = spawn('nsenter', [
      `--net=/run/netns/${lab.outside}`,
      process.execPath,
      '-e',
      "require('net').createServer((s) => s.end(s.remoteAddress + '\\n')).listen(9000, '0.0.0.0', () => console.log('up'))",
    ]);
    try {
      await new Promise((resolve) => server.stdout.once('data', resolve));
      for (const container of ['a', 'c']) {
        expect(exec(container, 'ping', '-c', '1', '-W', '1', OUTSIDE_IP).code).toBe(0);
        // The outside sees the machine's address, not the container's.
        expect(out(exec(container, 'nc', '-w', '2', OUTSIDE_IP, '9000'))).toBe(`${MACHINE_IP}\n`);
      }
    } finally {
      server.kill('SIGKILL');
    }
    // The machine's FORWARD policy (DROP, as Docker leaves it) was worked with, not changed.
    expect(lab.inMachine(['iptables', '-w', '-S', 'FORWARD']).out).toContain('-P FORWARD DROP');
  });

  it('publishes -p 18080:80 on the machine’s loopback and on its other address, to itself and to the outside', async () => {
    out(onggi('run', '-d', '--name', 'site', '-p', '18080:80', '-p', '127.0.0.1:18083:80', IMAGE, 'httpd', '-f', '-p', '80', '-h', '/www'));
    const get = (where: 'machine' | 'outside', url: string) => lab.httpGet(where, url);
    expect(await eventually(() => get('machine', 'http://127.0.0.1:18080/').out === 'hello from onggi\n')).toBe(true);
    expect(get('machine', `http://${MACHINE_IP}:18080/`).out).toBe('hello from onggi\n');
    expect(get('outside', `http://${MACHINE_IP}:18080/`).out).toBe('hello from onggi\n');
    // Published on loopback only: the machine reaches it, the outside does not.
    expect(get('machine', 'http://127.0.0.1:18083/').out).toBe('hello from onggi\n');
    expect(get('outside', `http://${MACHINE_IP}:18083/`).code).not.toBe(0);
    // What the host app needs to forward ports to the desktop.
    const site = (JSON.parse(out(onggi('ps', '--json'))) as ContainerSummary[]).find((c) => c.name === 'site');
    expect(site?.ports).toEqual([
      { hostIp: '0.0.0.0', hostPort: 18080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '127.0.0.1', hostPort: 18083, containerPort: 80, protocol: 'tcp' },
    ]);
    expect(inspect('site').networks?.[0]).toMatchObject({ network: 'onggi', interface: 'eth0', ip: '10.77.0.2' });
    expect(activityOf('--container', 'site')).toContainEqual(
      expect.stringMatching(
        /^iptables -w -t nat -A ONGGI-PORTS -p tcp --dport 18080 -m comment --comment onggi:site:[0-9a-f]{10} -j DNAT --to-destination 10\.77\.0\.2:80$/,
      ),
    );
    const tcp = probe('a', 'site', '--tcp', '80');
    expect(tcp).toMatchObject({ ok: false }); // another network: isolated even on the open port
    expect(probe('c', MACHINE_IP, '--tcp', '18080')).toMatchObject({ ok: true }); // but published is public
  });

  it('publishes a UDP port (-p 18053:53/udp) to the machine and the outside', async () => {
    out(onggi('run', '-d', '--name', 'udp', '-p', '18053:53/udp', IMAGE, 'sleep', '1000'));
    const { pid, networks } = inspect('udp');
    // busybox's nc has no UDP: the test's own Node answers inside the container's netns (the DNAT target).
    const responder = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', UDP_ECHO]);
    try {
      await new Promise((resolve) => responder.stdout.once('data', resolve));
      const ask = (where: 'machine' | 'outside', host: string) =>
        (where === 'machine' ? lab.inMachine : lab.inOutside)([process.execPath, '-e', UDP_ASK, host, '18053', 'hello']);
      const address = networks?.[0]?.ip;
      expect(out(ask('machine', '127.0.0.1'))).toBe(`${address} got hello`);
      expect(out(ask('machine', MACHINE_IP))).toBe(`${address} got hello`);
      expect(out(ask('outside', MACHINE_IP))).toBe(`${address} got hello`);
    } finally {
      responder.kill('SIGKILL');
      out(onggi('rm', '-f', 'udp'));
    }
  });

  it('reports the topology as the kernel does, namespace by namespace, and says when it changed', async () => {
    const topology = JSON.parse(out(onggi('topology', '--json'))) as Topology;
    const machine = topology.namespaces.find((ns) => ns.kind === 'machine');
    expect(machine).toBeDefined();
    expect(
      topology.namespaces
        .filter((ns) => ns.kind === 'container')
        .map((ns) => ns.container?.name)
        .sort(),
    ).toEqual(['a', 'b', 'c', 'site']);
    expectKernelTopology(topology);
    // Each container's eth0 is the peer of a host veth on its network's bridge, across namespaces.
    const web = JSON.parse(out(onggi('network', 'inspect', 'web'))) as NetworkDetail;
    for (const ns of topology.namespaces.filter((n) => n.container?.name === 'a' || n.container?.name === 'b')) {
      const eth0 = ns.links.find((l) => l.name === 'eth0');
      expect(eth0?.kind).toBe('veth');
      expect(eth0?.peer?.netns).toBe(machine?.inode);
      const hostEnd = machine?.links.find((l) => l.ifindex === eth0?.peer?.ifindex);
      expect(hostEnd).toMatchObject({ kind: 'veth', master: web.bridge, peer: { name: 'eth0', netns: ns.inode, ifindex: eth0?.ifindex } });
    }
    expect(machine?.links.find((l) => l.name === web.bridge)?.kind).toBe('bridge');
    expect(machine?.links.find((l) => l.name === 'lo')?.kind).toBe('loopback');

    // The rest of a packet's path. The namespace made by hand (the lab's "outside", wired to the
    // machine by vm0 ↔ vo0) is there by its /run/netns name, its veth matched to the machine's.
    const outside = topology.namespaces.find((ns) => ns.kind === 'named' && ns.name === lab.outside);
    expect(outside).toBeDefined();
    expect(machine?.links.find((l) => l.name === 'vm0')?.peer).toMatchObject({ netns: outside?.inode, name: 'vo0' });
    // Each network's outbound NAT and each published port, as rules the packet filter has now.
    expect(topology.nat?.find((nat) => nat.network === 'web')).toMatchObject({ bridge: web.bridge, subnet: web.subnet, present: true });
    const site = inspect('site');
    for (const port of site.ports ?? []) {
      expect(topology.ports).toContainEqual(expect.objectContaining({ container: 'site', hostPort: port.hostPort, present: true }));
    }
    expect(site.ports?.length).toBeGreaterThan(0);
    // The machine's links' counters are the kernel's: between two reads of /proc/net/dev by the test.
    const rxOf = () => {
      const line = out(lab.inMachine(['cat', '/proc/net/dev']))
        .split('\n')
        .find((l) => l.trim().startsWith('vm0:'));
      return Number(line?.split(':')[1]?.trim().split(/\s+/)[0]);
    };
    const before = rxOf();
    const counted = (JSON.parse(out(onggi('topology', '--json'))) as Topology).namespaces
      .find((ns) => ns.kind === 'machine')
      ?.links.find((l) => l.name === 'vm0')?.stats?.rxBytes;
    expect(counted).toBeGreaterThanOrEqual(before);
    expect(counted).toBeLessThanOrEqual(rxOf());

    // A MASQUERADE rule deleted by hand is reported missing (the graph draws that NAT broken), and back once restored.
    const masquerade = out(lab.inMachine(['iptables', '-w', '-t', 'nat', '-S', 'ONGGI-POSTROUTING']))
      .split('\n')
      .find((line) => line.includes(`-s ${web.subnet}`) && line.includes('MASQUERADE'));
    expect(masquerade).toBeDefined();
    const ruleArgs =
      (masquerade ?? '')
        .replace(/^-A /, '')
        .match(/"[^"]*"|\S+/g)
        ?.map((a) => a.replace(/^"|"$/g, '')) ?? [];
    out(lab.inMachine(['iptables', '-w', '-t', 'nat', '-D', ...ruleArgs]));
    try {
      const now = JSON.parse(out(onggi('topology', '--json'))) as Topology;
      expect(now.nat?.find((nat) => nat.network === 'web')?.present).toBe(false);
    } finally {
      out(lab.inMachine(['iptables', '-w', '-t', 'nat', '-A', ...ruleArgs]));
    }
    expect((JSON.parse(out(onggi('topology', '--json'))) as Topology).nat?.find((nat) => nat.network === 'web')?.present).toBe(true);

    // topology.changed reaches a subscriber after a change.
    const socket = createConnection(lab.sandbox.socketPath);
    const splitter = new LineSplitter();
    const events: Array<{ method?: string; params?: { type?: string; reason?: string } }> = [];
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of splitter.push(chunk)) events.push(JSON.parse(line) as (typeof events)[number]);
    });
    socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'events.subscribe', params: { topics: ['topology.changed'] } })}\n`);
    await eventually(() => events.length > 0, 2000);
    out(onggi('network', 'create', 'eventful', '--subnet', '10.87.0.0/24'));
    expect(await eventually(() => events.some((e) => e.params?.type === 'topology.changed'), 3000)).toBe(true);
    socket.destroy();
    out(onggi('network', 'rm', 'eventful'));
  });

  it('sees a change made inside a container’s namespace behind the agent’s back (the snapshot reuses nothing stale)', async () => {
    const topology = () => JSON.parse(out(onggi('topology', '--json'))) as Topology;
    const pid = inspect('a').pid;
    if (!pid) throw new Error('container a is not running');
    const ip = (...args: string[]) => {
      const run = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', ...args], { encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`ip ${args.join(' ')}: ${run.stderr}`);
    };
    const inA = (t: Topology) => t.namespaces.find((ns) => ns.container?.name === 'a');
    expectKernelTopology(topology());
    expectKernelTopology(topology()); // the second one may come from the agent's cache: still the kernel's
    try {
      // A veth pair (this kernel has no dummy links), both ends in the container's namespace.
      ip('link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1');
      let now = topology();
      expectKernelTopology(now);
      expect(inA(now)?.links.find((l) => l.name === 'probe0')?.state).toBe('DOWN');
      ip('addr', 'add', '10.250.7.1/24', 'dev', 'probe0');
      ip('link', 'set', 'probe1', 'up');
      ip('link', 'set', 'probe0', 'up');
      // The kernel settles the operstate a moment after `up`: compare once it has.
      const state = () => ipJson(['nsenter', `--net=/proc/${pid}/ns/net`], 'link').find((l) => l.ifname === 'probe0')?.operstate;
      expect(await eventually(() => state() === 'UP')).toBe(true);
      now = topology();
      expectKernelTopology(now);
      expect(inA(now)?.links.find((l) => l.name === 'probe0')?.state).toBe('UP');
      expect(inA(now)?.addresses.map((a) => `${a.ifname} ${a.address}/${a.prefixLength}`)).toContain('probe0 10.250.7.1/24');
      expect(inA(now)?.routes.map((r) => r.dst)).toContain('10.250.7.0/24');
      ip('route', 'add', '10.250.8.0/24', 'via', '10.250.7.2');
      now = topology();
      expectKernelTopology(now);
      expect(inA(now)?.routes.find((r) => r.dst === '10.250.8.0/24')?.gateway).toBe('10.250.7.2');
      ip('link', 'set', 'probe0', 'mtu', '1400');
      now = topology();
      expectKernelTopology(now);
      expect(inA(now)?.links.find((l) => l.name === 'probe0')?.mtu).toBe(1400);
    } finally {
      spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', 'link', 'del', 'probe0']);
    }
    const after = topology();
    expectKernelTopology(after);
    expect(inA(after)?.links.map((l) => l.name)).not.toContain('probe0');
    expect(inA(after)?.links.map((l) => l.name)).not.toContain('probe1');
  });

  it('answers a malformed or impossible request to every network method with an error naming the field', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['networks.create', { name: 'x/y' }, 'params.name'],
      ['networks.create', { name: 'host' }, 'params.name'],
      ['networks.create', { name: 'ok1', subnet: '10.0.0.1/24' }, 'params.subnet'],
      ['networks.create', { name: 'ok2', subnet: '10.90.0.0/25' }, 'params.subnet'],
      ['networks.create', { name: 'ok3', gateway: '10.1.2' }, 'params.gateway'],
      ['networks.create', { name: 'ok4', driver: 'macvlan' }, 'params.driver'],
      ['networks.list', { all: true }, 'params.all'],
      ['networks.inspect', {}, 'params.network'],
      ['networks.inspect', { network: 'nosuch' }, 'params.network'],
      ['networks.remove', { network: 5 }, 'params.network'],
      ['networks.remove', { network: 'web' }, 'params.network'],
      ['networks.connect', { network: 'web', container: 'a', ip: '10.90.0.300' }, 'params.ip'],
      ['networks.connect', { network: 'web', container: 'a' }, 'params.network'],
      ['networks.connect', { network: 'db', container: 'nosuch' }, 'params.container'],
      ['networks.connect', { network: 'db', container: 'a', ip: '10.90.0.9' }, 'params.ip'],
      ['networks.disconnect', { network: 'web' }, 'params.container'],
      ['networks.disconnect', { network: 'db', container: 'a' }, 'params.network'],
      ['networks.probe', { from: 'a', to: 'b', kind: 'tcp' }, 'params.port'],
      ['networks.probe', { from: 'a', to: 'b', timeoutMs: 60_000 }, 'params.timeoutMs'],
      ['networks.probe', { from: 'nosuch', to: 'b' }, 'params.from'],
      ['networks.probe', { from: 'a', to: 'nosuch' }, 'params.to'],
      ['topology.snapshot', { deep: true }, 'params.deep'],
      ['containers.create', { image: IMAGE, networks: ['web'], ip: '10.90.0.2' }, 'params.ip'],
      ['containers.create', { image: IMAGE, ports: ['1:2:3:4'] }, 'params.ports[0]'],
      ['containers.create', { image: IMAGE, ports: ['18080:80'] }, 'params.ports[0]'],
    ];
    const fields = await fieldsOfErrors(
      lab.sandbox.socketPath,
      cases.map(([method, params]) => [method, params]),
    );
    expect(cases.map(([method, params, field]) => ({ method, params, field }))).toEqual(
      cases.map(([method, params], id) => ({ method, params, field: fields[id] })),
    );
    // Nothing of the refused requests was kept.
    expect((JSON.parse(out(onggi('network', 'ls', '--json'))) as NetworkSummary[]).map((n) => n.name).sort()).toEqual([
      'db',
      'onggi',
      'web',
    ]);
    expect((JSON.parse(out(onggi('ps', '-a', '--json'))) as ContainerSummary[]).map((c) => c.name).sort()).toEqual(['a', 'b', 'c', 'site']);
  });

  it('leaves alone what another agent in the same netns made: one that never made a network reaps nothing', async () => {
    const before = countKernel(lab);
    expect(before.bridges).toBeGreaterThan(0);
    // A second agent, as every other test suite starts them (ONGGI_DEFAULT_NETWORK=none), sharing our netns.
    const neighbour = await isolatedAgent();
    try {
      expect(JSON.parse(out(lab.onggiWith(neighbour.env, 'network', 'ls', '--json')))).toEqual([]);
      expect(await neighbour.daemonPid()).toBeDefined();
      expect(countKernel(lab)).toEqual(before);
      expect(probe('a', 'b')).toMatchObject({ ok: true });
    } finally {
      await neighbour.cleanup();
    }
  });

  it('gives 20 concurrent runs 20 distinct addresses', async () => {
    out(onggi('network', 'create', 'many', '--subnet', '10.86.0.0/24'));
    const runs = await Promise.all(
      Array.from({ length: 20 }, () => lab.onggiAsync('run', '-d', '--network', 'many', IMAGE, 'sleep', '1000')),
    );
    expect(runs.map((r) => r.code)).toEqual(Array(20).fill(0));
    const endpoints = (JSON.parse(out(onggi('network', 'inspect', 'many'))) as NetworkDetail).endpoints;
    expect(endpoints).toHaveLength(20);
    expect(new Set(endpoints.map((e) => e.ip)).size).toBe(20);
    // And the kernel agrees: each container's eth0 holds the address it was given.
    const topology = JSON.parse(out(onggi('topology', '--json'))) as Topology;
    for (const endpoint of endpoints) {
      const ns = topology.namespaces.find((n) => n.container?.id === endpoint.containerId);
      expect(ns?.addresses.find((a) => a.ifname === 'eth0' && a.family === 'inet')?.address).toBe(endpoint.ip);
    }
    const removals = await Promise.all(runs.map((r) => lab.onggiAsync('rm', '-f', r.out.trim())));
    expect(removals.map((r) => r.code)).toEqual(Array(20).fill(0));
    expect((JSON.parse(out(onggi('network', 'inspect', 'many'))) as NetworkDetail).endpoints).toEqual([]);
    out(onggi('network', 'rm', 'many'));
  }, 120_000);

  it('gives a published port to one of two containers started at once; the other’s start names the holder', async () => {
    // Both pass the check at create (neither runs yet): the claim at start decides, under the agent's lock.
    out(onggi('create', '--name', 'pp1', '-p', '18096:80', IMAGE, 'sleep', '1000'));
    out(onggi('create', '--name', 'pp2', '-p', '18096:80', IMAGE, 'sleep', '1000'));
    const starts = await Promise.all(['pp1', 'pp2'].map((name) => lab.onggiAsync('start', name)));
    expect(starts.filter((s) => s.code === 0)).toHaveLength(1);
    expect(starts.find((s) => s.code !== 0)?.err).toMatch(
      /failed to start: port 0\.0\.0\.0:18096\/tcp is already published by container pp[12]/,
    );
    const portRules = () =>
      lab
        .inMachine(['iptables', '-w', '-t', 'nat', '-S', 'ONGGI-PORTS'])
        .out.split('\n')
        .filter((line) => line.includes('--dport 18096'));
    // The winner's rule only: the loser's claim left none behind.
    expect(portRules()).toHaveLength(1);
    out(onggi('rm', '-f', 'pp1', 'pp2'));
    expect(portRules()).toEqual([]);
  }, 60_000);

  it('leaves no veth, bridge or rule behind once containers and networks are removed', () => {
    const before = countKernel(lab);
    out(onggi('network', 'create', 'tmpnet', '--subnet', '10.85.0.0/24'));
    out(onggi('run', '-d', '--name', 't1', '--network', 'tmpnet', '-p', '18090:80', IMAGE, 'sleep', '1000'));
    out(onggi('run', '-d', '--name', 't2', '--network', 'tmpnet', '--network', 'db', '-p', '18091:80/udp', IMAGE, 'sleep', '1000'));
    out(onggi('network', 'connect', 'web', 't1'));
    expect(out(exec('t1', 'ip', '-o', 'link'))).toMatch(/eth1/);
    const during = countKernel(lab);
    expect(during.veths).toBe(before.veths + 4);
    expect(during.bridges).toBe(before.bridges + 1);
    expect(during.rules).toBeGreaterThan(before.rules);
    out(onggi('network', 'disconnect', 'web', 't1'));
    expect(out(exec('t1', 'ip', '-o', 'link'))).not.toMatch(/eth1/);
    out(onggi('rm', '-f', 't1', 't2'));
    out(onggi('network', 'rm', 'tmpnet'));
    expect(countKernel(lab)).toEqual(before);
    const rules = ['filter', 'nat'].map((t) => lab.inMachine(['iptables', '-w', '-t', t, '-S']).out).join('');
    expect(rules).not.toMatch(/onggi:(tmpnet|t1|t2):/);
  });

  it('leaves nothing a restart does not reap when the daemon is killed with -9 in the middle of connects', async () => {
    out(onggi('network', 'create', 'late', '--subnet', '10.84.0.0/24'));
    out(onggi('run', '-d', '--name', 'd', IMAGE, 'sleep', '1000'));
    const statePath = join(lab.sandbox.stateDir, 'networks');
    // What every round must come back to: the same veths, bridges and rules, and d keeping its address.
    const baseline = countKernel(lab);
    const address = inspect('d').networks?.[0]?.ip;
    expect(address).toMatch(/^10\.77\.0\.\d+$/);
    const cut: boolean[] = [];
    for (const delayMs of [0, 2, 4, 8, 16, 32]) {
      const pid = await lab.sandbox.daemonPid();
      expect(pid).toBeDefined();
      // Kill once the connect has been recorded (the state file changed), at a different point each round.
      const recorded = new Promise<void>((resolve) => {
        const watcher = watch(statePath, () => {
          watcher.close();
          resolve();
        });
      });
      const connect = lab.onggiAsync('network', 'connect', 'late', 'd');
      await Promise.race([recorded, connect]);
      await sleep(delayMs);
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
      while (pid !== undefined && alive(pid)) await sleep(5);
      cut.push((await connect).code !== 0);

      // The next command starts a fresh daemon (in the lab's netns), which reconciles.
      const d = inspect('d');
      const machineLinks = ipJson(['nsenter', `--net=/run/netns/${lab.machine}`], 'link').map((l) => l.ifname);
      const containerLinks = ipJson(['nsenter', `--net=/proc/${d.pid}/ns/net`], 'link').map((l) => l.ifname);
      expect(machineLinks.filter((name) => name.startsWith('ogc'))).toEqual([]);
      const expectedVeths = (d.networks ?? [])
        .filter((n) => n.active)
        .map((n) => n.hostVeth)
        .sort();
      const late = (JSON.parse(out(onggi('network', 'inspect', 'late'))) as NetworkDetail).endpoints;
      if (late.length > 0) {
        // Completed before the kill: whole, in the records and in the kernel.
        expect(late).toMatchObject([{ containerName: 'd', interface: 'eth1', active: true }]);
        expect(containerLinks.sort()).toEqual(['eth0', 'eth1', 'lo']);
        out(onggi('network', 'disconnect', 'late', 'd'));
      } else {
        // Rolled back: no address held, no interface half made.
        expect(containerLinks.sort()).toEqual(['eth0', 'lo']);
      }
      // Exactly the veths the records describe: none half made, none orphaned.
      expect(machineLinks.filter((name) => name.startsWith(`ogv${d.id.slice(0, 11)}`)).sort()).toEqual(expectedVeths);
      // The restarted daemon recognized its rules (none doubled, none lost) and kept d's address.
      expect(countKernel(lab)).toEqual(baseline);
      expect(inspect('d').networks?.[0]?.ip).toBe(address);
    }
    expect(cut.some(Boolean)).toBe(true);
    out(onggi('rm', '-f', 'd'));
    out(onggi('network', 'rm', 'late'));
  }, 150_000);

  it('cleans up: every container and user network removed, only the default bridge remains', () => {
    out(onggi('rm', '-f', 'a', 'b', 'c', 'site'));
    out(onggi('network', 'rm', 'web', 'db'));
    const links = ipJson(['nsenter', `--net=/run/netns/${lab.machine}`], 'link').map((l) => l.ifname);
    expect(links.sort()).toEqual(['lo', 'onggi0', 'vm0']);
    const rules = ['filter', 'nat'].map((t) => lab.inMachine(['iptables', '-w', '-t', t, '-S']).out).join('');
    const owners = new Set([...rules.matchAll(/onggi:([^:"\s]+):[0-9a-f]{10}/g)].map((m) => m[1]));
    expect([...owners]).toEqual(['onggi']);
  });
});

describe.skipIf(!isRoot)('onggi networks with the nftables backend', { timeout: 120_000 }, () => {
  let lab: NetnsLab;
  beforeAll(async () => {
    lab = await createLab({ firewall: 'nftables' });
  }, 120_000);
  afterAll(async () => {
    await lab?.cleanup();
  });

  it('publishes a port, NATs to the outside, isolates networks, and removes its table with the last network', async () => {
    const onggi = (...args: string[]) => lab.onggi(...args);
    out(onggi('run', '-d', '--name', 'site', '-p', '18080:80', IMAGE, 'httpd', '-f', '-p', '80', '-h', '/www'));
    const get = (url: string) => lab.httpGet('outside', url);
    expect(await eventually(() => lab.httpGet('machine', 'http://127.0.0.1:18080/').out === 'hello from onggi\n')).toBe(true);
    expect(get(`http://${MACHINE_IP}:18080/`).out).toBe('hello from onggi\n');
    expect(onggi('exec', 'site', 'ping', '-c', '1', '-W', '1', OUTSIDE_IP).code).toBe(0);
    out(onggi('network', 'create', 'other', '--subnet', '10.90.0.0/24'));
    out(onggi('run', '-d', '--name', 'o', '--network', 'other', IMAGE, 'sleep', '1000'));
    expect(onggi('exec', 'o', 'ping', '-c', '1', '-W', '1', '10.77.0.2').code).not.toBe(0);
    const table = lab.inMachine(['nft', 'list', 'table', 'ip', 'onggi']).out;
    expect(table).toContain('dnat to 10.77.0.2:80');
    expect(table).toContain('masquerade');
    // iptables was left alone.
    expect(lab.inMachine(['iptables', '-w', '-S']).out).not.toContain('ONGGI');
    out(onggi('rm', '-f', 'site', 'o'));
    out(onggi('network', 'rm', 'other'));
    // The user network's rules and the published port's DNAT went; the default network's stay (its bridge does).
    const after = lab.inMachine(['nft', 'list', 'table', 'ip', 'onggi']).out;
    expect(after).not.toContain('dnat to');
    expect(after).not.toMatch(/onggi:(other|site|o):/);
    expect(after).toMatch(/onggi:onggi:/);
  });
});
