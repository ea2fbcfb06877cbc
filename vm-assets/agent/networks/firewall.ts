// The packet filter rules behind bridge networks: NAT for outbound traffic, forwarding for our
// bridges only, isolation between them, DNAT for published ports. All of it lives in chains (or
// one nftables table) of our own, hooked into the machine's built-in chains by one jump each; the
// machine's FORWARD policy is never touched (Docker sets it to DROP: our jump comes first and
// accepts our bridges' traffic before that policy applies).
//
// The rules are desired state: every change recomputes the full list from the agent's records
// and brings the kernel to it rule by rule — add what is missing, delete what is not wanted —
// so a restart after a crash, a removed network or a hand-deleted rule all converge the same way.
// Each rule carries a comment `onggi:OWNER:HASH` (OWNER: the network or container it serves;
// HASH: of the rule itself), which is how we recognize ours and tell which are still wanted.
import { createHash } from 'node:crypto';
import type { ActivityScope } from '../activity/activity-log.js';
import { readOsRelease } from '../system/os-release.js';
import { QuietCommandError, readCommand, type CommandRunner } from './commands.js';

export type RuleChain = 'isolate' | 'isolate2' | 'accept' | 'input' | 'ports' | 'postrouting';

export type RuleTarget =
  { kind: 'accept' } | { kind: 'drop' } | { kind: 'jump'; chain: RuleChain } | { kind: 'masquerade' } | { kind: 'dnat'; to: string };

export interface RuleSpec {
  chain: RuleChain;
  /** The network or container the rule exists for: shown in its comment and in inspect. */
  owner: string;
  in?: string;
  out?: string;
  notOut?: string;
  src?: string;
  dst?: string;
  proto?: 'tcp' | 'udp';
  dport?: number;
  /** Connection-tracking conditions, named for what they mean rather than for either tool's syntax. */
  ct?: 'established' | 'not-established' | 'dnat' | 'not-dnat';
  target: RuleTarget;
}

export interface FirewallNetwork {
  name: string;
  bridge: string;
  subnet: string;
}

export interface FirewallPort {
  /** The container's name. */
  owner: string;
  hostIp: string;
  hostPort: number;
  protocol: 'tcp' | 'udp';
  /** Where the traffic goes: the container's address and port. */
  ip: string;
  containerPort: number;
}

/** Every rule the agent wants, given its networks and the published ports of running containers. */
export function desiredRules(networks: readonly FirewallNetwork[], ports: readonly FirewallPort[]): RuleSpec[] {
  const rules: RuleSpec[] = [];
  for (const { name: owner, bridge, subnet } of networks) {
    // Isolation, Docker's two stages: traffic leaving this bridge for another bridge of ours is
    // dropped, unless it was DNAT'd to a published port (published means reachable).
    rules.push({ chain: 'isolate', owner, in: bridge, notOut: bridge, target: { kind: 'jump', chain: 'isolate2' } });
    rules.push({ chain: 'isolate2', owner, out: bridge, ct: 'not-dnat', target: { kind: 'drop' } });
    // Forwarding for our bridges only: out of the bridge (to the world, or within it when
    // br_netfilter shows bridged frames to iptables), replies back in, and DNAT'd traffic in.
    rules.push({ chain: 'accept', owner, in: bridge, target: { kind: 'accept' } });
    rules.push({ chain: 'accept', owner, out: bridge, ct: 'established', target: { kind: 'accept' } });
    rules.push({ chain: 'accept', owner, out: bridge, ct: 'dnat', target: { kind: 'accept' } });
    // route_localnet (needed to publish on 127.0.0.1) would also let a container address the
    // machine's loopback services with crafted packets: new connections from the bridge to
    // 127.0.0.0/8 are dropped (the kube-proxy CVE-2020-8558 fix).
    rules.push({ chain: 'input', owner, in: bridge, dst: '127.0.0.0/8', ct: 'not-established', target: { kind: 'drop' } });
    // Outbound NAT for the subnet, and for loopback-sourced connections to published ports (the
    // container could not answer 127.0.0.1 otherwise).
    rules.push({ chain: 'postrouting', owner, src: subnet, notOut: bridge, target: { kind: 'masquerade' } });
    rules.push({ chain: 'postrouting', owner, src: '127.0.0.0/8', out: bridge, target: { kind: 'masquerade' } });
  }
  for (const port of ports) {
    rules.push({
      chain: 'ports',
      owner: port.owner,
      ...(port.hostIp === '0.0.0.0' ? {} : { dst: port.hostIp }),
      proto: port.protocol,
      dport: port.hostPort,
      target: { kind: 'dnat', to: `${port.ip}:${port.containerPort}` },
    });
  }
  return rules;
}

export function ruleKey(rule: RuleSpec): string {
  const hash = createHash('sha256').update(JSON.stringify(rule)).digest('hex').slice(0, 10);
  return `onggi:${rule.owner}:${hash}`;
}

export function ownerOfKey(key: string): string | undefined {
  const match = /^onggi:(.+):[0-9a-f]{10}$/.exec(key);
  return match?.[1];
}

/**
 * Where a rule's add or delete is filed in the activity log: a published port under its
 * container, every other rule under its network; `fallback` for what no rule owns (chains, hooks).
 */
export function ruleScope(chain: RuleChain, key: string | undefined, fallback: ActivityScope): ActivityScope {
  const owner = key === undefined ? undefined : ownerOfKey(key);
  if (owner === undefined) return fallback;
  return chain === 'ports' ? { container: owner } : { network: owner };
}

export interface CurrentRule {
  key: string;
  /** The rule as the tool lists it. */
  text: string;
}

export interface FirewallBackend {
  readonly name: 'iptables' | 'nftables';
  /** Brings our chains to exactly `rules`; `null` removes our chains and hooks altogether. */
  apply(rules: readonly RuleSpec[] | null, scope?: ActivityScope): Promise<void>;
  /** Our rules as the packet filter lists them now. */
  current(): Promise<CurrentRule[]>;
  /**
   * Deletes these rules, each as it was added, without reading the filter first; throws at the
   * first one that is not there as given (then only a full apply knows what the filter holds).
   */
  remove?(rules: readonly RuleSpec[], scope?: ActivityScope): Promise<void>;
}

// ---- iptables ----------------------------------------------------------------------------------

const IPT_CHAIN: Record<RuleChain, { table: 'filter' | 'nat'; chain: string }> = {
  isolate: { table: 'filter', chain: 'ONGGI-ISOLATE' },
  isolate2: { table: 'filter', chain: 'ONGGI-ISOLATE-2' },
  accept: { table: 'filter', chain: 'ONGGI-ACCEPT' },
  input: { table: 'filter', chain: 'ONGGI-INPUT' },
  ports: { table: 'nat', chain: 'ONGGI-PORTS' },
  postrouting: { table: 'nat', chain: 'ONGGI-POSTROUTING' },
};
const IPT_OWN_CHAINS = {
  filter: ['ONGGI-FORWARD', 'ONGGI-ISOLATE', 'ONGGI-ISOLATE-2', 'ONGGI-ACCEPT', 'ONGGI-INPUT'],
  nat: ['ONGGI-PORTS', 'ONGGI-POSTROUTING'],
} as const;
/** ONGGI-FORWARD is the one chain whose order matters: isolation before acceptance. */
const IPT_FORWARD_ORDER: string[][] = [
  ['-m', 'comment', '--comment', 'onggi:forward:isolate', '-j', 'ONGGI-ISOLATE'],
  ['-m', 'comment', '--comment', 'onggi:forward:accept', '-j', 'ONGGI-ACCEPT'],
];
/** The one jump from each built-in chain into ours, inserted first so the machine's own rules and policy come after. */
const IPT_HOOKS: Array<{ table: 'filter' | 'nat'; chain: string; args: string[] }> = [
  { table: 'filter', chain: 'FORWARD', args: ['-m', 'comment', '--comment', 'onggi:hook', '-j', 'ONGGI-FORWARD'] },
  { table: 'filter', chain: 'INPUT', args: ['-m', 'comment', '--comment', 'onggi:hook', '-j', 'ONGGI-INPUT'] },
  {
    table: 'nat',
    chain: 'PREROUTING',
    args: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-m', 'comment', '--comment', 'onggi:hook', '-j', 'ONGGI-PORTS'],
  },
  // OUTPUT too: the machine's own connections to a published port, loopback included.
  {
    table: 'nat',
    chain: 'OUTPUT',
    args: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-m', 'comment', '--comment', 'onggi:hook', '-j', 'ONGGI-PORTS'],
  },
  { table: 'nat', chain: 'POSTROUTING', args: ['-m', 'comment', '--comment', 'onggi:hook', '-j', 'ONGGI-POSTROUTING'] },
];

export function iptablesArgs(rule: RuleSpec): string[] {
  const args: string[] = [];
  if (rule.in) args.push('-i', rule.in);
  if (rule.out) args.push('-o', rule.out);
  if (rule.notOut) args.push('!', '-o', rule.notOut);
  if (rule.src) args.push('-s', rule.src);
  if (rule.dst) args.push('-d', rule.dst);
  if (rule.proto) args.push('-p', rule.proto);
  if (rule.dport !== undefined) args.push('--dport', String(rule.dport));
  if (rule.ct === 'established') args.push('-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED');
  if (rule.ct === 'not-established') args.push('-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED');
  if (rule.ct === 'dnat') args.push('-m', 'conntrack', '--ctstate', 'DNAT');
  if (rule.ct === 'not-dnat') args.push('-m', 'conntrack', '!', '--ctstate', 'DNAT');
  args.push('-m', 'comment', '--comment', ruleKey(rule));
  const target = rule.target;
  if (target.kind === 'accept') args.push('-j', 'ACCEPT');
  else if (target.kind === 'drop') args.push('-j', 'DROP');
  else if (target.kind === 'masquerade') args.push('-j', 'MASQUERADE');
  else if (target.kind === 'jump') args.push('-j', IPT_CHAIN[target.chain].chain);
  else args.push('-j', 'DNAT', '--to-destination', target.to);
  return args;
}

interface IptRule {
  chain: string;
  /** The rule's arguments after `-A CHAIN`, quotes removed: what `-D CHAIN …` takes. */
  args: string[];
  comment: string | undefined;
  line: string;
}

/** `iptables -S` words: quoted strings (comments) are one word. */
export function splitIptablesLine(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) words.push(match[1] ?? match[2] ?? '');
  return words;
}

function parseIptablesSave(text: string): { chains: Set<string>; rules: IptRule[] } {
  const chains = new Set<string>();
  const rules: IptRule[] = [];
  for (const line of text.split('\n')) {
    const words = splitIptablesLine(line);
    if (words[0] === '-N' && words[1]) chains.add(words[1]);
    if (words[0] === '-A' && words[1]) {
      const args = words.slice(2);
      const at = args.indexOf('--comment');
      rules.push({ chain: words[1], args, comment: at >= 0 ? args[at + 1] : undefined, line });
    }
  }
  return { chains, rules };
}

export class IptablesBackend implements FirewallBackend {
  readonly name = 'iptables' as const;

  constructor(
    private readonly runner: CommandRunner,
    /** Runs every command in another netns (tests); empty for the agent's own. */
    private readonly prefix: readonly string[] = [],
  ) {}

  private ipt(table: string, ...args: string[]): string[] {
    // -w: wait for the xtables lock instead of failing when Docker or firewalld holds it.
    return [...this.prefix, 'iptables', '-w', '-t', table, ...args];
  }

  /**
   * Both tables in one process: `iptables-save` prints every table the kernel has, rules in the
   * same words as `iptables -S` (a table never used is absent, which reads as one without our
   * chains). Each `:CHAIN POLICY [counters]` line is taken as the chain's `-N`.
   */
  private async read(): Promise<Record<'filter' | 'nat', { chains: Set<string>; rules: IptRule[] }>> {
    const text = await readCommand([...this.prefix, 'iptables-save']);
    const tables: Record<string, string[]> = { filter: [], nat: [] };
    let table: string[] | undefined;
    for (const line of text.split('\n')) {
      if (line.startsWith('*')) table = tables[line.slice(1).trim()];
      else if (line.startsWith(':')) table?.push(`-N ${line.slice(1).split(' ')[0] ?? ''}`);
      else table?.push(line);
    }
    return { filter: parseIptablesSave((tables.filter ?? []).join('\n')), nat: parseIptablesSave((tables.nat ?? []).join('\n')) };
  }

  async current(): Promise<CurrentRule[]> {
    const out: CurrentRule[] = [];
    const state = await this.read();
    for (const table of ['filter', 'nat'] as const) {
      const own = new Set<string>(IPT_OWN_CHAINS[table]);
      for (const rule of state[table].rules)
        if (own.has(rule.chain) && rule.comment?.startsWith('onggi:')) out.push({ key: rule.comment, text: `-t ${table} ${rule.line}` });
    }
    return out;
  }

  async remove(rules: readonly RuleSpec[], scope: ActivityScope = {}): Promise<void> {
    for (const rule of rules) {
      const { table, chain } = IPT_CHAIN[rule.chain];
      await this.runner.run(this.ipt(table, '-D', chain, ...iptablesArgs(rule)), ruleScope(rule.chain, ruleKey(rule), scope));
    }
  }

  async apply(rules: readonly RuleSpec[] | null, scope: ActivityScope = {}): Promise<void> {
    const run = (argv: string[]) => this.runner.run(argv, scope);
    const state = await this.read();
    if (rules === null) {
      for (const hook of IPT_HOOKS)
        for (const rule of state[hook.table].rules.filter((r) => r.chain === hook.chain && r.comment === 'onggi:hook'))
          await run(this.ipt(hook.table, '-D', hook.chain, ...rule.args));
      for (const table of ['filter', 'nat'] as const) {
        const present = IPT_OWN_CHAINS[table].filter((chain) => state[table].chains.has(chain));
        // Flush all first: our chains jump to each other, and a referenced chain cannot be deleted.
        for (const chain of present) await run(this.ipt(table, '-F', chain));
        for (const chain of present) await run(this.ipt(table, '-X', chain));
      }
      return;
    }
    for (const table of ['filter', 'nat'] as const)
      for (const chain of IPT_OWN_CHAINS[table]) if (!state[table].chains.has(chain)) await run(this.ipt(table, '-N', chain));

    const forward = state.filter.rules.filter((r) => r.chain === 'ONGGI-FORWARD').map((r) => r.comment);
    const wantedForward = IPT_FORWARD_ORDER.map((args) => args[3]);
    if (forward.join(' ') !== wantedForward.join(' ')) {
      if (forward.length > 0) await run(this.ipt('filter', '-F', 'ONGGI-FORWARD'));
      for (const args of IPT_FORWARD_ORDER) await run(this.ipt('filter', '-A', 'ONGGI-FORWARD', ...args));
    }

    const wanted = new Map(rules.map((rule) => [ruleKey(rule), rule]));
    const found = new Set<string>();
    for (const [kind, chain] of Object.entries(IPT_CHAIN) as Array<[RuleChain, (typeof IPT_CHAIN)[RuleChain]]>) {
      for (const rule of state[chain.table].rules.filter((r) => r.chain === chain.chain)) {
        // Unwanted, unknown (not ours) or a duplicate: our chains hold exactly the wanted rules.
        if (rule.comment && wanted.has(rule.comment) && !found.has(rule.comment)) found.add(rule.comment);
        else await this.runner.run(this.ipt(chain.table, '-D', chain.chain, ...rule.args), ruleScope(kind, rule.comment, scope));
      }
    }
    for (const [key, rule] of wanted) {
      if (found.has(key)) continue;
      const { table, chain } = IPT_CHAIN[rule.chain];
      await this.runner.run(this.ipt(table, '-A', chain, ...iptablesArgs(rule)), ruleScope(rule.chain, key, scope));
    }

    for (const hook of IPT_HOOKS) {
      const present = state[hook.table].rules.filter((r) => r.chain === hook.chain && r.comment === 'onggi:hook');
      if (present.length === 0) await run(this.ipt(hook.table, '-I', hook.chain, '1', ...hook.args));
      for (const extra of present.slice(1)) await run(this.ipt(hook.table, '-D', hook.chain, ...extra.args));
    }
  }
}

// ---- nftables ----------------------------------------------------------------------------------

const NFT_TABLE = ['ip', 'onggi'] as const;
const NFT_BASE_CHAINS: Record<string, string[]> = {
  forward: ['type', 'filter', 'hook', 'forward', 'priority', '0', ';', 'policy', 'accept', ';'],
  input: ['type', 'filter', 'hook', 'input', 'priority', '0', ';', 'policy', 'accept', ';'],
  prerouting: ['type', 'nat', 'hook', 'prerouting', 'priority', '-100', ';', 'policy', 'accept', ';'],
  output: ['type', 'nat', 'hook', 'output', 'priority', '-100', ';', 'policy', 'accept', ';'],
  postrouting: ['type', 'nat', 'hook', 'postrouting', 'priority', '100', ';', 'policy', 'accept', ';'],
};
/** Our chain names in the nftables table (`accept` is a keyword there). */
const NFT_CHAIN: Record<RuleChain, string> = {
  isolate: 'isolate',
  isolate2: 'isolate2',
  accept: 'allow',
  input: 'input',
  ports: 'ports',
  postrouting: 'postrouting',
};
const NFT_REGULAR_CHAINS = ['isolate', 'isolate2', 'allow', 'ports'];
/** Chains with fixed, ordered content. */
const NFT_STATIC: Record<string, string[][]> = {
  forward: [
    ['jump', 'isolate', 'comment', '"onggi:forward:isolate"'],
    ['jump', 'allow', 'comment', '"onggi:forward:accept"'],
  ],
  prerouting: [['fib', 'daddr', 'type', 'local', 'jump', 'ports', 'comment', '"onggi:hook"']],
  output: [['fib', 'daddr', 'type', 'local', 'jump', 'ports', 'comment', '"onggi:hook"']],
};

export function nftExpression(rule: RuleSpec): string[] {
  const q = (name: string) => `"${name}"`;
  const words: string[] = [];
  if (rule.in) words.push('iifname', q(rule.in));
  if (rule.out) words.push('oifname', q(rule.out));
  if (rule.notOut) words.push('oifname', '!=', q(rule.notOut));
  if (rule.src) words.push('ip', 'saddr', rule.src);
  if (rule.dst) words.push('ip', 'daddr', rule.dst);
  if (rule.proto && rule.dport !== undefined) words.push(rule.proto, 'dport', String(rule.dport));
  // DNAT is a status bit in nftables (a state in iptables): `ct status dnat` tests the bit.
  if (rule.ct === 'established') words.push('ct', 'state', 'established,related');
  if (rule.ct === 'not-established') words.push('ct', 'state', '!=', '{', 'established,', 'related', '}');
  if (rule.ct === 'dnat') words.push('ct', 'status', 'dnat');
  if (rule.ct === 'not-dnat') words.push('ct', 'status', '&', 'dnat', '==', '0');
  const target = rule.target;
  if (target.kind === 'accept') words.push('accept');
  else if (target.kind === 'drop') words.push('drop');
  else if (target.kind === 'masquerade') words.push('masquerade');
  else if (target.kind === 'jump') words.push('jump', NFT_CHAIN[target.chain]);
  else words.push('dnat', 'to', target.to);
  words.push('comment', q(ruleKey(rule)));
  return words;
}

interface NftRule {
  chain: string;
  handle: number;
  comment: string | undefined;
}

export class NftablesBackend implements FirewallBackend {
  readonly name = 'nftables' as const;

  constructor(
    private readonly runner: CommandRunner,
    private readonly prefix: readonly string[] = [],
  ) {}

  private nft(...args: string[]): string[] {
    return [...this.prefix, 'nft', ...args];
  }

  private async read(): Promise<{ exists: boolean; chains: Set<string>; rules: NftRule[] }> {
    let text: string;
    try {
      text = await readCommand(this.nft('-j', '-a', 'list', 'table', ...NFT_TABLE));
    } catch (error) {
      if (error instanceof QuietCommandError && /No such file or directory/.test(error.stderr))
        return { exists: false, chains: new Set(), rules: [] };
      throw error;
    }
    const parsed = JSON.parse(text) as { nftables?: Array<Record<string, unknown>> };
    const chains = new Set<string>();
    const rules: NftRule[] = [];
    for (const entry of parsed.nftables ?? []) {
      const chain = entry.chain as { name?: string } | undefined;
      if (chain?.name) chains.add(chain.name);
      const rule = entry.rule as { chain?: string; handle?: number; comment?: string } | undefined;
      if (rule?.chain && typeof rule.handle === 'number') rules.push({ chain: rule.chain, handle: rule.handle, comment: rule.comment });
    }
    return { exists: true, chains, rules };
  }

  async current(): Promise<CurrentRule[]> {
    const { exists } = await this.read();
    if (!exists) return [];
    // The text form, for people; rules are matched to their comments line by line.
    const text = await readCommand(this.nft('list', 'table', ...NFT_TABLE));
    const out: CurrentRule[] = [];
    for (const line of text.split('\n')) {
      const match = /comment "(onggi:[^"]+)"/.exec(line);
      if (match?.[1]) out.push({ key: match[1], text: line.trim() });
    }
    return out;
  }

  async apply(rules: readonly RuleSpec[] | null, scope: ActivityScope = {}): Promise<void> {
    const run = (argv: string[]) => this.runner.run(argv, scope);
    const state = await this.read();
    if (rules === null) {
      if (state.exists) await run(this.nft('delete', 'table', ...NFT_TABLE));
      return;
    }
    if (!state.exists) await run(this.nft('add', 'table', ...NFT_TABLE));
    for (const [chain, spec] of Object.entries(NFT_BASE_CHAINS))
      if (!state.chains.has(chain)) await run(this.nft('add', 'chain', ...NFT_TABLE, chain, '{', ...spec, '}'));
    for (const chain of NFT_REGULAR_CHAINS) if (!state.chains.has(chain)) await run(this.nft('add', 'chain', ...NFT_TABLE, chain));

    for (const [chain, wantedRules] of Object.entries(NFT_STATIC)) {
      const present = state.rules.filter((r) => r.chain === chain).map((r) => r.comment);
      const wantedComments = wantedRules.map((words) => (words[words.length - 1] ?? '').replace(/"/g, ''));
      if (present.join(' ') !== wantedComments.join(' ')) {
        if (present.length > 0) await run(this.nft('flush', 'chain', ...NFT_TABLE, chain));
        for (const words of wantedRules) await run(this.nft('add', 'rule', ...NFT_TABLE, chain, ...words));
      }
    }

    const wanted = new Map(rules.map((rule) => [ruleKey(rule), rule]));
    const found = new Set<string>();
    const kindOf = new Map(Object.entries(NFT_CHAIN).map(([kind, name]) => [name, kind as RuleChain]));
    for (const rule of state.rules) {
      const kind = kindOf.get(rule.chain);
      if (kind === undefined) continue;
      if (rule.comment && wanted.has(rule.comment) && !found.has(rule.comment)) found.add(rule.comment);
      else
        await this.runner.run(
          this.nft('delete', 'rule', ...NFT_TABLE, rule.chain, 'handle', String(rule.handle)),
          ruleScope(kind, rule.comment, scope),
        );
    }
    for (const [key, rule] of wanted) {
      if (!found.has(key))
        await this.runner.run(
          this.nft('add', 'rule', ...NFT_TABLE, NFT_CHAIN[rule.chain], ...nftExpression(rule)),
          ruleScope(rule.chain, key, scope),
        );
    }
  }
}

/** Neither packet filter works: networks cannot be made until one is installed (and detected again). */
export class FirewallMissing extends Error {}

/** How to install iptables on this distro (os-release ID and ID_LIKE), as one command line. */
export function firewallInstallHint(osRelease: Record<string, string>): string {
  const ids = [osRelease.ID ?? '', ...(osRelease.ID_LIKE ?? '').split(/\s+/)];
  if (ids.some((id) => id === 'debian' || id === 'ubuntu')) return 'apt-get install iptables';
  if (ids.some((id) => id === 'fedora' || id === 'rhel' || id === 'centos')) return 'dnf install iptables-nft';
  if (ids.includes('alpine')) return 'apk add iptables';
  if (ids.includes('arch')) return 'pacman -S iptables-nft';
  if (ids.some((id) => id === 'suse' || id.startsWith('opensuse'))) return 'zypper install iptables';
  return 'install the iptables (or nftables) package';
}

/**
 * iptables when the machine has it (Debian 12's is the nft backend): the FORWARD chain whose
 * policy other tools set lives there, so our accept has to be in that chain to count. nftables
 * otherwise: our own table (an accept there cannot overrule another table's drop — noted, and
 * the reason iptables is preferred). ONGGI_FIREWALL=iptables|nftables forces one.
 */
export async function detectFirewall(
  runner: CommandRunner,
  preference: string | undefined = process.env.ONGGI_FIREWALL,
  prefix: readonly string[] = [],
): Promise<FirewallBackend> {
  const works = (argv: string[]) =>
    readCommand([...prefix, ...argv]).then(
      () => true,
      () => false,
    );
  if (preference === 'nftables' || preference === 'nft') return new NftablesBackend(runner, prefix);
  if (preference === 'iptables') return new IptablesBackend(runner, prefix);
  if (await works(['iptables', '-w', '-t', 'nat', '-S', 'POSTROUTING'])) return new IptablesBackend(runner, prefix);
  if (await works(['nft', 'list', 'tables'])) return new NftablesBackend(runner, prefix);
  throw new FirewallMissing(
    `neither iptables nor nft works on this machine: networks need one of them for NAT and published ports (${firewallInstallHint(await readOsRelease())})`,
  );
}
