// The host↔agent contract. Every method has a params schema (checked by the agent on arrival)
// and a result schema (checked by the host on return), so neither side trusts the other's shape.
import { z } from 'zod';
import { ContainerEvent, ContainerLogEvent, containerMethods } from './containers.js';
import { containerVerbMethods } from './container-verbs.js';
import { imageVerbMethods } from './image-verbs.js';
import { diskMethods } from './disk-usage.js';
import { PullProgress, imageMethods } from './images.js';
import { TopologyChangedEvent, networkMethods } from './networks.js';
import { SystemInfo } from './system-info.js';

/** Bumped on any incompatible change to the methods below; host and agent refuse to talk across it. */
export const AGENT_PROTOCOL_VERSION = 1;

const NoParams = z.strictObject({}).optional();

export const ActivityEntry = z.strictObject({
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
});
export type ActivityEntry = z.infer<typeof ActivityEntry>;

export const AgentEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('activity'), entry: ActivityEntry }),
  PullProgress,
  ContainerEvent,
  ContainerLogEvent,
  TopologyChangedEvent,
]);
export type AgentEvent = z.infer<typeof AgentEvent>;
/** A subscription names event types (container.log goes only to the connection that asked). */
export const AgentEventTopic = z.enum(['activity', 'pull.progress', 'container.state', 'topology.changed']);

export const agentMethods = {
  'system.hello': {
    params: z.strictObject({
      protocol: z.number().int().nonnegative(),
      client: z.string().min(1).max(200),
    }),
    result: z.strictObject({
      protocol: z.number().int().nonnegative(),
      agentVersion: z.string().max(64),
      buildId: z.string().max(128),
    }),
  },
  'system.info': { params: NoParams, result: SystemInfo },
  'events.subscribe': {
    params: z.strictObject({ topics: z.array(AgentEventTopic).max(16).optional() }).optional(),
    result: z.strictObject({ topics: z.array(AgentEventTopic) }),
  },
  'activity.list': {
    params: z
      .strictObject({
        container: z.string().max(128).optional(),
        network: z.string().max(128).optional(),
        limit: z.number().int().min(1).max(5000).optional(),
      })
      .optional(),
    result: z.array(ActivityEntry).max(5000),
  },
  ...containerMethods,
  ...containerVerbMethods,
  ...imageVerbMethods,
  ...imageMethods,
  ...networkMethods,
  ...diskMethods,
} as const;

export type AgentMethod = keyof typeof agentMethods;
export type AgentParams<M extends AgentMethod> = z.input<(typeof agentMethods)[M]['params']>;
export type AgentResult<M extends AgentMethod> = z.infer<(typeof agentMethods)[M]['result']>;

/** Notifications the agent sends (JSON-RPC requests without an id). */
export const AGENT_EVENT_METHOD = 'events.event';

export function isAgentMethod(name: string): name is AgentMethod {
  return Object.hasOwn(agentMethods, name);
}
