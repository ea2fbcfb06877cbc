// The packet filter backends against the real kernel, in a netns of the test's own: desired state
// in, exactly those rules out; a second apply changes nothing; a removed network's rules go; no
// network, no chains or table at all. Rules are recognized again by a fresh backend (a restart).
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityLog } from '../activity/activity-log.js';
import { activityRunner } from './commands.js';
import {
  IptablesBackend,
  NftablesBackend,
  desiredRules,
  firewallInstallHint,
  iptablesArgs,
  nftExpression,
  ownerOfKey,
  ruleKey,
  type FirewallBackend,
} from './firewall.js';

const NS = `onggi-t-fw-${process.pid}`;
const prefix = ['nsenter', `--net=/run/netns/${NS}`];
const networks = [
  { name: 'web', bridge: 'ogb000000000001', subnet: '10.90.0.0/24' },
  { name: 'db', bridge: 'ogb000000000002', subnet: '10.91.0.0/24' },
];
const ports = [{ owner: 'site', hostIp: '0.0.0.0', hostPort: 8080, protocol: 'tcp' as const, ip: '10.90.0.2', containerPort: 80 }];

/** A netns and packet filter rules need root: those suites say so instead of failing. */
const isRoot = process.getuid?.() === 0;

beforeAll(() => {
  if (isRoot) expect(spawnSync('ip', ['netns', 'add', NS]).status).toBe(0);
});
afterAll(() => {
  if (isRoot) spawnSync('ip', ['netns', 'del', NS]);
});

function inNs(argv: string[]): string {
  return spawnSync(prefix[0] ?? 'nsenter', [...prefix.slice(1), ...argv], { encoding: 'utf8' }).stdout;
}

describe('rule model', () => {
  it('derives one key per rule, naming its owner, stable across runs', () => {
    const rules = desiredRules(networks, ports);
    expect(rules).toHaveLength(2 * 8 + 1);
    const keys = rules.map(ruleKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.every((key) => /^onggi:(web|db|site):[0-9a-f]{10}$/.test(key))).toBe(true);
    expect(ownerOfKey(ruleKey(rules[0]!))).toBe('web');
    expect(desiredRules(networks, ports).map(ruleKey)).toEqual(keys);
  });

  it('renders the same rule for iptables and nftables', () => {
    const masquerade = desiredRules([networks[0]!], []).find((r) => r.target.kind === 'masquerade' && r.src === '10.90.0.0/24')!;
    expect(iptablesArgs(masquerade)).toEqual([
      '!',
      '-o',
      'ogb000000000001',
      '-s',
      '10.90.0.0/24',
      '-m',
      'comment',
      '--comment',
      ruleKey(masquerade),
      '-j',
      'MASQUERADE',
    ]);
    expect(nftExpression(masquerade).join(' ')).toBe(
      `oifname != "ogb000000000001" ip saddr 10.90.0.0/24 masquerade comment "${ruleKey(masquerade)}"`,
    );
    const dnat = desiredRules([], ports)[0]!;
    expect(iptablesArgs(dnat).join(' ')).toBe(
      `-p tcp --dport 8080 -m comment --comment ${ruleKey(dnat)} -j DNAT --to-destination 10.90.0.2:80`,
    );
    expect(nftExpression(dnat).join(' ')).toBe(`tcp dport 8080 dnat to 10.90.0.2:80 comment "${ruleKey(dnat)}"`);
  });
});

describe.skipIf(!isRoot).each([
  ['iptables', (log: ActivityLog) => new IptablesBackend(activityRunner(log), prefix)],
  ['nftables', (log: ActivityLog) => new NftablesBackend(activityRunner(log), prefix)],
] as const)('%s backend (real kernel, own netns)', (_name, make: (log: ActivityLog) => FirewallBackend) => {
  it('converges on the desired rules, changes nothing when they hold, and removes everything at the end', async () => {
    const log = new ActivityLog();
    const backend = make(log);
    const wanted = desiredRules(networks, ports);
    await backend.apply(wanted);
    const keys = (await backend.current()).map((r) => r.key).filter((k) => ownerOfKey(k) !== undefined);
    expect(keys.sort()).toEqual(wanted.map(ruleKey).sort());

    // A fresh backend (a restarted daemon) recognizes every rule: nothing to do.
    const again = new ActivityLog();
    await make(again).apply(wanted);
    expect(again.list()).toEqual([]);

    // One network removed: its rules go, the other's stay untouched.
    const removal = new ActivityLog();
    await make(removal).apply(desiredRules([networks[1]!], []));
    const left = (await backend.current()).map((r) => ownerOfKey(r.key)).filter(Boolean);
    expect(new Set(left)).toEqual(new Set(['db']));
    expect(removal.list().every((e) => e.argv?.includes('-D') || e.argv?.includes('delete'))).toBe(true);

    // A rule deleted by hand is put back.
    if (_name === 'iptables') inNs(['iptables', '-w', '-t', 'nat', '-F', 'ONGGI-POSTROUTING']);
    else inNs(['nft', 'flush', 'chain', 'ip', 'onggi', 'postrouting']);
    await backend.apply(desiredRules([networks[1]!], []));
    expect((await backend.current()).filter((r) => r.text.includes('10.91.0.0/24')).length).toBeGreaterThan(0);

    await backend.apply(null);
    expect(await backend.current()).toEqual([]);
    const listing = `${inNs(['iptables', '-w', '-S'])}${inNs(['iptables', '-w', '-t', 'nat', '-S'])}${inNs(['nft', 'list', 'table', 'ip', 'onggi'])}`;
    expect(listing).not.toMatch(/ONGGI|onggi/);
  });
});

describe.skipIf(!isRoot)('iptables backend: remove (real kernel, own netns)', () => {
  it('deletes a port’s rule as it was added, with one command and no read; one that is not there throws', async () => {
    const backend = new IptablesBackend(activityRunner(new ActivityLog()), prefix);
    await backend.apply(desiredRules(networks, ports));
    const log = new ActivityLog();
    const dnat = desiredRules([], ports);
    await new IptablesBackend(activityRunner(log), prefix).remove(dnat, {});
    expect(log.list().map((e) => [e.argv?.slice(2).join(' '), e.container, e.ok])).toEqual([
      [`iptables -w -t nat -D ONGGI-PORTS ${iptablesArgs(dnat[0]!).join(' ')}`, 'site', true],
    ]);
    // Exactly the networks' rules are left: the same as a full apply without the port.
    const keys = (await backend.current()).map((r) => r.key).filter((k) => ownerOfKey(k) !== undefined);
    expect(keys.sort()).toEqual(desiredRules(networks, []).map(ruleKey).sort());
    await expect(backend.remove(dnat, {})).rejects.toThrow(/ONGGI-PORTS/);
    await backend.apply(null);
    expect(await backend.current()).toEqual([]);
  });
});

describe('firewallInstallHint', () => {
  it('names the package manager and package of the distro, by ID or ID_LIKE', () => {
    expect(firewallInstallHint({ ID: 'debian' })).toBe('apt-get install iptables');
    expect(firewallInstallHint({ ID: 'linuxmint', ID_LIKE: 'ubuntu debian' })).toBe('apt-get install iptables');
    expect(firewallInstallHint({ ID: 'rocky', ID_LIKE: 'rhel centos fedora' })).toBe('dnf install iptables-nft');
    expect(firewallInstallHint({ ID: 'alpine' })).toBe('apk add iptables');
    expect(firewallInstallHint({ ID: 'opensuse-tumbleweed', ID_LIKE: 'opensuse suse' })).toBe('zypper install iptables');
    expect(firewallInstallHint({})).toBe('install the iptables (or nftables) package');
  });
});
