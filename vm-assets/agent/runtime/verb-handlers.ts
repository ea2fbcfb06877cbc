// The agent's handlers for the container verbs of shared/container-verbs.ts.
import { existsSync } from 'node:fs';
import type { containerVerbMethods } from '../../../shared/container-verbs.js';
import type { imageVerbMethods } from '../../../shared/image-verbs.js';
import { commitContainer } from '../images/commit.js';
import { saveImages } from '../images/save.js';
import type { ImageStore } from '../images/store.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { Handlers } from '../../../shared/rpc-dispatch.js';
import type { ConnectionContext } from '../rpc/handlers.js';
import type { ContainerRuntime } from './container-runtime.js';
import { rename, setPaused, updateLimits } from './container-verbs.js';
import { changes } from './diff.js';
import { listProcesses } from './top.js';
import { copyFromContainer, copyToContainer, exportRootfs } from './rootfs-copy.js';

export function createVerbHandlers(
  available: ContainerRuntime | Error,
  images: ImageStore | Error,
): Handlers<typeof containerVerbMethods & typeof imageVerbMethods, ConnectionContext> {
  const runtime = (): ContainerRuntime => {
    if (available instanceof Error)
      throw new OnggiError(ErrorCode.Unavailable, 'runtime_unavailable', `containers cannot run on this machine: ${available.message}`);
    return available;
  };
  const store = (): ImageStore => {
    if (images instanceof Error)
      throw new OnggiError(ErrorCode.Unavailable, 'unavailable', `the image store is unavailable: ${images.message}`);
    return images;
  };
  return {
    'containers.pause': ({ container }) => setPaused(runtime(), container, true),
    'containers.unpause': ({ container }) => setPaused(runtime(), container, false),
    'containers.update': (update) => updateLimits(runtime(), update),
    'containers.rename': ({ container, name }) => rename(runtime(), container, name),
    'containers.top': async ({ container }) => {
      const record = runtime().find(container);
      if (record.state !== 'running')
        throw new OnggiError(ErrorCode.Conflict, 'not_running', `container ${record.name} is not running`, 'params.container');
      const access = runtime().access();
      return { processes: listProcesses(await access.cgroups.pids(record.id), access.paths(record.id).merged) };
    },
    'containers.diff': async ({ container }) => {
      const record = runtime().find(container);
      const upper = runtime().access().paths(record.id).upper;
      // Never started: nothing changed yet.
      if (!existsSync(upper)) return { changes: [] };
      return { changes: await changes(upper, [...record.layerDirs].reverse()) };
    },
    'containers.copyFrom': ({ container, path, dest }) => copyFromContainer(runtime(), container, path, dest),
    'containers.copyTo': ({ container, source, path }) => copyToContainer(runtime(), container, source, path),
    'containers.export': ({ container, dest }) => exportRootfs(runtime(), container, dest),
    'images.commit': (options) => commitContainer(runtime(), store(), options),
    'images.save': ({ images: selectors, dest }) => saveImages(store(), selectors, dest),
  };
}
