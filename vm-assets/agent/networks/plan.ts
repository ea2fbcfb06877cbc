// The plan of a container's networking, decided before anything is made: which networks its spec
// names, the static address it asks for, the ports it publishes — each checked against the
// records (IPAM) and the machine (is the port free? does a subnet overlap its routes?), with
// errors that name the field.
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { ContainerSpec } from '../../../shared/containers.js';
import { OnggiError, errorMessage } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import {
  AddressError,
  cidrsOverlap,
  formatCidr,
  isIpv4,
  parseCidr,
  parseCidrLoose,
  parseIpv4,
  type Cidr,
} from '../../../shared/networks.js';
import { UnitError, parsePortMapping } from '../../../shared/units.js';
import {
  DEFAULT_BRIDGE,
  MAX_INTERFACES,
  USER_POOLS,
  AddressInUseError,
  allocateAddress,
  bridgeName,
  checkGateway,
  chooseSubnet,
  defaultGateway,
  hostVethName,
  macFor,
  peerTempName,
} from './ipam.js';
import type { NetnsView } from './kernel.js';
import type { Attachment, ContainerNetworks, NetworkRecord, PortRecord } from './state.js';

/** The network fields of a container's spec: all the network code reads of it. */
export type SpecNetworks = Pick<ContainerSpec, 'networks' | 'ports' | 'ip' | 'networkAliases'>;

export interface Plan {
  networks: NetworkRecord[];
  /** Each network's aliases, in the order of `networks`. */
  aliases: string[][];
  ip: string | undefined;
  ports: PortRecord[];
}

export const invalid = (message: string, field: string) => new OnggiError(ErrorCode.InvalidParams, 'invalid_params', message, field);
export const conflict = (message: string, field: string) => new OnggiError(ErrorCode.Conflict, 'conflict', message, field);

/** Networks, static address and ports a spec asks for, checked against the networks that exist; errors name the field. */
export function planNetworks(spec: SpecNetworks, networks: readonly NetworkRecord[]): Plan {
  const names = spec.networks ?? [networks.find((n) => n.isDefault)?.name ?? 'none'];
  const chosen: NetworkRecord[] = [];
  if (!(names.length === 1 && names[0] === 'none')) {
    for (const [index, name] of names.entries()) {
      const network = networks.find((n) => n.name === name || n.id === name);
      if (!network) throw new OnggiError(ErrorCode.NotFound, 'not_found', `no network "${name}"`, `params.networks[${index}]`);
      chosen.push(network);
    }
  }
  if (spec.ip !== undefined && chosen.length === 0) throw invalid('--ip needs a network (the container has none)', 'params.ip');
  const aliases = chosen.map(() => [] as string[]);
  for (const [name, list] of Object.entries(spec.networkAliases ?? {})) {
    const field = `params.networkAliases.${name}`;
    const index = names.indexOf(name);
    if (index < 0) throw invalid(`aliases for network "${name}", which the container does not join`, field);
    if (chosen[index]?.isDefault) throw invalid('aliases are for user networks only (the default network has no names)', field);
    aliases[index] = [...new Set(list)];
  }
  const ports: PortRecord[] = [];
  for (const [index, text] of (spec.ports ?? []).entries()) {
    const field = `params.ports[${index}]`;
    let port;
    try {
      port = parsePortMapping(text);
    } catch (error) {
      throw invalid(error instanceof UnitError ? error.message : errorMessage(error), field);
    }
    if (chosen.length === 0) throw invalid('publishing a port needs a network (the container has none)', field);
    if (ports.some((p) => portsClash(p, port))) throw conflict(`port ${text} is published twice`, field);
    ports.push(port);
  }
  return { networks: chosen, aliases, ip: spec.ip, ports };
}

/**
 * Refuses ports another running container publishes (`others`: the active containers' networks,
 * this one's excluded), or that something on the machine listens on.
 */
export async function checkPorts(ports: readonly PortRecord[], others: Iterable<ContainerNetworks>): Promise<void> {
  const published = [...others];
  for (const [index, port] of ports.entries()) {
    const field = `params.ports[${index}]`;
    const shown = `${port.hostIp}:${port.hostPort}/${port.protocol}`;
    const holder = published.find((other) => other.ports.some((p) => portsClash(p, port)));
    if (holder) throw conflict(`port ${shown} is already published by container ${holder.name}`, field);
    const problem = await portFree(port);
    if (problem) throw conflict(`port ${shown} ${problem}`, field);
  }
}

/** Runs an allocation, turning its AddressError into an error on the field: taken is a conflict, unusable is bad input. */
export function addressError<T>(allocate: () => T, field: string): T {
  try {
    return allocate();
  } catch (error) {
    if (error instanceof AddressInUseError) throw conflict(error.message, field);
    if (error instanceof AddressError) throw invalid(error.message, field);
    throw error;
  }
}

/** Two publications clash on the same protocol and port when their host addresses overlap (0.0.0.0 overlaps all). */
export function portsClash(a: PortRecord, b: PortRecord): boolean {
  return (
    a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0')
  );
}

/**
 * Whether the machine would let us have the port: a bind on it, released at once. DNAT takes the
 * traffic before any socket sees it, so a listener already there would silently go deaf; refusing
 * is the honest answer. Returns the problem in words, or undefined when free.
 */
function portFree(port: PortRecord): Promise<string | undefined> {
  return new Promise((resolve) => {
    const explain = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') return 'is already in use on the machine';
      if (error.code === 'EADDRNOTAVAIL') return `cannot be published: ${port.hostIp} is not an address of the machine`;
      return `cannot be published: ${error.message}`;
    };
    if (port.protocol === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', (error) => {
        socket.close();
        resolve(explain(error));
      });
      socket.bind(port.hostPort, port.hostIp, () => socket.close(() => resolve(undefined)));
      return;
    }
    const server = createServer();
    server.once('error', (error) => resolve(explain(error)));
    server.listen({ host: port.hostIp, port: port.hostPort, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/**
 * A container that asked for `--network none` and has no attachments has nothing to remember:
 * its spec gives the same empty membership back after a restart, so it is never written (three
 * fewer state saves, each with two fsyncs, per `run --network none`). Without an explicit `none`
 * the plan depends on whether a default network exists, so that membership is saved.
 */
export function derivable(spec: SpecNetworks, membership: ContainerNetworks): boolean {
  const networks = spec.networks;
  return membership.attachments.length === 0 && membership.ports.length === 0 && networks?.length === 1 && networks[0] === 'none';
}

/** The machine's routes and addresses a new subnet must not overlap (our own bridges' are the networks themselves). */
export function machineRoutes(view: NetnsView, networks: readonly NetworkRecord[]): Array<{ cidr: Cidr; what: string }> {
  const ours = new Set(networks.map((n) => n.bridge));
  const out: Array<{ cidr: Cidr; what: string }> = [];
  for (const route of view.routes) {
    if (route.dst === 'default' || (route.dev !== undefined && ours.has(route.dev))) continue;
    try {
      out.push({ cidr: parseCidrLoose(route.dst), what: `route ${route.dst}${route.dev ? ` dev ${route.dev}` : ''}` });
    } catch {
      // not an IPv4 destination
    }
  }
  for (const link of view.addrs) {
    if (ours.has(link.ifname)) continue;
    for (const info of link.addr_info ?? [])
      if (info.family === 'inet' && isIpv4(info.local) && !info.local.startsWith('127.'))
        out.push({ cidr: { network: parseIpv4(info.local), prefix: 32 }, what: `address ${info.local} on ${link.ifname}` });
  }
  return out;
}

/** A new network's subnet and gateway: the ones asked for, checked against the other networks and the machine, or the next free /24. */
export function planSubnet(
  params: { subnet?: string; gateway?: string },
  networks: readonly NetworkRecord[],
  view: NetnsView,
): { subnet: Cidr; gateway: string } {
  const machine = machineRoutes(view, networks);
  let subnet: Cidr;
  if (params.subnet !== undefined) {
    subnet = parseCidr(params.subnet);
    for (const other of networks) {
      if (cidrsOverlap(parseCidr(other.subnet), subnet))
        throw conflict(`subnet ${params.subnet} overlaps network "${other.name}" (${other.subnet})`, 'params.subnet');
    }
    for (const route of machine) {
      if (cidrsOverlap(route.cidr, subnet))
        throw conflict(`subnet ${params.subnet} overlaps the machine's ${route.what}: choose another subnet`, 'params.subnet');
    }
  } else {
    const taken = [...machine.map((r) => r.cidr), ...networks.map((n) => parseCidr(n.subnet))];
    const chosen = chooseSubnet(USER_POOLS, 24, taken);
    if (!chosen) throw conflict('no free /24 left in the address pools: give --subnet', 'params.subnet');
    subnet = chosen;
  }
  let gateway = defaultGateway(subnet);
  if (params.gateway !== undefined) {
    try {
      checkGateway(subnet, params.gateway);
    } catch (error) {
      throw invalid(errorMessage(error), 'params.gateway');
    }
    gateway = params.gateway;
  }
  return { subnet, gateway };
}

export function newNetworkRecord(name: string, subnet: Cidr, gateway: string, isDefault: boolean): NetworkRecord {
  const id = randomBytes(32).toString('hex');
  return {
    id,
    name,
    bridge: isDefault ? DEFAULT_BRIDGE : bridgeName(id),
    subnet: formatCidr(subnet),
    gateway,
    isDefault,
    createdAt: new Date().toISOString(),
    materialized: !isDefault,
  };
}

/** A container's next attachment to a network: the first free ethN, an address (asked for or the next free), its MAC and veth names. */
export function planAttachment(
  containerId: string,
  membership: ContainerNetworks,
  network: NetworkRecord,
  used: ReadonlySet<string>,
  ip: string | undefined,
  field: string,
  phase: Attachment['phase'],
): Attachment {
  const taken = new Set(membership.attachments.map((a) => a.iface));
  let index = 0;
  while (taken.has(`eth${index}`)) index += 1;
  if (index >= MAX_INTERFACES) throw conflict(`a container can join at most ${MAX_INTERFACES} networks`, 'params.network');
  const address = addressError(() => allocateAddress(parseCidr(network.subnet), used, ip), field);
  return {
    networkId: network.id,
    ip: address,
    mac: macFor(address),
    iface: `eth${index}`,
    hostVeth: hostVethName(containerId, index),
    peerTemp: peerTempName(containerId, index),
    phase,
  };
}
