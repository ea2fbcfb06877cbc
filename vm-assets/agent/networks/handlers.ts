import type { containerMethods } from '../../../shared/containers.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { networkMethods } from '../../../shared/networks.js';
import type { Handlers } from '../../../shared/rpc-dispatch.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import type { ConnectionContext } from '../rpc/handlers.js';
import type { NetworkManager } from './network-manager.js';

function unavailable(reason: Error): OnggiError {
  return new OnggiError(ErrorCode.Unavailable, 'networks_unavailable', `networks are unavailable on this machine: ${reason.message}`);
}

export function createNetworkHandlers(available: NetworkManager | Error): Handlers<typeof networkMethods, ConnectionContext> {
  const manager = (): NetworkManager => {
    if (available instanceof Error) throw unavailable(available);
    return available;
  };
  return {
    'networks.create': (params) => manager().create(params),
    'networks.list': () => manager().list(),
    'networks.inspect': ({ network }) => manager().inspect(network),
    'networks.remove': ({ network }) => manager().remove(network),
    'networks.connect': (params) => manager().connect(params),
    'networks.disconnect': (params) => manager().disconnect(params),
    'networks.probe': (params) => manager().probe(params),
    'topology.snapshot': () => manager().snapshot(),
  };
}

type ContainerHandlers = Handlers<typeof containerMethods, ConnectionContext>;

/**
 * The container verbs that involve networks: create checks the spec's networks, address and ports
 * first (errors name the field) and records the container's addresses once it exists; list and
 * inspect show the published ports and the attachments.
 */
export function withNetworks(
  base: ContainerHandlers,
  runtime: ContainerRuntime | Error,
  networks: NetworkManager | Error,
): ContainerHandlers {
  if (networks instanceof Error || runtime instanceof Error) {
    return {
      ...base,
      'containers.create': (spec, ctx) => {
        const wantsNetwork = (spec.networks !== undefined && spec.networks[0] !== 'none') || spec.ports?.length || spec.ip !== undefined;
        if (networks instanceof Error && wantsNetwork) throw unavailable(networks);
        return base['containers.create'](spec, ctx);
      },
    };
  }
  return {
    ...base,
    'containers.create': async (spec, ctx) => {
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
    'containers.list': async (params, ctx) =>
      (await base['containers.list'](params, ctx)).map((summary) => ({ ...summary, ports: networks.portsOf(summary.id) })),
    'containers.inspect': async (params, ctx) => {
      const detail = await base['containers.inspect'](params, ctx);
      return { ...detail, ports: networks.portsOf(detail.id), networks: networks.attachmentsOf(detail.id) };
    },
  };
}
