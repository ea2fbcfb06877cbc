// The kernel driver against the real kernel, in netns of the test's own (a "machine" and a
// "container" one, each held by a sleeping process): a veth set up in two `ip -batch` processes
// is what six lone commands made (the container end renamed, addressed, routed), the activity
// log shows one entry per kernel step as the command it equals, a failing batch line is recorded
// and thrown as that command's failure, and teardown is idempotent and reports what it could not do.
// Nothing is made in the test runner's own netns.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityLog, CommandFailedError } from '../activity/activity-log.js';
import { BridgeDriver } from './bridge-driver.js';
import { runIpBatch, startIpBatch } from './commands.js';
import { netnsInode, readNetns } from './kernel.js';
import type { Attachment, NetworkRecord } from './state.js';

const isRoot = process.getuid?.() === 0;
const NS = `onggi-t-drv-${process.pid}`;
let machine: ChildProcess | undefined;
let container: ChildProcess | undefined;

/** A process sleeping in a netns: the driver addresses namespaces by pid, as it does containers. */
function holder(argv: string[]): ChildProcess {
  return spawn(argv[0] ?? 'nsenter', argv.slice(1), { stdio: 'ignore' });
}

/** Until the holder has entered its netns (a pid seen before its setns still shows ours): nothing may be made in the runner's own. */
async function entered(child: ChildProcess): Promise<void> {
  const own = await netnsInode('self');
  for (;;) {
    const inode = await netnsInode(child.pid ?? 0);
    if (inode === null) throw new Error('the netns holder is gone');
    if (inode !== own) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

beforeAll(async () => {
  if (!isRoot) return;
  expect(spawnSync('ip', ['netns', 'add', NS]).status).toBe(0);
  machine = holder(['ip', 'netns', 'exec', NS, 'sleep', '600']);
  container = holder(['unshare', '--net', 'sleep', '600']);
  await entered(machine);
  await entered(container);
});
afterAll(() => {
  // By pid, each one we started.
  machine?.kill('SIGKILL');
  container?.kill('SIGKILL');
  if (isRoot) spawnSync('ip', ['netns', 'del', NS]);
});

const network: NetworkRecord = {
  id: 'n1',
  name: 'web',
  bridge: 'ogbtest0000001',
  subnet: '10.77.0.0/24',
  gateway: '10.77.0.1',
  isDefault: false,
  createdAt: '2026-12-06T00:00:00.000Z',
  materialized: true,
};
const attachment: Attachment = {
  networkId: 'n1',
  ip: '10.77.0.2',
  mac: '02:42:0a:4d:00:02',
  iface: 'eth0',
  hostVeth: 'ogvtest00000010',
  peerTemp: 'ogctest00000010',
  phase: 'ready',
};

describe.skipIf(!isRoot)('runIpBatch', () => {
  it('records each line as the command it equals and stops at the failing line, as that command would fail', async () => {
    const activity = new ActivityLog();
    const prefix = ['nsenter', `--net=/run/netns/${NS}`];
    await runIpBatch(activity, prefix, [
      ['link', 'add', 'ogbtb1', 'type', 'bridge'],
      ['addr', 'add', '10.78.0.1/24', 'dev', 'ogbtb1'],
      ['link', 'set', 'ogbtb1', 'up'],
    ]);
    const entries = activity.list();
    expect(entries.map((e) => e.argv?.join(' '))).toEqual([
      `nsenter --net=/run/netns/${NS} ip link add ogbtb1 type bridge`,
      `nsenter --net=/run/netns/${NS} ip addr add 10.78.0.1/24 dev ogbtb1`,
      `nsenter --net=/run/netns/${NS} ip link set ogbtb1 up`,
    ]);
    expect(entries.every((e) => e.ok)).toBe(true);
    const view = await readNetns({ pid: machine?.pid ?? 0 });
    expect(view.addrs.find((l) => l.ifname === 'ogbtb1')?.addr_info?.[0]?.local).toBe('10.78.0.1');

    const failing = runIpBatch(activity, prefix, [
      ['link', 'set', 'ogbtb1', 'down'],
      ['link', 'add', 'ogbtb1', 'type', 'bridge'],
      ['link', 'set', 'ogbtb1', 'up'],
    ]);
    const error = await failing.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect((error as CommandFailedError).argv.join(' ')).toBe(`nsenter --net=/run/netns/${NS} ip link add ogbtb1 type bridge`);
    expect((error as CommandFailedError).stderr).toMatch(/exists/i);
    const after = activity.list().slice(3);
    expect(after.map((e) => [e.argv?.slice(2).join(' '), e.ok])).toEqual([
      ['ip link set ogbtb1 down', true],
      ['ip link add ogbtb1 type bridge', false],
    ]);
    spawnSync('ip', ['-n', NS, 'link', 'del', 'ogbtb1']);
  });

  it('startIpBatch: spawned before its device exists, runs the lines sent later in the netns it entered; cancelled, runs none', async () => {
    const activity = new ActivityLog();
    const pid = container?.pid ?? 0;
    const ns = ['nsenter', `--net=/proc/${pid}/ns/net`];
    const inside = startIpBatch(activity, ns, { container: 'c3' });
    const idle = startIpBatch(activity, ns, { container: 'c3' });
    try {
      // The machine side (the test's named netns) makes the pair and moves one end in only now.
      await runIpBatch(
        activity,
        ['nsenter', `--net=/run/netns/${NS}`],
        [
          ['link', 'add', 'ogvtb3', 'type', 'veth', 'peer', 'name', 'ogctb3'],
          ['link', 'set', 'ogctb3', 'netns', String(pid)],
        ],
      );
      await inside.run([['link', 'set', 'ogctb3', 'name', 'eth3', 'up']]);
      expect((await readNetns({ pid })).links.find((l) => l.ifname === 'eth3')?.flags).toContain('UP');
      expect(activity.list().map((e) => [e.argv?.slice(2).join(' '), e.container])).toEqual([
        ['ip link add ogvtb3 type veth peer name ogctb3', undefined],
        [`ip link set ogctb3 netns ${pid}`, undefined],
        ['ip link set ogctb3 name eth3 up', 'c3'],
      ]);
      idle.cancel();
      // A failing line of a batch started ahead is thrown as that command's failure, like any other.
      const failing = startIpBatch(activity, ns);
      const error = await failing.run([['link', 'set', 'ognosuch', 'up']]).catch((e: unknown) => e);
      expect((error as CommandFailedError).argv.join(' ')).toBe(`nsenter --net=/proc/${pid}/ns/net ip link set ognosuch up`);
      expect(activity.list().map((e) => e.ok)).toEqual([true, true, true, false]);
    } finally {
      idle.cancel();
      spawnSync('ip', ['-n', NS, 'link', 'del', 'ogvtb3']);
    }
  });

  it('refuses a token iproute2 would split or read as a quote or comment', async () => {
    const activity = new ActivityLog();
    await expect(runIpBatch(activity, [], [['link', 'set', 'a b', 'up']])).rejects.toThrow(/not a batch line/);
    await expect(runIpBatch(activity, [], [['link', 'set', 'x#', 'up']])).rejects.toThrow(/not a batch line/);
    expect(activity.list()).toEqual([]);
  });
});

describe.skipIf(!isRoot)('BridgeDriver in a container netns', () => {
  it('sets up the container end in one batch and tears down idempotently, logging what fails', async () => {
    const activity = new ActivityLog();
    const logged: string[] = [];
    const driver = new BridgeDriver(activity, { error: (message) => logged.push(message) });
    const pid = container?.pid ?? 0;
    // The machine end is the test's own netns here only if the test runs as the agent would: it
    // does not (the host's netns must stay untouched), so the veth is made inside the container
    // netns and its end renamed there — the container-side batch is what is under test.
    const ns = ['nsenter', `--net=/proc/${pid}/ns/net`];
    expect(
      spawnSync(ns[0] ?? '', [...ns.slice(1), 'ip', 'link', 'add', attachment.peerTemp, 'type', 'veth', 'peer', 'name', 'ogxtest0']).status,
    ).toBe(0);
    await runIpBatch(activity, ns, [
      ['link', 'set', attachment.peerTemp, 'name', attachment.iface, 'up'],
      ['addr', 'add', `${attachment.ip}/24`, 'dev', attachment.iface],
      ['route', 'add', 'default', 'via', network.gateway],
    ]);
    const view = await readNetns({ pid });
    expect(view.addrs.find((l) => l.ifname === 'eth0')?.addr_info?.[0]?.local).toBe(attachment.ip);
    expect(view.routes.find((r) => r.dst === 'default')?.gateway).toBe(network.gateway);
    expect(activity.list().map((e) => e.argv?.slice(2).join(' '))).toEqual([
      'ip link set ogctest00000010 name eth0 up',
      'ip addr add 10.77.0.2/24 dev eth0',
      'ip route add default via 10.77.0.1',
    ]);

    // Teardown of links that do not exist (on the machine side: this test's netns has none of these names) is a no-op, twice.
    expect(await driver.teardownVeths([attachment], { container: 'c1' })).toEqual([]);
    expect(await driver.teardownVeths([attachment], { container: 'c1' })).toEqual([]);
    expect(logged).toEqual([]);
  });

  it('teardown goes on past a failed step and logs it (a link that stays is an error; one gone is not)', async () => {
    // `lo` exists in every netns and the stand-in never runs the command: nothing is deleted for real.
    class Refusing extends ActivityLog {
      override run(argv: readonly string[]): Promise<never> {
        this.record({ kind: 'command', argv: [...argv], ok: false, error: 'refused', durationMs: 0 });
        return Promise.reject(new CommandFailedError(argv, 2, 'refused'));
      }
    }
    const logged: string[] = [];
    const driver = new BridgeDriver(new Refusing(), { error: (message, error) => logged.push(`${message}: ${String(error)}`) });
    const errors = await driver.teardownVeths([{ ...attachment, hostVeth: 'lo', peerTemp: 'lo' }], { container: 'c2' });
    expect(errors).toHaveLength(2);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatch(/^container c2: removing veths: .*ip link del lo failed/);
  });
});
