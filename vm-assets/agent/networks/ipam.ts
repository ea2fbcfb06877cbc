// Address management and names: which address a container gets, which subnet a new network
// gets, and the device names derived from ids (readable in `ip link`, at most 15 characters).
import {
  AddressError,
  cidrContains,
  cidrSize,
  cidrsOverlap,
  formatCidr,
  formatIpv4,
  isHostAddress,
  parseCidr,
  parseIpv4,
  type Cidr,
} from '../../../shared/networks.js';

export const DEFAULT_NETWORK_NAME = 'onggi';
export const DEFAULT_BRIDGE = 'onggi0';
/**
 * The default network's subnet, and fallbacks when the machine already routes it. Not Docker's
 * 172.17/16 nor Podman's 10.88/16, so all three can live on one machine.
 */
export const DEFAULT_SUBNETS = ['10.77.0.0/16', '10.76.0.0/16', '10.75.0.0/16', '172.30.0.0/16'];
/** User networks without --subnet get the first free /24 of these. */
export const USER_POOLS = ['10.78.0.0/16', '10.79.0.0/16', '172.31.0.0/16'];
export const MAX_INTERFACES = 16;

/** The address is fine but someone has it (a conflict, where the other AddressErrors are bad input). */
export class AddressInUseError extends AddressError {}

export function bridgeName(networkId: string): string {
  return `ogb${networkId.slice(0, 12)}`;
}

/** The host end of a container's veth for its interface `index` (eth0 → …0): `ogv` + 11 hex of the id + one hex digit. */
export function hostVethName(containerId: string, index: number): string {
  return `ogv${containerId.slice(0, 11)}${index.toString(16)}`;
}

/** The machine-side name older agents gave the container end before moving it in: still reaped (a crash may have left one). */
export function peerTempName(containerId: string, index: number): string {
  return `ogc${containerId.slice(0, 11)}${index.toString(16)}`;
}

export const OUR_VETH = /^og[vc][0-9a-f]{12}$/;
export const OUR_BRIDGE = /^(onggi0|ogb[0-9a-f]{12})$/;

/** A locally administered MAC derived from the address, as Docker does: a reused address keeps its MAC, so neighbours' ARP caches stay right. */
export function macFor(ip: string): string {
  const octets = ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'));
  return ['0a', '58', ...octets].join(':');
}

/** The gateway a subnet gets unless one is given: its first host address. */
export function defaultGateway(cidr: Cidr): string {
  return formatIpv4(cidr.network + 1);
}

/** Checks a user's gateway: a host address inside the subnet. */
export function checkGateway(cidr: Cidr, gateway: string): void {
  const value = parseIpv4(gateway);
  if (!isHostAddress(cidr, value)) throw new AddressError(`gateway ${gateway} is not a host address inside ${formatCidr(cidr)}`);
}

/**
 * The lowest free host address, or the requested one after checking it. `used` holds the
 * addresses already taken (the gateway is always taken).
 */
export function allocateAddress(cidr: Cidr, used: ReadonlySet<string>, requested?: string): string {
  if (requested !== undefined) {
    const value = parseIpv4(requested);
    if (!isHostAddress(cidr, value)) throw new AddressError(`${requested} is not a usable address in ${formatCidr(cidr)}`);
    if (used.has(requested)) throw new AddressInUseError(`${requested} is already in use on this network`);
    return requested;
  }
  const last = cidr.network + cidrSize(cidr) - 1;
  for (let value = cidr.network + 1; value < last; value += 1) {
    const text = formatIpv4(value);
    if (!used.has(text)) return text;
  }
  throw new AddressInUseError(`no free address left in ${formatCidr(cidr)}`);
}

/** The first subnet from `candidates` (each a pool split into /prefix blocks) that overlaps nothing taken. */
export function chooseSubnet(pools: readonly string[], prefix: number, taken: readonly Cidr[]): Cidr | undefined {
  for (const pool of pools) {
    const block = parseCidr(pool);
    const step = 2 ** (32 - prefix);
    for (let network = block.network; cidrContains(block, network); network += step) {
      const candidate = { network, prefix };
      if (!taken.some((cidr) => cidrsOverlap(cidr, candidate))) return candidate;
    }
  }
  return undefined;
}
