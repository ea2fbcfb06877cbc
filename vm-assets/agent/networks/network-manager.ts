// Bridge networks on the machine: the default bridge and user networks, each container's veth
// pairs, addresses, routes and /etc/hosts, NAT and published ports — and, after a restart or a
// crash, the reconciliation of all of it with what the kernel actually has.
//
// The records (state.ts) say what should exist; the kernel is brought to them. A change is
// recorded first, then made, so a daemon killed half-way finds a record describing more than the
// kernel has (reapplied) or kernel leftovers no record describes (reaped by their names, which
// are ours by construction: onggi0/ogb… bridges, ogv…/ogc… veths, ONGGI-* chains).
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentEvent } from '../../../shared/agent-rpc.js';
import type { ContainerSummary } from '../../../shared/containers.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import {
  cidrsOverlap,
  isIpv4,
  parseCidr,
  type NetworkAttachment,
  type NetworkDetail,
  type NetworkSummary,
  type ProbeResult,
  type PublishedPort,
  type Topology,
} from '../../../shared/networks.js';
import type { ActivityLog, ActivityScope } from '../activity/activity-log.js';
import type { Logger } from '../daemon/logger.js';
import type { ContainerRecord } from '../runtime/container-record.js';
import { BridgeDriver } from './bridge-driver.js';
import { ensureSbinOnPath } from './commands.js';
import {
  desiredRules,
  detectFirewall,
  ownerOfKey,
  ruleKey,
  type FirewallBackend,
  type FirewallNetwork,
  type FirewallPort,
  type RuleSpec,
} from './firewall.js';
import { FirewallSync } from './firewall-sync.js';
import { HostsFiles, extraHostsEntries, sharingWith, type HostsView } from './hosts-file.js';
import { DEFAULT_NETWORK_NAME, DEFAULT_SUBNETS, OUR_BRIDGE, OUR_VETH, allocateAddress, defaultGateway } from './ipam.js';
import { readNetns } from './kernel.js';
import { NetnsNames } from './netns-names.js';
import { KernelMonitor } from './monitor.js';
import {
  addressError,
  checkPorts,
  conflict,
  derivable,
  invalid,
  machineRoutes,
  newNetworkRecord,
  planAttachment,
  planNetworks,
  planSubnet,
  type SpecNetworks,
} from './plan.js';
import { probePing, probeTcp } from './probe.js';
import { NetworkStore, emptyState, type Attachment, type ContainerNetworks, type NetworkRecord, type NetworkState } from './state.js';
import { NetnsViewCache } from './netns-cache.js';
import { snapshotTopology } from './topology.js';

/** What the manager needs to know about containers (the runtime, seen from here). */
export interface ContainerSource {
  /** Throws OnggiError not_found (field params.container) for an unknown selector. */
  find(selector: string): ContainerRecord;
  /** Every container, in any state. */
  list(): ContainerSummary[];
}

export interface NetworkManagerOptions {
  /** Where the network records and hosts files live (`<state>/networks`). */
  root: string;
  activity: ActivityLog;
  /** The daemon's log: teardown failures are written there (the kernel steps' own in the activity log). */
  log?: Pick<Logger, 'error'>;
  emit: (event: AgentEvent) => void;
  /** Create the default bridge network when it is missing (off: `ONGGI_DEFAULT_NETWORK=none`, like dockerd --bridge=none). */
  defaultNetwork: boolean;
  firewall?: FirewallBackend;
  /** Watch the kernel for link/address/route changes made by others. */
  monitor?: boolean;
  /** The prefix of containers' names under /run/netns (netns-names.ts); none: no names are made. */
  netnsPrefix?: string;
}

export class NetworkManager {
  private state: NetworkState = emptyState();
  private readonly store: NetworkStore;
  private readonly driver: BridgeDriver;
  private readonly hosts: HostsFiles;
  private readonly netnsNames: NetnsNames | undefined;
  /** Container namespaces' last `ip -j` views, reused while unchanged (topology snapshots). */
  private readonly netnsViews = new NetnsViewCache();
  private source: ContainerSource | undefined;
  /** Containers whose veths are (being) set up: id → pid. The authority for hosts files and port rules. */
  private readonly active = new Map<string, number>();
  /** Containers whose start is under way before their process exists, their published ports claimed: id → their rules' sync (prepareStart). */
  private readonly starting = new Map<string, Promise<void>>();
  private lock: Promise<unknown> = Promise.resolve();
  private reconciled = false;
  /** The packet filter's runs, one at a time, made from firewallInputs. */
  private readonly rules: FirewallSync;
  private changeTimer: NodeJS.Timeout | undefined;
  private changeReason = 'kernel';
  private monitor: KernelMonitor | undefined;

  private constructor(
    private readonly options: NetworkManagerOptions,
    readonly firewall: FirewallBackend,
  ) {
    this.store = new NetworkStore(join(options.root, 'networks.json'));
    this.driver = new BridgeDriver(options.activity, options.log);
    this.hosts = new HostsFiles(join(options.root, 'hosts'));
    this.rules = new FirewallSync(
      firewall,
      () => ({ ...this.firewallInputs(), madeKernelChanges: this.state.madeKernelChanges }),
      () => this.reconciled,
    );
    this.netnsNames =
      options.netnsPrefix === undefined
        ? undefined
        : new NetnsNames(options.activity, options.netnsPrefix, join(options.root, 'netns-names.json'), (message, error) =>
            this.log.error(message, error),
          );
  }

  /** What the hosts files are made from: the records and the running containers. */
  private get view(): HostsView {
    return { state: this.state, active: this.active };
  }

  private get log(): Pick<Logger, 'error'> {
    return this.options.log ?? { error: () => undefined };
  }

  /** Reads the records and finds the packet filter; touches nothing in the kernel yet. */
  static async open(options: NetworkManagerOptions): Promise<NetworkManager> {
    ensureSbinOnPath();
    const firewall = options.firewall ?? (await detectFirewall({ run: (argv, scope, o) => options.activity.run(argv, scope, o) }));
    const manager = new NetworkManager(options, firewall);
    await mkdir(join(options.root, 'hosts'), { recursive: true, mode: 0o700 });
    manager.state = await manager.store.load();
    return manager;
  }

  // ---- start-up ------------------------------------------------------------------------------

  /**
   * After the runtime has found its containers again: forget what belongs to containers that are
   * gone, roll back connects that never finished, make sure the default network exists, and bring
   * the kernel to the records (bridges, veths of running containers, hosts files, rules).
   */
  async reconcile(source: ContainerSource | undefined): Promise<void> {
    this.source = source;
    // Without a runtime (cgroups unusable) nothing is known about containers: keep their records.
    const containers = source?.list() ?? [];
    const exists = new Set(containers.map((c) => c.id));
    await this.exclusive(async () => {
      for (const id of Object.keys(this.state.containers)) {
        if (source && !exists.has(id)) {
          delete this.state.containers[id];
          await this.hosts.remove(id);
        }
      }
      const known = new Set(Object.keys(this.state.containers));
      // A hosts file no record explains: left by a removal the daemon did not finish. (open() made
      // the directory: an unreadable one has nothing to reap, and the first write will say why.)
      for (const file of await readdir(this.hosts.dir).catch((): string[] => [])) if (!known.has(file)) await this.hosts.remove(file);
      for (const membership of Object.values(this.state.containers))
        membership.attachments = membership.attachments.filter((a) => a.phase === 'ready');
      if (this.options.defaultNetwork && !this.state.networks.some((n) => n.isDefault)) {
        const view = await readNetns();
        const taken = [
          ...machineRoutes(view, this.state.networks).map((r) => r.cidr),
          ...this.state.networks.map((n) => parseCidr(n.subnet)),
        ];
        const subnet = DEFAULT_SUBNETS.map((s) => parseCidr(s)).find((c) => !taken.some((t) => cidrsOverlap(t, c)));
        if (subnet) this.state.networks.push(newNetworkRecord(DEFAULT_NETWORK_NAME, subnet, defaultGateway(subnet), true));
      }
      await this.store.save(this.state);
    });

    const running = containers.filter((c) => c.state === 'running' && c.pid !== null);
    for (const c of running) if (this.state.containers[c.id] && c.pid !== null) this.active.set(c.id, c.pid);
    const view = await readNetns();
    for (const network of this.state.networks) if (network.materialized) await this.driver.setupBridge(network, view);
    const expected = new Set<string>();
    for (const id of this.active.keys()) for (const a of this.state.containers[id]?.attachments ?? []) expected.add(a.hostVeth);
    const bridges = new Set(this.state.networks.filter((n) => n.materialized).map((n) => n.bridge));
    // An agent that never made a bridge owns nothing to reap: links named like ours belong to another agent in this netns.
    for (const link of this.state.madeKernelChanges ? view.links : []) {
      const stale =
        (OUR_BRIDGE.test(link.ifname) && !bridges.has(link.ifname)) || (OUR_VETH.test(link.ifname) && !expected.has(link.ifname));
      // Veths are reaped only when the containers are known: an unknown runtime state could hide running ones.
      if (stale && (source || OUR_BRIDGE.test(link.ifname))) await this.driver.deleteLink(link.ifname, {});
    }
    // What the kernel lost while we were away: a running container's veth (re-created into its netns) or its bridge port.
    for (const [id, pid] of this.active) {
      const membership = this.state.containers[id];
      if (!membership) continue;
      for (const attachment of membership.attachments) {
        const network = this.networkById(attachment.networkId);
        if (!network?.materialized) continue;
        const link = view.links.find((l) => l.ifname === attachment.hostVeth);
        const scope = { container: membership.name, network: network.name };
        // A container that cannot be re-plumbed keeps running without that network: the failed step
        // is in the activity log, the reason in the daemon's; the other containers are still brought back.
        try {
          if (!link) await this.driver.setupVeth(pid, attachment, network, membership.attachments[0] === attachment, scope);
          else if (link.master !== network.bridge) await this.driver.reattach(attachment.hostVeth, network.bridge, scope);
        } catch (error) {
          this.log.error(`container ${membership.name}: its veth on network ${network.name} could not be restored`, error);
        }
      }
    }
    await this.hosts.update(this.view, [...this.active.keys()]);
    await this.netnsNames?.reconcile(running.flatMap((c) => (c.pid === null ? [] : [{ id: c.id, name: c.name, pid: c.pid }])));
    this.reconciled = true;
    await this.rules.sync();
    if (this.options.monitor) {
      this.monitor = new KernelMonitor(() => this.changed('kernel'));
      await this.monitor.start();
    }
    this.changed('agent.start');
  }

  close(): void {
    this.monitor?.close();
    clearTimeout(this.changeTimer);
  }

  // ---- networks ------------------------------------------------------------------------------

  list(): NetworkSummary[] {
    return this.state.networks.map((n) => this.summary(n));
  }

  async create(params: { name: string; subnet?: string; gateway?: string }): Promise<NetworkSummary> {
    const network = await this.exclusive(async () => {
      if (this.state.networks.some((n) => n.name === params.name))
        throw conflict(`a network named "${params.name}" already exists`, 'params.name');
      const view = await readNetns();
      const { subnet, gateway } = planSubnet(params, this.state.networks, view);
      const network = newNetworkRecord(params.name, subnet, gateway, false);
      if (view.links.some((l) => l.ifname === network.bridge))
        throw conflict(`a device named ${network.bridge} already exists`, 'params.name');
      this.state.networks.push(network);
      this.state.madeKernelChanges = true;
      await this.store.save(this.state);
      return network;
    });
    try {
      await this.driver.setupBridge(network, await readNetns());
      await this.rules.sync();
    } catch (error) {
      // Undo: a network that is not whole is not kept.
      await this.exclusive(async () => {
        this.state.networks = this.state.networks.filter((n) => n.id !== network.id);
        await this.store.save(this.state);
      });
      await this.driver.teardownBridge(network);
      await this.rules
        .sync()
        .catch((undo: unknown) => this.log.error(`network ${network.name}: rules not removed after a failed create`, undo));
      throw error;
    }
    this.changed('network.create');
    return this.summary(network);
  }

  async remove(selector: string): Promise<{ id: string }> {
    const network = await this.exclusive(async () => {
      const network = this.findNetwork(selector, 'params.network');
      if (network.isDefault)
        throw new OnggiError(
          ErrorCode.Forbidden,
          'default_network',
          `"${network.name}" is the default network and cannot be removed`,
          'params.network',
        );
      const attached = this.membersOf(network.id).map(([, m]) => m.name);
      if (attached.length > 0)
        throw conflict(
          `network "${network.name}" has containers attached (${attached.join(', ')}): remove them or disconnect them first`,
          'params.network',
        );
      this.state.networks = this.state.networks.filter((n) => n.id !== network.id);
      await this.store.save(this.state);
      return network;
    });
    await this.rules.sync();
    if (network.materialized) await this.driver.deleteLink(network.bridge, { network: network.name });
    this.changed('network.remove');
    return { id: network.id };
  }

  async inspect(selector: string): Promise<NetworkDetail> {
    const network = this.findNetwork(selector, 'params.network');
    // The rule list is a detail of the answer: a packet filter that cannot be read still lets inspect answer.
    const rules = await this.firewall.current().catch(() => []);
    return {
      ...this.summary(network),
      endpoints: this.membersOf(network.id).flatMap(([id, m]) =>
        m.attachments
          .filter((a) => a.networkId === network.id)
          .map((a) => ({
            containerId: id,
            containerName: m.name,
            interface: a.iface,
            ip: a.ip,
            mac: a.mac,
            hostVeth: a.hostVeth,
            active: this.active.has(id),
          })),
      ),
      firewall: { backend: this.firewall.name, rules: rules.filter((r) => ownerOfKey(r.key) === network.name).map((r) => r.text) },
    };
  }

  async connect(params: { network: string; container: string; ip?: string; aliases?: string[] }): Promise<NetworkAttachment> {
    const record = this.findContainer(params.container, 'params.container');
    const { network, attachment, pid } = await this.exclusive(async () => {
      const network = this.findNetwork(params.network, 'params.network');
      const membership = this.ensureMembershipLocked(record);
      if (membership.attachments.some((a) => a.networkId === network.id))
        throw conflict(`container ${record.name} is already connected to "${network.name}"`, 'params.network');
      if (params.aliases?.length && network.isDefault)
        throw invalid('aliases are for user networks only (the default network has no names)', 'params.aliases');
      const pid = this.active.get(record.id);
      const attachment = planAttachment(
        record.id,
        membership,
        network,
        this.usedAddresses(network),
        params.ip,
        'params.ip',
        pid === undefined ? 'ready' : 'pending',
      );
      if (params.aliases?.length) attachment.aliases = [...new Set(params.aliases)];
      membership.attachments.push(attachment);
      await this.store.save(this.state);
      return { network, attachment, pid };
    });
    if (pid !== undefined) {
      const scope = { container: record.name, network: network.name };
      try {
        if (await this.materialize(network.id)) await this.rules.sync();
        const first = this.state.containers[record.id]?.attachments[0] === attachment;
        await this.driver.setupVeth(pid, attachment, network, first, scope);
      } catch (error) {
        await this.driver.teardownVeths([attachment], scope);
        await this.exclusive(async () => {
          const m = this.state.containers[record.id];
          if (m) m.attachments = m.attachments.filter((a) => a !== attachment);
          await this.store.save(this.state);
        });
        throw error;
      }
      await this.exclusive(async () => {
        attachment.phase = 'ready';
        await this.store.save(this.state);
      });
      await this.hosts.update(this.view, sharingWith(this.view, record.id));
      if ((this.state.containers[record.id]?.ports.length ?? 0) > 0) await this.rules.sync();
    }
    this.changed('network.connect');
    return this.attachmentView(record.id, attachment);
  }

  async disconnect(params: { network: string; container: string }): Promise<{ network: string; container: string }> {
    const record = this.findContainer(params.container, 'params.container');
    const { network, attachment, peers } = await this.exclusive(async () => {
      const network = this.findNetwork(params.network, 'params.network');
      const membership = this.ensureMembershipLocked(record);
      const attachment = membership.attachments.find((a) => a.networkId === network.id);
      if (!attachment)
        throw new OnggiError(
          ErrorCode.NotFound,
          'not_connected',
          `container ${record.name} is not connected to "${network.name}"`,
          'params.network',
        );
      // Whoever shared a network with it before it left still lists it.
      const peers = sharingWith(this.view, record.id);
      membership.attachments = membership.attachments.filter((a) => a !== attachment);
      await this.store.save(this.state);
      return { network, attachment, peers };
    });
    if (this.active.has(record.id)) {
      await this.driver.teardownVeths([attachment], { container: record.name, network: network.name });
      await this.hosts.update(this.view, peers);
      if ((this.state.containers[record.id]?.ports.length ?? 0) > 0) await this.rules.sync();
    }
    this.changed('network.disconnect');
    return { network: network.name, container: record.name };
  }

  // ---- containers ----------------------------------------------------------------------------

  /** Checks a container spec's networks, address and ports before the container is created; errors name the field. */
  async validateSpec(spec: SpecNetworks): Promise<void> {
    const plan = planNetworks(spec, this.state.networks);
    if (plan.ip !== undefined && plan.networks[0])
      addressError(
        () => allocateAddress(parseCidr(plan.networks[0]?.subnet ?? ''), this.usedAddresses(plan.networks[0] as NetworkRecord), plan.ip),
        'params.ip',
      );
    await checkPorts(plan.ports, this.activeMemberships(undefined));
  }

  /** Records a new container's networks and gives it its addresses (at create, so `inspect` shows them at once). */
  async register(record: ContainerRecord): Promise<void> {
    await this.exclusive(async () => {
      if (this.state.containers[record.id]) return;
      const membership = this.ensureMembershipLocked(record);
      if (!derivable(record.spec, membership)) await this.store.save(this.state);
    });
    this.changed('container.create');
  }

  /**
   * The hosts file of a container that will have a network, made (empty) before its process is:
   * the init helper binds it over /etc/hosts while it sets up the root, as it does resolv.conf, so
   * no process is spawned to mount it; beforeStart writes its content in place before the command runs.
   */
  async hostsFileFor(record: ContainerRecord): Promise<string | undefined> {
    const known = this.state.containers[record.id];
    const attached = known ? known.attachments.length > 0 : planNetworks(record.spec, this.state.networks).networks.length > 0;
    return attached ? this.hosts.prepare(record.id) : undefined;
  }

  /**
   * The hook before the container's process is made: a container with published ports claims them
   * and has their rules made now. The rules need the claimed address, not the process or its veth,
   * and the packet filter's processes (a read, then a change whose commit waits out an RCU grace
   * period: 10–20 ms on a loaded machine) then run while the helper makes the container, instead
   * of after it (beforeStart waits for them).
   */
  async prepareStart(record: ContainerRecord): Promise<void> {
    const known = this.state.containers[record.id];
    // Nothing to claim (no published port, or `--network none`): no wait on the lock behind other starts.
    if (known && (known.ports.length === 0 || known.attachments.length === 0)) return;
    const claimed = await this.exclusive(async () => {
      const membership = await this.membershipSavedLocked(record);
      if (membership.ports.length === 0 || membership.attachments.length === 0) return false;
      // Checked and claimed under the lock: two containers starting at once cannot both get a port.
      await checkPorts(membership.ports, this.activeMemberships(record.id));
      this.starting.set(record.id, Promise.resolve());
      return true;
    });
    if (!claimed) return;
    const rules = this.rules.sync();
    // Not dropped: beforeStart awaits it (or afterStop, after a start that failed first, syncs again).
    rules.catch(() => undefined);
    this.starting.set(record.id, rules);
  }

  /** The hook between the container's process being created and its command starting: its network. */
  async beforeStart(record: ContainerRecord, pid: number): Promise<void> {
    const scope: ActivityScope = { container: record.name };
    const known = this.state.containers[record.id];
    if (known && known.attachments.length === 0 && known.ports.length === 0) {
      // `--network none`: nothing to plumb, claim or save, so no wait behind other starts' network work.
      this.active.set(record.id, pid);
      this.netnsNames?.register(record.id, record.name, pid);
      this.changed('container.start');
      return;
    }
    const { membership, early } = await this.exclusive(async () => {
      const membership = await this.membershipSavedLocked(record);
      // Claimed by prepareStart already, with its rules under way; else checked and claimed under the lock here.
      const early = this.starting.get(record.id);
      if (early === undefined) await checkPorts(membership.ports, this.activeMemberships(record.id));
      this.active.set(record.id, pid);
      this.starting.delete(record.id);
      return { membership, early };
    });
    let newNetworks = false;
    let rules: Promise<void> | undefined;
    try {
      for (const attachment of membership.attachments) newNetworks = (await this.materialize(attachment.networkId)) || newNetworks;
      // The port rules need the claimed addresses, not the veths: the packet filter's processes run
      // while the veths are made. Handled here so a veth failure first leaves no unhandled rejection.
      // A new bridge's rules are made here; a port's, here only when prepareStart did not start them.
      if (newNetworks || (early === undefined && membership.ports.length > 0)) (rules = this.rules.sync()).catch(() => undefined);
      // lo is already up: the init helper raised it when it made the namespace (no spawn per start).
      for (const [index, attachment] of membership.attachments.entries()) {
        const network = this.networkById(attachment.networkId);
        if (!network)
          throw new OnggiError(ErrorCode.NotFound, 'not_found', `network ${attachment.networkId.slice(0, 12)} no longer exists`);
        await this.driver.setupVeth(pid, attachment, network, index === 0, { ...scope, network: network.name });
      }
      // Written in place: the init helper bound this file over /etc/hosts already (hostsFileFor).
      if (membership.attachments.length > 0) await this.hosts.update(this.view, [record.id], true);
      await this.hosts.update(
        this.view,
        sharingWith(this.view, record.id).filter((id) => id !== record.id),
      );
      await early;
      await rules;
    } catch (error) {
      this.active.delete(record.id);
      await this.driver.teardownVeths(membership.attachments, scope);
      // Its published ports may have got their rules before a veth step failed: not for a container that does not run.
      if ((rules || early) && membership.ports.length > 0)
        await this.rules
          .sync()
          .catch((undo: unknown) => this.log.error(`container ${record.name}: port rules not removed after a failed start`, undo));
      throw error;
    }
    this.netnsNames?.register(record.id, record.name, pid);
    this.changed('container.start');
  }

  /** The hook when a container ended or is removed: its veths and port rules go; on removal, its addresses are freed. */
  async afterStop(record: ContainerRecord): Promise<void> {
    const wasActive = this.active.delete(record.id);
    // A start that failed before its process was made (or before beforeStart) may hold a port claim and its rules.
    const wasStarting = this.starting.delete(record.id);
    const membership = this.state.containers[record.id];
    const scope: ActivityScope = { container: record.name };
    // Its port rules go while the rest is taken down (the packet filter's processes take as long as the rest together).
    const rules =
      membership && (wasActive || wasStarting) && membership.ports.length > 0
        ? this.rules.dropPorts(this.portInputs(record.id))
        : undefined;
    // Not dropped: awaited below, once the rest is done, so a failure still fails the stop's network teardown.
    rules?.catch(() => undefined);
    await this.netnsNames?.unregister(record.id, record.name);
    // Before reconcile the kernel is reaped by name anyway; a link read per stopped container at start-up would be waste.
    if (membership && this.reconciled) {
      // Ended (it ran, and its name is gone): its netns takes its veths with it.
      if (wasActive || record.phase === 'removing') await this.driver.teardownVeths(membership.attachments, scope, { ending: wasActive });
      if (wasActive)
        await this.hosts.update(
          this.view,
          sharingWith(this.view, record.id).filter((id) => id !== record.id),
        );
    }
    await rules;
    if (record.phase === 'removing' && membership) {
      await this.exclusive(async () => {
        delete this.state.containers[record.id];
        // A membership its spec alone gives back was never saved (a stale copy, left by a
        // disconnect, is dropped by the next save or by reconcile, which prunes unknown containers).
        if (!derivable(record.spec, membership)) await this.store.save(this.state);
      });
      await this.hosts.remove(record.id);
    }
    if (wasActive || record.phase === 'removing') this.changed(record.phase === 'removing' ? 'container.remove' : 'container.stop');
  }

  attachmentsOf(containerId: string): NetworkAttachment[] {
    return (this.state.containers[containerId]?.attachments ?? []).map((a) => this.attachmentView(containerId, a));
  }

  portsOf(containerId: string): PublishedPort[] {
    return (this.state.containers[containerId]?.ports ?? []).map((p) => ({ ...p }));
  }

  // ---- topology and probe --------------------------------------------------------------------

  async snapshot(): Promise<Topology> {
    const running = (this.source?.list() ?? []).flatMap((c) =>
      c.state === 'running' && c.pid !== null ? [{ id: c.id, name: c.name, pid: c.pid }] : [],
    );
    return snapshotTopology(
      running,
      this.state.networks.map((n) => ({ id: n.id, name: n.name, bridge: n.bridge, subnet: n.subnet, gateway: n.gateway })),
      { cache: this.netnsViews, path: await this.packetPath(), nameOf: (id) => this.netnsNames?.nameOf(id) },
    );
  }

  /** NAT and published ports as the agent wants them, each marked with whether the packet filter has its rule now. */
  private async packetPath(): Promise<Pick<Topology, 'nat' | 'ports'>> {
    const { networks, ports } = this.firewallInputs();
    // A packet filter that cannot be read shows every rule as missing: the path is drawn broken, not hidden.
    const present = new Set((await this.firewall.current().catch(() => [])).map((rule) => rule.key));
    const has = (spec: RuleSpec) => present.has(ruleKey(spec));
    const rules = desiredRules(networks, ports);
    return {
      nat: networks.map((network) => ({
        network: network.name,
        bridge: network.bridge,
        subnet: network.subnet,
        present: rules.some((r) => r.chain === 'postrouting' && r.owner === network.name && r.src === network.subnet && has(r)),
      })),
      ports: ports.map((port) => ({
        container: port.owner,
        hostIp: port.hostIp,
        hostPort: port.hostPort,
        protocol: port.protocol,
        ip: port.ip,
        containerPort: port.containerPort,
        present: rules.some(
          (r) => r.chain === 'ports' && r.owner === port.owner && r.dport === port.hostPort && r.proto === port.protocol && has(r),
        ),
      })),
    };
  }

  async probe(params: { from: string; to: string; kind?: 'ping' | 'tcp'; port?: number; timeoutMs?: number }): Promise<ProbeResult> {
    const from = this.findContainer(params.from, 'params.from');
    if (from.state !== 'running' || from.pid === null) throw conflict(`container ${from.name} is not running`, 'params.from');
    let address: string;
    if (isIpv4(params.to)) address = params.to;
    else {
      const target = this.findContainer(params.to, 'params.to');
      const theirs = this.state.containers[target.id]?.attachments ?? [];
      const mine = new Set((this.state.containers[from.id]?.attachments ?? []).map((a) => a.networkId));
      // On a shared network the probe says whether that network carries traffic; otherwise it shows isolation.
      const chosen = theirs.find((a) => mine.has(a.networkId)) ?? theirs[0];
      if (!chosen) throw invalid(`container ${target.name} has no network address`, 'params.to');
      address = chosen.ip;
    }
    const kind = params.kind ?? (params.port !== undefined ? 'tcp' : 'ping');
    const timeoutMs = params.timeoutMs ?? 1000;
    const scope = { container: from.name };
    const outcome =
      kind === 'tcp'
        ? await probeTcp(this.options.activity, from.pid, address, params.port ?? 0, timeoutMs, scope)
        : await probePing(this.options.activity, from.pid, address, timeoutMs, scope);
    return { kind, from: from.name, to: params.to, address, port: kind === 'tcp' ? (params.port ?? null) : null, ...outcome };
  }

  // ---- kernel steps --------------------------------------------------------------------------

  /** Makes a network's bridge the first time a container needs it (the default network); true when it did. */
  private materialize(networkId: string): Promise<boolean> {
    return this.exclusive(async () => {
      const network = this.networkById(networkId);
      if (!network || network.materialized) return false;
      if (!this.state.madeKernelChanges) {
        this.state.madeKernelChanges = true;
        await this.store.save(this.state);
      }
      await this.driver.setupBridge(network, await readNetns());
      network.materialized = true;
      await this.store.save(this.state);
      return true;
    });
  }

  /** What the packet filter rules are made from: the bridges that exist and the published ports of running containers. */
  private firewallInputs(): { networks: FirewallNetwork[]; ports: FirewallPort[] } {
    const networks = this.state.networks.filter((n) => n.materialized).map((n) => ({ name: n.name, bridge: n.bridge, subnet: n.subnet }));
    return { networks, ports: [...this.claimants()].flatMap((id) => this.portInputs(id)) };
  }

  /** A container's published ports as the packet filter rules are made from them (to its first network's address). */
  private portInputs(id: string): FirewallPort[] {
    const membership = this.state.containers[id];
    const first = membership?.attachments.find((a) => a.phase === 'ready');
    if (!membership || !first) return [];
    return membership.ports.map((p) => ({ owner: membership.name, ...p, ip: first.ip }));
  }

  // ---- records -------------------------------------------------------------------------------

  /** ensureMembershipLocked, saving a new one unless its spec alone gives it back (call under the lock). */
  private async membershipSavedLocked(record: ContainerRecord): Promise<ContainerNetworks> {
    const isNew = !this.state.containers[record.id];
    const membership = this.ensureMembershipLocked(record);
    if (isNew && !derivable(record.spec, membership)) await this.store.save(this.state);
    return membership;
  }

  /** A container's networks, created from its spec the first time (call under the lock). */
  private ensureMembershipLocked(record: ContainerRecord): ContainerNetworks {
    const existing = this.state.containers[record.id];
    if (existing) return existing;
    const plan = planNetworks(record.spec, this.state.networks);
    const membership: ContainerNetworks = { name: record.name, hostname: record.hostname, ports: plan.ports, attachments: [] };
    if (record.spec.addHosts?.length) membership.extraHosts = extraHostsEntries(record.spec.addHosts);
    for (const [index, network] of plan.networks.entries()) {
      const attachment = planAttachment(
        record.id,
        membership,
        network,
        this.usedAddresses(network),
        index === 0 ? plan.ip : undefined,
        'params.ip',
        'ready',
      );
      if (plan.aliases[index]?.length) attachment.aliases = plan.aliases[index];
      membership.attachments.push(attachment);
    }
    this.state.containers[record.id] = membership;
    return membership;
  }

  /** The networks of running containers other than `self`: whose published ports a new one must not take. */
  private activeMemberships(self: string | undefined): ContainerNetworks[] {
    return [...this.claimants()].flatMap((id) => (id === self ? [] : (this.state.containers[id] ?? [])));
  }

  /** The containers whose published ports are theirs now: running, or starting with their ports claimed. */
  private claimants(): Set<string> {
    return new Set([...this.active.keys(), ...this.starting.keys()]);
  }

  private usedAddresses(network: NetworkRecord): Set<string> {
    const used = new Set<string>([network.gateway]);
    for (const [, m] of this.membersOf(network.id)) for (const a of m.attachments) if (a.networkId === network.id) used.add(a.ip);
    return used;
  }

  private membersOf(networkId: string): Array<[string, ContainerNetworks]> {
    return Object.entries(this.state.containers).filter(([, m]) => m.attachments.some((a) => a.networkId === networkId));
  }

  private defaultNetwork(): NetworkRecord | undefined {
    return this.state.networks.find((n) => n.isDefault);
  }

  private networkById(id: string): NetworkRecord | undefined {
    return this.state.networks.find((n) => n.id === id);
  }

  private findNetwork(selector: string, field: string): NetworkRecord {
    const exact = this.state.networks.find((n) => n.name === selector || n.id === selector);
    if (exact) return exact;
    if (/^[a-f0-9]{4,63}$/.test(selector)) {
      const matches = this.state.networks.filter((n) => n.id.startsWith(selector));
      if (matches.length === 1 && matches[0]) return matches[0];
      if (matches.length > 1) throw conflict(`"${selector}" matches ${matches.length} networks; give more of the id`, field);
    }
    throw new OnggiError(ErrorCode.NotFound, 'not_found', `no network "${selector}"`, field);
  }

  private findContainer(selector: string, field: string): ContainerRecord {
    if (!this.source) throw new OnggiError(ErrorCode.Unavailable, 'runtime_unavailable', 'containers cannot run on this machine');
    try {
      return this.source.find(selector);
    } catch (error) {
      if (error instanceof OnggiError) throw new OnggiError(error.code, error.kind, error.message, field);
      throw error;
    }
  }

  private summary(network: NetworkRecord): NetworkSummary {
    return {
      id: network.id,
      name: network.name,
      driver: 'bridge',
      bridge: network.bridge,
      subnet: network.subnet,
      gateway: network.gateway,
      isDefault: network.isDefault,
      createdAt: network.createdAt,
      containers: this.membersOf(network.id).length,
    };
  }

  private attachmentView(containerId: string, a: Attachment): NetworkAttachment {
    const network = this.networkById(a.networkId);
    return {
      network: network?.name ?? '',
      networkId: a.networkId,
      interface: a.iface,
      ip: a.ip,
      prefixLength: network ? parseCidr(network.subnet).prefix : 0,
      gateway: network?.gateway ?? '',
      mac: a.mac,
      hostVeth: a.hostVeth,
      active: this.active.has(containerId) && a.phase === 'ready',
      ...(a.aliases?.length ? { aliases: a.aliases } : {}),
    };
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.lock.then(operation, operation);
    // The caller gets the error through `next`; the chain only orders operations.
    this.lock = next.catch(() => undefined);
    return next;
  }

  /** Tells subscribers the topology changed, at most every 100 ms. */
  private changed(reason: string): void {
    this.changeReason = reason;
    if (this.changeTimer) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = undefined;
      this.options.emit({ type: 'topology.changed', at: new Date().toISOString(), reason: this.changeReason });
    }, 100);
    this.changeTimer.unref();
  }
}
