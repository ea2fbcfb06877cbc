// The container's /etc/resolv.conf, made from the machine's at every start (as Docker does), then
// bound over the image's by the init helper. A container has a network namespace of its own, so a
// name server on the machine's loopback cannot be reached from it:
// - systemd-resolved's stub (127.0.0.53) gives way to the servers resolved itself uses, from
//   /run/systemd/resolve/resolv.conf (the file Docker reads in that case too);
// - a file of loopback servers only (NetworkManager's dnsmasq on 127.0.1.1, a local unbound) gives
//   way to NetworkManager's list of the servers behind it, /run/NetworkManager/no-stub-resolv.conf,
//   when that file names any: the user's VPN and company servers keep working, as on the desktop;
// - a machine whose servers are still all on loopback (a local unbound or Pi-hole, resolved without
//   its list): a container on a bridge gets the bridge's gateway, where the agent's forwarder
//   (networks/dns-forwarder.ts) relays to that server — the machine's own DNS, as Docker Desktop's
//   VM gives its containers the desktop's;
// - what is still loopback is dropped, and IPv6 servers with it (our bridges give containers IPv4
//   only); if nothing is left (no network, or no server at all), Docker's defaults 8.8.8.8 and
//   8.8.4.4 are used, as Docker Engine does, and the file says so.
// --dns, --dns-search and --dns-option replace the machine's servers, search list and options.
import { closeSync, existsSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';

/** systemd-resolved's stub listener. */
export const RESOLVED_STUB = '127.0.0.53';
/** Used when the machine offers no server a container can reach (Docker's defaults). */
export const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'] as const;
/** Where the machine's resolver configuration is read; tests point these at files of their own. */
export interface ResolvSources {
  machine: string;
  /** systemd-resolved's list of upstream servers. */
  resolvedUpstream: string;
  /** NetworkManager's list of the servers behind a local resolver. */
  networkManagerUpstream: string;
}
export const DEFAULT_RESOLV_SOURCES: ResolvSources = {
  machine: '/etc/resolv.conf',
  resolvedUpstream: '/run/systemd/resolve/resolv.conf',
  networkManagerUpstream: '/run/NetworkManager/no-stub-resolv.conf',
};
/** The sources, from ONGGI_RESOLV_CONF, ONGGI_RESOLVED_RESOLV_CONF and ONGGI_NM_RESOLV_CONF where set (tests), else the machine's. */
export function resolvSourcesFrom(env: NodeJS.ProcessEnv): ResolvSources {
  return {
    machine: env.ONGGI_RESOLV_CONF || DEFAULT_RESOLV_SOURCES.machine,
    resolvedUpstream: env.ONGGI_RESOLVED_RESOLV_CONF || DEFAULT_RESOLV_SOURCES.resolvedUpstream,
    networkManagerUpstream: env.ONGGI_NM_RESOLV_CONF || DEFAULT_RESOLV_SOURCES.networkManagerUpstream,
  };
}

/** The texts of the sources (undefined: absent or unreadable). */
export interface ResolvTexts {
  machine?: string | undefined;
  resolvedUpstream?: string | undefined;
  networkManagerUpstream?: string | undefined;
}

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

/** glibc reads at most this much of the file's meaningful content; a bigger one is not a resolv.conf. */
const MAX_SOURCE_BYTES = 64 * 1024;

/**
 * resolv.conf(5) as glibc reads it: `#` and `;` start comments, keywords `nameserver`, `search`,
 * `domain` (the last of search/domain wins) and `options`; anything else, or a server that is
 * not an address, is ignored rather than trusted.
 */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split(/\r?\n/)) {
    const [keyword, ...words] = raw
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (keyword === 'nameserver' && words[0] !== undefined && (isIPv4(words[0]) || isIPv6(words[0]))) conf.nameservers.push(words[0]);
    else if (keyword === 'search' || keyword === 'domain') conf.search = keyword === 'domain' ? words.slice(0, 1) : words;
    else if (keyword === 'options') conf.options.push(...words);
  }
  return conf;
}

const isLoopback = (ip: string) => (isIPv4(ip) ? ip.startsWith('127.') : ip === '::1' || ip === '0:0:0:0:0:0:0:1');

/** What a container on our IPv4 bridges can reach: neither loopback (the machine's, not its own) nor IPv6. */
const reachable = (ip: string) => isIPv4(ip) && !isLoopback(ip) && ip !== '0.0.0.0';

export interface ContainerDns {
  dns?: readonly string[];
  dnsSearch?: readonly string[];
  dnsOptions?: readonly string[];
}

/** Which file's servers stand for the machine's (see the top of this file). */
function machineSource(texts: ResolvTexts): { source: ResolvConf; from: string } {
  const machine = parseResolvConf(texts.machine ?? '');
  const behindLocal = parseResolvConf(texts.networkManagerUpstream ?? '');
  if (machine.nameservers.includes(RESOLVED_STUB) && texts.resolvedUpstream !== undefined)
    return { source: parseResolvConf(texts.resolvedUpstream), from: "systemd-resolved's upstream servers" };
  if (!machine.nameservers.some(reachable) && behindLocal.nameservers.some(reachable))
    return { source: behindLocal, from: "NetworkManager's upstream servers" };
  return { source: machine, from: 'the machine' };
}

/**
 * The machine's name server on its loopback that a forwarder must relay to, when it offers
 * containers no server they can reach; undefined when it does (or has none at all).
 */
export function loopbackNameserver(texts: ResolvTexts): string | undefined {
  const { source } = machineSource(texts);
  return source.nameservers.some(reachable) ? undefined : source.nameservers.find((ip) => isIPv4(ip) && isLoopback(ip));
}

/**
 * The container's resolv.conf text from the machine's files' texts and its --dns* options.
 * forwarder: the address where the agent relays to a loopback-only machine's server (the gateway
 * of the container's first network), if it has one.
 */
export function buildResolvConf(texts: ResolvTexts, spec: ContainerDns, forwarder?: string): string {
  let { source, from } = machineSource(texts);
  if (forwarder !== undefined && loopbackNameserver(texts) !== undefined) {
    source = { ...source, nameservers: [forwarder] };
    from = `the machine's resolver on ${loopbackNameserver(texts)}, relayed by the agent at the network's gateway`;
  }
  const lines = ["# made by onggi at the container's start"];
  let nameservers: string[];
  if (spec.dns?.length) {
    // The user's word, loopback included (it may be their container's own resolver).
    nameservers = [...spec.dns];
    lines[0] += ' (--dns)';
  } else {
    nameservers = source.nameservers.filter(reachable);
    if (nameservers.length === 0) {
      nameservers = [...FALLBACK_NAMESERVERS];
      lines[0] += `: ${from} offered no name server a container can reach (loopback or IPv6 only, or none), so Docker's defaults`;
    } else lines[0] += ` from ${from}`;
  }
  const search = spec.dnsSearch?.length ? spec.dnsSearch.filter((domain) => domain !== '.') : source.search;
  const options = spec.dnsOptions?.length ? spec.dnsOptions : source.options;
  lines.push(...nameservers.map((ip) => `nameserver ${ip}`));
  if (search.length > 0) lines.push(`search ${search.join(' ')}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Reads at most MAX_SOURCE_BYTES of a file; undefined when it cannot be read (absent, a
 * directory…). Synchronously: three small files in the page cache cost less than three
 * thread-pool trips on every start.
 */
/** One buffer for every read: they are synchronous, so never two at once. */
const sourceBuffer = Buffer.alloc(MAX_SOURCE_BYTES);

function readSource(path: string): string | undefined {
  // Absent is common (a container's first start, a machine without systemd-resolved): checked
  // first, as the error a failed open throws, with its stack, costs more than the read.
  if (!existsSync(path)) return undefined;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    // No file (no systemd-resolved, a machine without resolv.conf): nothing to take from it.
    return undefined;
  }
  try {
    return sourceBuffer.subarray(0, readSync(fd, sourceBuffer, 0, MAX_SOURCE_BYTES, 0)).toString('utf8');
  } catch {
    // Not readable as a file (a directory): as good as absent.
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The container's resolv.conf path: a file of the agent's in the container's directory. */
export function resolvConfPath(containerDir: string): string {
  return join(containerDir, 'resolv.conf');
}

/** The sources' texts, as they are now. */
export function readResolvSources(sources: ResolvSources): ResolvTexts {
  return {
    machine: readSource(sources.machine),
    resolvedUpstream: readSource(sources.resolvedUpstream),
    networkManagerUpstream: readSource(sources.networkManagerUpstream),
  };
}

/** Writes the container's resolv.conf (before each start, while nothing has it mounted) and returns its path. */
export function writeContainerResolvConf(containerDir: string, sources: ResolvSources, spec: ContainerDns, forwarder?: string): string {
  const path = resolvConfPath(containerDir);
  const content = buildResolvConf(readResolvSources(sources), spec, forwarder);
  // A restart usually finds it as it was: a read is cheaper than a write (synchronous, as above).
  const previous = readSource(path);
  if (previous === content) return path;
  // A new file, not a truncated one: ext4 flushes a file truncated and rewritten at its close
  // (auto_da_alloc), which measured 2 ms here against 0.2 ms. Nothing has it mounted now.
  if (previous !== undefined) rmSync(path, { force: true });
  writeFileSync(path, content, { mode: 0o644, flag: 'wx' });
  return path;
}
