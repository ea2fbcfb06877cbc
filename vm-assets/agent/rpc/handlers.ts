import { AGENT_PROTOCOL_VERSION, AgentEventTopic, type AgentEvent, agentMethods } from '../../../shared/agent-rpc.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { Handlers } from '../../../shared/rpc-dispatch.js';
import type { ActivityLog } from '../activity/activity-log.js';
import type { EventHub } from '../daemon/event-hub.js';
import { createImageHandlers } from '../images/handlers.js';
import type { ImageStore } from '../images/store.js';
import { createNetworkHandlers, withNetworks } from '../networks/handlers.js';
import { AgentNetworks } from '../networks/agent-networks.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { createContainerHandlers } from '../runtime/handlers.js';
import { stepClock } from '../system/clock.js';
import { createVerbHandlers } from '../runtime/verb-handlers.js';
import { DiskService } from '../system/disk.js';
import { readSystemInfo, type AgentIdentity } from '../system/system-info.js';
import { VolumeService, createVolumeHandlers } from '../volumes/handlers.js';
import type { IdleStop } from '../idle/idle-stop.js';
import type { VolumeStore } from '../volumes/store.js';

/** What a handler knows about the connection it serves. */
export interface ConnectionContext {
  /** Sends an event to this connection only. */
  notify: (event: AgentEvent) => void;
}

export interface AgentServices {
  identity: AgentIdentity;
  events: EventHub;
  activity: ActivityLog;
  /** Absent where containers cannot run (no usable cgroups); container calls then say why. */
  runtime: ContainerRuntime | Error;
  /** Absent when the image store could not be opened; image calls then say why. */
  images: ImageStore | Error;
  /** Absent when networking could not be set up (no iproute2, no packet filter); network calls then say why. */
  networks?: AgentNetworks;
  /** Absent when no volume directory was given (then volume calls say so). */
  volumes?: VolumeStore;
  /** Auto-stop (absent in tests that build handlers without a daemon: the call then says so). */
  idle?: IdleStop;
}

export function createHandlers(services: AgentServices): Handlers<typeof agentMethods, ConnectionContext> {
  const networks = services.networks ?? new AgentNetworks(new Error('not set up'), () => Promise.resolve(new Error('not set up')));
  const volumes = services.volumes ? new VolumeService(services.volumes, services.runtime) : new Error('not set up');
  const disk = new DiskService({ runtime: services.runtime, images: services.images, volumes });
  return {
    'system.hello': ({ protocol }) => {
      if (protocol !== AGENT_PROTOCOL_VERSION) {
        throw new OnggiError(
          ErrorCode.IncompatibleVersion,
          'incompatible_version',
          `agent speaks protocol ${AGENT_PROTOCOL_VERSION}, client speaks ${protocol}`,
          'params.protocol',
        );
      }
      return {
        protocol: AGENT_PROTOCOL_VERSION,
        agentVersion: services.identity.version,
        buildId: services.identity.buildId,
        now: Date.now(),
      };
    },
    'system.info': () => readSystemInfo(services.identity),
    'system.clock': () => ({ now: Date.now() }),
    'system.setClock': ({ epochMs }) => stepClock(services.activity, epochMs, performance.now()),
    'system.idleStop': ({ minutes }) => {
      if (!services.idle) throw new OnggiError(ErrorCode.Unavailable, 'unavailable', 'auto-stop is not running in this agent');
      return services.idle.configure(minutes);
    },
    'events.subscribe': (params, ctx) => {
      const topics = params?.topics ?? AgentEventTopic.options;
      services.events.subscribe(ctx.notify, topics);
      return { topics: [...topics] };
    },
    'activity.list': (params) => services.activity.list(params ?? {}),
    ...withNetworks(createContainerHandlers(services.runtime), services.runtime, networks),
    ...createVerbHandlers(services.runtime, services.images),
    ...createNetworkHandlers(networks),
    ...createImageHandlers(services.images, services.events),
    'system.df': () => disk.df(),
    'containers.prune': (params) => disk.pruneContainers(params ?? {}),
    'images.prune': (params) => disk.pruneImages(params ?? {}),
    'system.prune': (params) => disk.pruneSystem(params ?? {}),
    ...createVolumeHandlers(volumes),
  };
}
