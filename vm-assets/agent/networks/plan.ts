// The plan of a container's networking, decided before anything is made: which networks its spec
// names, the static address it asks for, the ports it publishes — each checked against the
// records (IPAM) and the machine (is the port free?), with errors that name the spec's field.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { ContainerSpec } from '../../../shared/containers.js';
import { OnggiError, errorMessage } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { AddressError } from '../../../shared/networks.js';
import { UnitError, parsePortMapping } from '../../../shared/units.js';
import { AddressInUseError } from './ipam.js';
import type { ContainerNetworks, NetworkRecord, PortRecord } from './state.js';

/** The network fields of a container's spec: all the network code reads of it. */
export type SpecNetworks = Pick<ContainerSpec, 'networks' | 'ports' | 'ip'>;

export interface Plan {
  networks: NetworkRecord[];
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
  return { networks: chosen, ip: spec.ip, ports };
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
