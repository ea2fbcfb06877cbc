// Builds the agent's container runtime from what this machine offers: its cgroup layout, the
// image store under the state root, the init helper shipped beside the agent.
import { machine } from 'node:os';
import { join } from 'node:path';
import { errorMessage } from '../../../shared/errors.js';
import type { ActivityLog } from '../activity/activity-log.js';
import type { AgentNetworks } from '../networks/agent-networks.js';
import { defaultNetworkEnabled } from '../networks/handlers.js';
import { NetworkManager } from '../networks/network-manager.js';
import { DEFAULT_NETNS_PREFIX } from '../networks/netns-names.js';
import { createCgroupDriver } from '../runtime/cgroups/index.js';
import { readLogDefaults, writeLogDefaults } from '../runtime/log-defaults.js';
import { usernsRuntime } from '../userns/userns-settings.js';
import { loopbackNameserver, readResolvSources, resolvSourcesFrom } from '../runtime/resolv-conf.js';
import { DnsForwarder } from '../networks/dns-forwarder.js';
import { ContainerRuntime, type ImageResolver } from '../runtime/container-runtime.js';
import { DEFAULT_SECURITY_POLICY, type SecurityPolicy } from '../runtime/security-policy.js';
import { detectCgroups } from '../system/cgroups.js';
import { normalizeArch } from '../system/system-info.js';
import type { EventHub } from './event-hub.js';
import type { Logger } from './logger.js';
import type { VolumeStore } from '../volumes/store.js';

export function initHelperPath(bundleDir: string): string {
  return join(bundleDir, `onggi-init-${normalizeArch(machine())}`);
}

export interface RuntimeDeps {
  stateDir: string;
  bundleDir: string;
  activity: ActivityLog;
  events: EventHub;
  log: Logger;
  images?: ImageResolver;
  policy?: SecurityPolicy;
  /** Sets up each container's network between its creation and its command (and tears it down after). */
  networks?: AgentNetworks;
  /** Named and anonymous volumes (`volumes/` under the state directory). */
  volumes?: VolumeStore;
}

export async function createRuntime(deps: RuntimeDeps): Promise<ContainerRuntime | Error> {
  if (!deps.images) return new Error('the image store could not be opened (see the agent log)');
  try {
    const resolvSources = resolvSourcesFrom(process.env);
    const forwarder = new DnsForwarder(() => loopbackNameserver(readResolvSources(resolvSources)), deps.log);
    const cgroups = createCgroupDriver(await detectCgroups(), process.env.ONGGI_CGROUP_PARENT ?? 'onggi', deps.activity);
    const runtime = new ContainerRuntime({
      root: join(deps.stateDir, 'containers'),
      helper: initHelperPath(deps.bundleDir),
      cgroups,
      activity: deps.activity,
      images: deps.images,
      policy: deps.policy ?? DEFAULT_SECURITY_POLICY,
      emit: (event) => deps.events.publish(event),
      log: deps.log,
      ...(deps.volumes ? { volumes: deps.volumes } : {}),
      logDefaults: { read: () => readLogDefaults(deps.stateDir), write: (options) => writeLogDefaults(deps.stateDir, options) },
      userns: usernsRuntime(deps.stateDir, deps.activity),
      resolvSources,
      ...(deps.networks ? networkHooks(deps.networks, forwarder, deps.log) : {}),
    });
    const { unreadable, unrecoverable } = await runtime.reconcile();
    const networks = deps.networks?.current;
    if (networks instanceof NetworkManager) await resumeForwarding(networks, forwarder, runtime, deps.log);
    for (const { id, dir, reason } of unreadable) {
      deps.log.error(`container ${id}: its record cannot be read (${reason}); not loaded, its files are kept in ${dir}`);
    }
    for (const { name, reason } of unrecoverable) deps.log.error(`container ${name}: not recovered (${reason}); marked dead`);
    return runtime;
  } catch (error) {
    deps.log.error('the container runtime is unavailable', error);
    return error instanceof Error ? error : new Error(errorMessage(error));
  }
}

/** The forwarder for the containers a restarted agent found running: their resolv.conf names it. */
async function resumeForwarding(networks: NetworkManager, forwarder: DnsForwarder, runtime: ContainerRuntime, log: Logger): Promise<void> {
  for (const container of runtime.list()) await forwardFor(networks, forwarder, container.id, log);
}

/** The forwarder on the gateway of a container's first network, when the machine needs one (a failure is logged: the container runs, without DNS). */
async function forwardFor(networks: NetworkManager, forwarder: DnsForwarder, id: string, log: Logger): Promise<void> {
  const first = networks.attachmentsOf(id)[0];
  if (first === undefined || !forwarder.wanted()) return;
  await forwarder
    .listen(first.gateway, `${first.gateway}/${first.prefixLength}`)
    .catch((error: unknown) => log.error(`the DNS forwarder cannot listen on ${first.gateway}:53`, error));
}

/** Hooks that follow the networks as they are now: they may become available while the agent runs. */
function networkHooks(networks: AgentNetworks, forwarder: DnsForwarder, log: Logger) {
  type Record = Parameters<NetworkManager['beforeStart']>[0];
  return {
    prepareStart: async (record: Record) => {
      const current = networks.current;
      if (current instanceof NetworkManager) await current.prepareStart(record);
    },
    beforeStart: async (record: Record, pid: number) => {
      const current = networks.current;
      if (!(current instanceof NetworkManager)) return;
      await current.beforeStart(record, pid);
      // With its bridge up: the forwarder its resolv.conf names (see dnsForwarderAddress).
      await forwardFor(current, forwarder, record.id, log);
    },
    afterStop: async (record: Record) => {
      const current = networks.current;
      if (current instanceof NetworkManager) await current.afterStop(record);
    },
    dnsForwarderAddress: (record: Record) => {
      const current = networks.current;
      return current instanceof NetworkManager && forwarder.wanted() ? current.attachmentsOf(record.id)[0]?.gateway : undefined;
    },
    hostsFile: async (record: Record) => {
      const current = networks.current;
      return current instanceof NetworkManager ? current.hostsFileFor(record) : undefined;
    },
  };
}

/**
 * Opens the network records (before the runtime, whose reconcile calls the hooks). The default
 * bridge is created unless ONGGI_DEFAULT_NETWORK=none (dockerd's --bridge=none): then containers
 * that name no network get none, and a machine's network is left untouched until one is created.
 */
export async function openNetworks(deps: Pick<RuntimeDeps, 'stateDir' | 'activity' | 'events' | 'log'>): Promise<NetworkManager | Error> {
  try {
    return await NetworkManager.open({
      root: join(deps.stateDir, 'networks'),
      activity: deps.activity,
      log: deps.log,
      emit: (event) => deps.events.publish(event),
      defaultNetwork: defaultNetworkEnabled(),
      monitor: true,
      netnsPrefix: process.env.ONGGI_NETNS_PREFIX ?? DEFAULT_NETNS_PREFIX,
    });
  } catch (error) {
    deps.log.error('networks are unavailable', error);
    return error instanceof Error ? error : new Error(errorMessage(error));
  }
}

/** After the runtime found its containers: brings the kernel to the network records. */
export async function reconcileNetworks(
  networks: NetworkManager | Error,
  runtime: ContainerRuntime | Error,
  log: Logger,
): Promise<NetworkManager | Error> {
  if (networks instanceof Error) return networks;
  try {
    await networks.reconcile(runtime instanceof Error ? undefined : { find: (s) => runtime.find(s), list: () => runtime.list(true) });
    return networks;
  } catch (error) {
    log.error('the networks could not be reconciled', error);
    return error instanceof Error ? error : new Error(errorMessage(error));
  }
}
