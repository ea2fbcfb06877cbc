// The kernel driver of a bridge network, in netavark's shape: validate what exists, set up, tear
// down — the bridge with its gateway address, each container's veth pair (machine end on the
// bridge, the other end made in the container under its name ethN, addressed, routed); the
// container's /etc/hosts is bound by the init helper (NetworkManager.hostsFileFor). It decides nothing (the manager and the plan do): it is told what
// to make and makes it, with as few processes as the kernel's tools allow, while the activity log
// still shows every kernel step as the command line it equals.
//
// A veth costs two processes: one `ip -batch` on the machine side (create the pair, its other end
// made in the container's netns under its final name; enslave and raise the machine end) and one
// in the container's netns (raise, address, default route), the latter spawned at once so that it
// is ready when its end arrives. The end is made where it belongs, not made here and then moved
// and renamed: on this 2-core machine under load, `link set … netns PID` alone cost 15–35 ms of
// kernel time per start, making the end in place ~2 ms. Teardown reads what is left from /proc
// and spawns only for what is there; after a stop it first lets the ending netns take its pairs
// with it (teardownVeths' `ending`). Teardown never throws: it collects what failed, logs it, and
// goes on, so one stuck link does not leave the next behind; running it twice is harmless.
import { readFile } from 'node:fs/promises';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { parseCidr } from '../../../shared/networks.js';
import type { ActivityLog, ActivityScope } from '../activity/activity-log.js';
import { CommandFailedError } from '../activity/activity-log.js';
import type { Logger } from '../daemon/logger.js';
import { inNetns, runIpBatch, startIpBatch } from './commands.js';
import { linkNames, readLinks, type IpLink, type NetnsView } from './kernel.js';
import type { Attachment, NetworkRecord } from './state.js';

/** How long a stopped container's veths are given to go with its netns before they are deleted by hand. */
const ENDING_WAIT_MS = 250;

/** The links of `names` still present once they are all gone or `ms` have passed (read from /proc: no spawn). */
async function linksGone(names: readonly string[], ms: number): Promise<Set<string>> {
  const deadline = performance.now() + ms;
  for (let delay = 1; ; delay = Math.min(delay * 2, 16)) {
    const links = await linkNames();
    const left = new Set(names.filter((name) => links.has(name)));
    if (left.size === 0 || performance.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** The agent's log when it has one; tests and tools without one still see errors on stderr. */
const STDERR_LOGGER: Pick<Logger, 'error'> = {
  error: (message, error) => process.stderr.write(`${message}${error === undefined ? '' : `: ${String(error)}`}\n`),
};

export class BridgeDriver {
  constructor(
    private readonly activity: ActivityLog,
    private readonly log: Pick<Logger, 'error'> = STDERR_LOGGER,
  ) {}

  // ---- bridge --------------------------------------------------------------------------------

  /** Refuses a device of the bridge's name that is not a bridge (someone else's). */
  validateBridge(network: NetworkRecord, view: NetnsView): IpLink | undefined {
    const link = view.addrs.find((l) => l.ifname === network.bridge) ?? view.links.find((l) => l.ifname === network.bridge);
    if (link && link.linkinfo?.info_kind !== undefined && link.linkinfo.info_kind !== 'bridge')
      throw new OnggiError(ErrorCode.Conflict, 'conflict', `${network.bridge} exists on the machine and is not a bridge`);
    return link;
  }

  /** Brings the bridge to its record: made, addressed, up, forwarding; only the missing steps run. */
  async setupBridge(network: NetworkRecord, view: NetnsView): Promise<void> {
    const scope = { network: network.name };
    const prefix = parseCidr(network.subnet).prefix;
    const link = this.validateBridge(network, view);
    const lines: string[][] = [];
    if (!link) lines.push(['link', 'add', network.bridge, 'type', 'bridge']);
    if (!(link?.addr_info ?? []).some((a) => a.family === 'inet' && a.local === network.gateway && a.prefixlen === prefix))
      lines.push(['addr', 'add', `${network.gateway}/${prefix}`, 'dev', network.bridge]);
    if (!link?.flags.includes('UP')) lines.push(['link', 'set', network.bridge, 'up']);
    await runIpBatch(this.activity, [], lines, scope);
    // Published ports answer on 127.0.0.1 too: DNAT'd loopback traffic may leave through the bridge only with this.
    await this.sysctl(`/proc/sys/net/ipv4/conf/${network.bridge}/route_localnet`, '1', scope);
    // Routing between the bridge and the world, in the netns the agent runs in.
    await this.sysctl('/proc/sys/net/ipv4/ip_forward', '1', scope);
  }

  /** Deletes a bridge (its ports go with it); errors are collected, logged and returned. */
  async teardownBridge(network: NetworkRecord): Promise<Error[]> {
    return this.collect(`network ${network.name}: removing bridge ${network.bridge}`, [
      () => this.deleteLink(network.bridge, { network: network.name }),
    ]);
  }

  // ---- veth ----------------------------------------------------------------------------------

  /** One veth pair: machine end on the bridge, the other end made in the container as ethN, with its address (and the default route). */
  async setupVeth(pid: number, attachment: Attachment, network: NetworkRecord, defaultRoute: boolean, scope: ActivityScope): Promise<void> {
    // attachment.peerTemp is never made now: teardown still reaps it, as an older agent's crash may have left it.
    const machine = [
      [
        'link',
        'add',
        attachment.hostVeth,
        'type',
        'veth',
        'peer',
        'name',
        attachment.iface,
        'netns',
        String(pid),
        'address',
        attachment.mac,
      ],
      ['link', 'set', attachment.hostVeth, 'master', network.bridge, 'up'],
    ];
    // The container side's process starts now and waits for its lines: its spawn overlaps the machine side's work.
    const inside = startIpBatch(this.activity, inNetns(pid), scope);
    try {
      await runIpBatch(this.activity, [], machine, scope);
    } catch (error) {
      // A crash's leftover of the same name (the daemon died before it could reap): reap and retry once.
      const retry = error instanceof CommandFailedError && error.argv.includes('add') && /exists/i.test(error.stderr);
      if (!retry || (await this.teardownVeths([attachment], scope)).length > 0) {
        inside.cancel();
        throw error;
      }
      await runIpBatch(this.activity, [], machine, scope).catch((again: unknown) => {
        inside.cancel();
        throw again;
      });
    }
    const prefix = parseCidr(network.subnet).prefix;
    const container = [
      ['link', 'set', attachment.iface, 'up'],
      ['addr', 'add', `${attachment.ip}/${prefix}`, 'dev', attachment.iface],
    ];
    if (defaultRoute) container.push(['route', 'add', 'default', 'via', network.gateway]);
    await inside.run(container);
  }

  /**
   * Deletes what exists of these attachments' veths on the machine side (deleting one end deletes
   * the pair). Never throws: what could not be removed is logged and returned.
   *
   * `ending`: the container's netns is going away (its init has exited, its /run/netns name is
   * removed), and the kernel deletes the pairs with it, a few ms later, in its own worker. An
   * `ip link del` spawned meanwhile only contends with that work (13–20 ms a stop in bench case 2,
   * against a pair that was going anyway): the links are given ENDING_WAIT_MS to go by themselves,
   * and only what is still there then (a netns someone else holds open) is deleted.
   */
  async teardownVeths(attachments: readonly Attachment[], scope: ActivityScope, { ending = false } = {}): Promise<Error[]> {
    if (attachments.length === 0) return [];
    const what = `${scope.container === undefined ? '' : `container ${scope.container}: `}removing veths`;
    const names = attachments.flatMap((a) => [a.hostVeth, a.peerTemp]);
    let present: Set<string>;
    try {
      present = ending ? await linksGone(names, ENDING_WAIT_MS) : await linkNames();
    } catch (error) {
      // Without the link list, try every name: deleteLink tells gone from failed by itself.
      this.log.error(`${what}: the link list could not be read`, error);
      present = new Set(names);
    }
    const steps: Array<() => Promise<void>> = [];
    for (const a of attachments)
      for (const name of [a.hostVeth, a.peerTemp]) if (present.has(name)) steps.push(() => this.deleteLink(name, scope));
    return this.collect(what, steps);
  }

  /** Deletes a link; one already gone is success (the kernel's link list decides, not the command's message). */
  async deleteLink(name: string, scope: ActivityScope): Promise<void> {
    try {
      await this.activity.run(['ip', 'link', 'del', name], scope);
    } catch (error) {
      // Gone already (its pair went first, or another teardown): the goal is met.
      if ((await readLinks()).some((link) => link.ifname === name)) throw error;
    }
  }

  /** Makes a running container's veth a port of its bridge again (the bridge was re-created under it). */
  async reattach(hostVeth: string, bridge: string, scope: ActivityScope): Promise<void> {
    await this.activity.run(['ip', 'link', 'set', hostVeth, 'master', bridge, 'up'], scope);
  }

  // ---- helpers -------------------------------------------------------------------------------

  private async sysctl(path: string, value: string, scope: ActivityScope): Promise<void> {
    // An unreadable value is written like a different one: the write then says what is wrong.
    const current = (await readFile(path, 'utf8').catch(() => '')).trim();
    if (current !== value) await this.activity.write(path, value, scope);
  }

  /** Runs every step, even after one failed; logs each failure (the activity log has the kernel's side). */
  private async collect(what: string, steps: ReadonlyArray<() => Promise<void>>): Promise<Error[]> {
    const errors: Error[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        errors.push(error instanceof Error ? error : new Error(String(error)));
      }
    }
    for (const error of errors) this.log.error(what, error);
    return errors;
  }
}
