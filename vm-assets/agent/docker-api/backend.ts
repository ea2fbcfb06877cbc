// What the Docker API stands on: the agent's own RPC handlers (the same runtime, images, networks
// and volumes the window and `onggi` use), called through the same dispatcher, so every call is
// checked against the same schemas. Nothing here keeps containers of its own.
import { agentMethods, type AgentEvent, type AgentMethod, type AgentParams, type AgentResult } from '../../../shared/agent-rpc.js';
import { callHandler, type Handlers } from '../../../shared/rpc-dispatch.js';
import type { ActivityLog } from '../activity/activity-log.js';
import type { EventHub } from '../daemon/event-hub.js';
import type { ConnectionContext } from '../rpc/handlers.js';
import type { AgentIdentity } from '../system/system-info.js';

export interface DockerBackendDeps {
  handlers: Handlers<typeof agentMethods, ConnectionContext>;
  events: EventHub;
  activity: ActivityLog;
  identity: AgentIdentity;
  /** The init helper, which runs `exec` inside a container (as `agent exec` does). */
  helper: string;
  /** Where tars in transit between a client and the agent's verbs are kept (see scratch.ts). */
  scratchDir: string;
}

export class DockerBackend {
  constructor(readonly deps: DockerBackendDeps) {}

  /** One agent call; `notify` receives the events addressed to this call (a log stream's entries). */
  async call<M extends AgentMethod>(
    method: M,
    params: AgentParams<M>,
    notify: (event: AgentEvent) => void = () => undefined,
  ): Promise<AgentResult<M>> {
    return (await callHandler(agentMethods, this.deps.handlers, method, params, { notify })) as AgentResult<M>;
  }

  get events(): EventHub {
    return this.deps.events;
  }
}
