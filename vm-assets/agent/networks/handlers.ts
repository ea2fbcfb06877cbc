import type { containerMethods } from '../../../shared/containers.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { networkMethods } from '../../../shared/networks.js';
import type { Handlers } from '../../../shared/rpc-dispatch.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import type { ConnectionContext } from '../rpc/handlers.js';
import type { AgentNetworks } from './agent-networks.js';
import type { NetworkManager } from './network-manager.js';
import { readLinkCounters } from './kernel.js';

function unavailable(reason: Error, hint = ''): OnggiError {
  return new OnggiError(
    ErrorCode.Unavailable,
    'networks_unavailable',
    `networks are unavailable on this machine: ${reason.message}${hint}`,
  );
}

/** Whether a container that names no network joins the default bridge (off: ONGGI_DEFAULT_NETWORK=none, like dockerd --bridge=none). */
export function defaultNetworkEnabled(): boolean {
  return process.env.ONGGI_DEFAULT_NETWORK !== 'none';
}

export function createNetworkHandlers(available: AgentNetworks): Handlers<typeof networkMethods, ConnectionContext> {
  const manager = async (): Promise<NetworkManager> => {
    const networks = await available.need();
    if (networks instanceof Error) throw unavailable(networks);
    return networks;
  };
  return {
    'networks.create': async (params) => (await manager()).create(params),
    'networks.list': async () => (await manager()).list(),
    'networks.inspect': async ({ network }) => (await manager()).inspect(network),
    'networks.remove': async ({ network }) => (await manager()).remove(network),
    'networks.connect': async (params) => (await manager()).connect(params),
    'networks.disconnect': async (params) => (await manager()).disconnect(params),
    'networks.probe': async (params) => (await manager()).probe(params),
    'topology.snapshot': async () => (await manager()).snapshot(),
    'topology.counters': async () => ({
      at: new Date().toISOString(),
      links: [...(await readLinkCounters())].map(([name, counters]) => ({ name, ...counters })),
    }),
  };
}

type ContainerHandlers = Handlers<typeof containerMethods, ConnectionContext>;

/**
 * The container verbs that involve networks: create checks the spec's networks, address and ports
 * first (errors name the field) and records the container's addresses once it exists; list and
 * inspect show the published ports and the attachments.
 *
 * A container that wants a network (the default bridge too, when it names none) while networks are
 * unavailable is refused, saying why and what to install, rather than started without one: Docker
 * refuses too, and a container silently without eth0 fails later, far from the cause (a `run -d`
 * warning is easily missed; `--network none` is the explicit way to want no network).
 */
export function withNetworks(base: ContainerHandlers, runtime: ContainerRuntime | Error, available: AgentNetworks): ContainerHandlers {
  const wantsNetwork = (spec: Parameters<ContainerHandlers['containers.create']>[0]): boolean =>
    (spec.networks === undefined ? defaultNetworkEnabled() : spec.networks[0] !== 'none') ||
    Boolean(spec.ports?.length) ||
    spec.ip !== undefined;
  const refuse = (reason: Error): OnggiError => unavailable(reason, '; to run it without a network, use --network none');
  if (runtime instanceof Error) {
    return {
      ...base,
      'containers.create': async (spec, ctx) => {
        const networks = wantsNetwork(spec) ? await available.need() : available.current;
        if (networks instanceof Error && wantsNetwork(spec)) throw refuse(networks);
        return base['containers.create'](spec, ctx);
      },
    };
  }
  return {
    ...base,
    'containers.create': async (spec, ctx) => {
      const networks = wantsNetwork(spec) ? await available.need() : available.current;
      if (networks instanceof Error) {
        if (wantsNetwork(spec)) throw refuse(networks);
        return base['containers.create'](spec, ctx);
      }
      await networks.validateSpec(spec);
      const created = await base['containers.create'](spec, ctx);
      try {
        await networks.register(runtime.find(created.id));
      } catch (error) {
        // The register error is the answer; a removal that fails too leaves a container the user
        // sees in the list and can remove (the runtime logs its own teardown steps).
        await runtime.remove(created.id, true).catch(() => undefined);
        throw error;
      }
      return created;
    },
    'containers.list': async (params, ctx) => {
      const list = await base['containers.list'](params, ctx);
      const networks = available.current;
      return networks instanceof Error ? list : list.map((summary) => ({ ...summary, ports: networks.portsOf(summary.id) }));
    },
    'containers.inspect': async (params, ctx) => {
      const detail = await base['containers.inspect'](params, ctx);
      const networks = available.current;
      return networks instanceof Error
        ? detail
        : { ...detail, ports: networks.portsOf(detail.id), networks: networks.attachmentsOf(detail.id) };
    },
  };
}
