import type { LogEntry, containerMethods } from '../../../shared/containers.js';
import type { Handlers } from '../../../shared/rpc-dispatch.js';
import type { ConnectionContext } from '../rpc/handlers.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { ContainerRuntime } from './container-runtime.js';

/** A runtime whose every call explains why containers cannot run on this machine. */
function unavailable(reason: Error): ContainerRuntime {
  return new Proxy({} as ContainerRuntime, {
    get: () => () => {
      throw new OnggiError(ErrorCode.Unavailable, 'runtime_unavailable', `containers cannot run on this machine: ${reason.message}`);
    },
  });
}

export function createContainerHandlers(available: ContainerRuntime | Error): Handlers<typeof containerMethods, ConnectionContext> {
  const runtime = available instanceof Error ? unavailable(available) : available;
  return {
    'containers.create': (spec) => runtime.create(spec),
    'containers.start': ({ container, waitForAttach }) => runtime.start(container, { waitForAttach }),
    'containers.stop': ({ container, timeoutSeconds }) => runtime.stop(container, timeoutSeconds),
    'containers.kill': ({ container, signal }) => runtime.kill(container, signal),
    'containers.remove': ({ container, force, volumes }) => runtime.remove(container, force, volumes),
    'containers.list': (params) => runtime.list(params?.all ?? false),
    'containers.inspect': ({ container }) => runtime.inspect(container),
    'containers.logs': async ({ container, tail, since, follow, streamId }, ctx) => {
      // With a stream id the entries go to this connection only, as events in batches (a long log
      // never becomes one huge answer); followed, the call itself returns when the container ends.
      const onEntries = streamId ? (entries: LogEntry[]) => ctx.notify({ type: 'container.log', streamId, entries }) : undefined;
      return { entries: await runtime.logs(container, { tail, since, follow, onEntries }) };
    },
    'containers.wait': ({ container }) => runtime.wait(container),
    'containers.logDefaults': (change) => runtime.logDefaults(change),
    'containers.usernsDefault': (change) => runtime.usernsDefault(change?.mode),
    'containers.stats': ({ container }) => runtime.stats(container),
    'containers.execSpec': ({ container }) => ({ helperArgs: runtime.execSpec(container) }),
    'containers.attachSpec': ({ container }) => runtime.attachSpec(container),
  };
}
