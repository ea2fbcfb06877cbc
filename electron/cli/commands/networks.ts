// Networks, the kernel's view of them, and connectivity checks: `onggi network …`, `onggi topology`, `onggi probe`.
import { Command, InvalidArgumentError } from 'commander';
import type { NetworkSummary, Topology } from '../../../shared/networks.js';
import { printJson, withSession } from '../session.js';

function port(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535)
    throw new InvalidArgumentError('must be a port from 1 to 65535');
  return Number(value);
}

function milliseconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number of milliseconds');
  return Number(value);
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return (
    rows
      .map((row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('   ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export function formatNetworkTable(networks: readonly NetworkSummary[]): string {
  return table([
    ['NETWORK ID', 'NAME', 'BRIDGE', 'SUBNET', 'GATEWAY', 'CONTAINERS'],
    ...networks.map((n) => [
      n.id.slice(0, 12),
      n.isDefault ? `${n.name} (default)` : n.name,
      n.bridge,
      n.subnet,
      n.gateway,
      String(n.containers),
    ]),
  ]);
}

/** The snapshot as a person reads it: each namespace, its links (with master and veth peer) and addresses. */
export function formatTopology(topology: Topology): string {
  const title = (ns: Topology['namespaces'][number]): string =>
    ns.container ? `container ${ns.container.name}` : ns.kind === 'named' ? `netns ${ns.name ?? ns.inode} (not Onggi's)` : 'machine';
  const names = new Map(topology.namespaces.map((ns) => [ns.inode, title(ns)]));
  const lines: string[] = [];
  for (const ns of topology.namespaces) {
    const named = ns.kind === 'container' && ns.name ? `  ip netns: ${ns.name}` : '';
    lines.push(
      `${ns.container ? `container ${ns.container.name} (pid ${ns.pid})` : title(ns)}  netns ${ns.inode}${named}${ns.error ? `  ! ${ns.error}` : ''}`,
    );
    for (const link of ns.links) {
      const addresses = ns.addresses
        .filter((a) => a.ifindex === link.ifindex && a.family === 'inet')
        .map((a) => `${a.address}/${a.prefixLength}`);
      const peer = link.peer
        ? `  peer ${link.peer.name ?? `if${link.peer.ifindex}`}${link.peer.netns !== null && link.peer.netns !== ns.inode ? ` in ${names.get(link.peer.netns) ?? `netns ${link.peer.netns}`}` : ''}`
        : '';
      lines.push(
        `  ${String(link.ifindex).padStart(3)}: ${link.name.padEnd(16)} ${link.kind.padEnd(8)} ${link.state.padEnd(8)}${link.master ? `  master ${link.master}` : ''}${peer}${addresses.length ? `  ${addresses.join(' ')}` : ''}`,
      );
    }
    for (const route of ns.routes)
      lines.push(`       route ${route.dst}${route.gateway ? ` via ${route.gateway}` : ''}${route.dev ? ` dev ${route.dev}` : ''}`);
  }
  // The packet filter's part of the path: a rule the kernel lacks is said, not hidden.
  const missing = (present: boolean) => (present ? '' : '  ! rule missing');
  for (const nat of topology.nat ?? []) lines.push(`nat ${nat.subnet} (${nat.network}, ${nat.bridge}) MASQUERADE${missing(nat.present)}`);
  for (const port of topology.ports ?? [])
    lines.push(
      `port ${port.hostIp}:${port.hostPort}/${port.protocol} -> ${port.container} ${port.ip}:${port.containerPort}${missing(port.present)}`,
    );
  return `${lines.join('\n')}\n`;
}

export function registerNetworkCommands(program: Command): void {
  const network = program.command('network').description('manage bridge networks on a machine');

  network
    .command('create')
    .description('create a bridge network')
    .argument('<name>')
    .option('--subnet <cidr>', 'IPv4 subnet, e.g. 10.90.0.0/24 (default: a free /24)')
    .option('--gateway <ip>', "the bridge's address in the subnet (default: its first address)")
    .action((name: string, options: { subnet?: string; gateway?: string }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const created = await api.call('networks.create', {
          machine,
          name,
          ...(options.subnet !== undefined ? { subnet: options.subnet } : {}),
          ...(options.gateway !== undefined ? { gateway: options.gateway } : {}),
        });
        process.stdout.write(`${created.id}\n`);
      }),
    );

  network
    .command('ls')
    .description('list networks')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const list = await api.call('networks.list', { machine });
        if (options.json) printJson(list);
        else process.stdout.write(formatNetworkTable(list));
      }),
    );

  network
    .command('inspect')
    .description("a network's record: subnet, gateway, attached containers, and its packet filter rules")
    .argument('<network>')
    .action((name: string, _options: unknown, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => printJson(await api.call('networks.inspect', { machine, network: name }))),
    );

  network
    .command('rm')
    .description('remove networks (refused while containers are attached)')
    .argument('<networks...>')
    .action((names: string[], _options: unknown, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        for (const name of names) {
          await api.call('networks.remove', { machine, network: name });
          process.stdout.write(`${name}\n`);
        }
      }),
    );

  network
    .command('connect')
    .description('attach a container to a network (at once when it runs, else at its next start)')
    .argument('<network>')
    .argument('<container>')
    .option('--ip <address>', 'a static address in the network')
    .action((name: string, container: string, options: { ip?: string }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const attachment = await api.call('networks.connect', {
          machine,
          network: name,
          container,
          ...(options.ip ? { ip: options.ip } : {}),
        });
        process.stdout.write(`${attachment.interface} ${attachment.ip}/${attachment.prefixLength}\n`);
      }),
    );

  network
    .command('disconnect')
    .description('detach a container from a network')
    .argument('<network>')
    .argument('<container>')
    .action((name: string, container: string, _options: unknown, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        await api.call('networks.disconnect', { machine, network: name, container });
      }),
    );

  program
    .command('topology')
    .description("the machine's network as the kernel reports it: namespaces, links, veth peers, addresses, routes")
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const topology = await api.call('topology.snapshot', { machine });
        if (options.json) printJson(topology);
        else process.stdout.write(formatTopology(topology));
      }),
    );

  program
    .command('probe')
    .description('test connectivity from inside a container: one ping, or a TCP connect with --tcp')
    .argument('<from>', 'the container to probe from')
    .argument('<to>', 'a container or an IPv4 address')
    .option('--tcp <port>', 'connect to this TCP port instead of pinging', port)
    .option('--timeout <ms>', 'give up after this long (100-5000)', milliseconds)
    .option('--json', 'print JSON')
    .action((from: string, to: string, options: { tcp?: number; timeout?: number; json?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const result = await api.call('networks.probe', {
          machine,
          from,
          to,
          kind: options.tcp === undefined ? 'ping' : 'tcp',
          ...(options.tcp !== undefined ? { port: options.tcp } : {}),
          ...(options.timeout !== undefined ? { timeoutMs: options.timeout } : {}),
        });
        if (options.json) printJson(result);
        else {
          const target = `${result.to}${result.to !== result.address ? ` (${result.address})` : ''}${result.port !== null ? `:${result.port}` : ''}`;
          process.stdout.write(
            result.ok
              ? `${result.kind} ${result.from} -> ${target}: ok${result.latencyMs !== null ? ` ${result.latencyMs} ms` : ''}\n`
              : `${result.kind} ${result.from} -> ${target}: failed: ${result.error ?? 'no answer'}\n`,
          );
        }
        if (!result.ok) process.exitCode = 1;
      }),
    );
}
