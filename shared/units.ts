// The units people type, parsed once for the CLI, the run dialog and the agent: memory sizes
// (`64m`, `1.5g`, `512k`, bytes), CPU counts (`0.5`), published ports (`8080:80/tcp`).

export class UnitError extends Error {}

const MEMORY_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker's memory syntax: a number with an optional b/k/m/g/t suffix (case-insensitive, `kb`/`mib` accepted). */
export function parseMemory(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input <= 0) throw new UnitError('memory must be a positive whole number of bytes');
    return input;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?\s*$/i.exec(input);
  if (!match?.[1]) throw new UnitError(`"${input}" is not a size: use a number with b, k, m or g (e.g. 256m)`);
  const bytes = Math.floor(Number(match[1]) * (MEMORY_UNITS[(match[2] ?? '').toLowerCase()] ?? 1));
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UnitError(`"${input}" is not a usable size`);
  return bytes;
}

export function formatMemory(bytes: number): string {
  for (const [unit, size] of [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}b`;
}

/** A CPU count like Docker's --cpus: a positive decimal, at most 3 decimal places matter. */
export function parseCpus(input: string | number): number {
  const value = typeof input === 'number' ? input : /^\s*\d*(?:\.\d+)?\s*$/.test(input) && input.trim() !== '' ? Number(input) : Number.NaN;
  if (!Number.isFinite(value) || value < 0.01 || value > 1024)
    throw new UnitError(`"${input}" is not a CPU count: use a number from 0.01 to 1024 (e.g. 0.5)`);
  return Math.round(value * 1000) / 1000;
}

export interface PortMapping {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function port(text: string, what: string, allowZero = false): number {
  if (!/^\d{1,5}$/.test(text)) throw new UnitError(`${what} "${text}" is not a port number`);
  const value = Number(text);
  if (value > 65535 || (value === 0 && !allowZero)) throw new UnitError(`${what} ${value} is outside 1-65535`);
  return value;
}

/**
 * A published port as `docker ps` writes it, `0.0.0.0:8080->80/tcp` (an IPv6 address in brackets); the window passes `→` as the
 * arrow (the same text, typeset).
 */
export function formatPortMapping(mapping: PortMapping, arrow = '->'): string {
  const host = mapping.hostIp.includes(':') ? `[${mapping.hostIp}]` : mapping.hostIp;
  return `${host}:${mapping.hostPort}${arrow}${mapping.containerPort}/${mapping.protocol}`;
}

/** A container's published ports on one line, as in `docker ps`'s PORTS column (comma-separated). */
export function formatPortMappings(mappings: readonly PortMapping[] | undefined, arrow = '->'): string {
  return (mappings ?? []).map((mapping) => formatPortMapping(mapping, arrow)).join(', ');
}

/** `[HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]` as in `docker run -p`. */
export function parsePortMapping(input: string): PortMapping {
  const [spec = '', protocolText, extra] = input.trim().split('/');
  if (extra !== undefined) throw new UnitError(`"${input}" has more than one /`);
  const protocol = (protocolText ?? 'tcp').toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp') throw new UnitError(`protocol "${protocolText}" must be tcp or udp`);
  const parts = spec.split(':');
  let hostIp = '0.0.0.0';
  if (parts.length === 3) {
    hostIp = parts.shift() ?? '';
    if (!IPV4.test(hostIp)) throw new UnitError(`host address "${hostIp}" is not an IPv4 address`);
  }
  if (parts.length !== 2) throw new UnitError(`"${input}" must look like HOSTPORT:CONTAINERPORT, e.g. 8080:80`);
  return { hostIp, hostPort: port(parts[0] ?? '', 'host port'), containerPort: port(parts[1] ?? '', 'container port'), protocol };
}
