// The host↔agent contract. Every method has a params schema (checked by the agent on arrival)
// and a result schema (checked by the host on return), so neither side trusts the other's shape.
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { ClockStep } from './clock.js';
import { ContainerEvent, ContainerLogEvent, containerMethods } from './containers.js';
import { containerVerbMethods } from './container-verbs.js';
import { imageVerbMethods } from './image-verbs.js';
import { diskMethods } from './disk-usage.js';
import { PullProgress, imageMethods } from './images.js';
import { TopologyChangedEvent, networkMethods } from './networks.js';
import { SystemInfo } from './system-info.js';
import { volumeMethods } from './volumes.js';

/** Bumped on any incompatible change to the methods below; host and agent refuse to talk across it. */
export const AGENT_PROTOCOL_VERSION = 1;

const NoParams = lazySchema(() => z.strictObject({}).optional());
const EpochMs = lazySchema(() => z.number().int().nonnegative());

export const ActivityEntry = lazySchema(() =>
  z.strictObject({
    id: z.number().int().nonnegative(),
    at: z.string().max(64),
    /** `command` (an argv that was run) or `write` (a value written to a file, shown as `echo V > F`). */
    kind: z.enum(['command', 'write']),
    argv: z.array(z.string().max(65536)).max(4096).optional(),
    path: z.string().max(4096).optional(),
    value: z.string().max(65536).optional(),
    ok: z.boolean(),
    error: z.string().max(65536).optional(),
    durationMs: z.number().nonnegative(),
    container: z.string().max(128).optional(),
    network: z.string().max(128).optional(),
  }),
);
export type ActivityEntry = z.infer<typeof ActivityEntry>;

/** Auto-stop: the machine shuts itself down in `minutes` unless something happens on it. */
export const IdleWarningEvent = lazySchema(() =>
  z.strictObject({ type: z.literal('idle.warning'), minutes: z.number().int().min(0).max(1440) }),
);

export const AgentEvent = lazySchema(() =>
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('activity'), entry: ActivityEntry }),
    IdleWarningEvent,
    PullProgress,
    ContainerEvent,
    ContainerLogEvent,
    TopologyChangedEvent,
  ]),
);
export type AgentEvent = z.infer<typeof AgentEvent>;
/** A subscription names event types (container.log goes only to the connection that asked). */
export const AgentEventTopic = lazySchema(() =>
  z.enum(['activity', 'pull.progress', 'container.state', 'topology.changed', 'idle.warning']),
);

export const agentMethods = {
  'system.hello': {
    params: lazySchema(() =>
      z.strictObject({
        protocol: z.number().int().nonnegative(),
        client: z.string().min(1).max(200),
      }),
    ),
    result: lazySchema(() =>
      z.strictObject({
        protocol: z.number().int().nonnegative(),
        agentVersion: z.string().max(64),
        buildId: z.string().max(128),
        /**
         * The agent's clock when it answered (epoch ms): the host measures the machine's offset with
         * it. Optional: an agent of an older build must still get through the handshake far enough
         * to be recognised and replaced.
         */
        now: EpochMs.optional(),
      }),
    ),
  },
  'system.info': { params: NoParams, result: SystemInfo },
  /** The agent's clock (epoch ms), for measuring the offset again on a live link. */
  'system.clock': { params: NoParams, result: lazySchema(() => z.strictObject({ now: EpochMs })) },
  /**
   * Steps the machine's clock to the desktop's (only on machines Onggi runs: the host decides).
   * `epochMs` is the desktop's time when it sent the call plus half the round trip.
   */
  'system.setClock': {
    params: lazySchema(() => z.strictObject({ epochMs: EpochMs.refine((ms) => ms >= Date.UTC(2020, 0, 1), 'must be after 2020-01-01') })),
    result: ClockStep,
  },
  /** Auto-stop: shut the machine down after this many idle minutes (0: never); kept across restarts. */
  'system.idleStop': {
    params: lazySchema(() => z.strictObject({ minutes: z.number().int().min(0).max(1440) })),
    result: lazySchema(() => z.strictObject({ minutes: z.number().int().min(0).max(1440) })),
  },
  'events.subscribe': {
    params: lazySchema(() => z.strictObject({ topics: z.array(AgentEventTopic).max(16).optional() }).optional()),
    result: lazySchema(() => z.strictObject({ topics: z.array(AgentEventTopic) })),
  },
  'activity.list': {
    params: lazySchema(() =>
      z
        .strictObject({
          container: z.string().max(128).optional(),
          network: z.string().max(128).optional(),
          limit: z.number().int().min(1).max(5000).optional(),
        })
        .optional(),
    ),
    result: lazySchema(() => z.array(ActivityEntry).max(5000)),
  },
  ...containerMethods,
  ...containerVerbMethods,
  ...imageVerbMethods,
  ...imageMethods,
  ...networkMethods,
  ...diskMethods,
  ...volumeMethods,
} as const;

export type AgentMethod = keyof typeof agentMethods;
export type AgentParams<M extends AgentMethod> = z.input<(typeof agentMethods)[M]['params']>;
export type AgentResult<M extends AgentMethod> = z.infer<(typeof agentMethods)[M]['result']>;

/** Notifications the agent sends (JSON-RPC requests without an id). */
export const AGENT_EVENT_METHOD = 'events.event';

export function isAgentMethod(name: string): name is AgentMethod {
  return Object.hasOwn(agentMethods, name);
}
