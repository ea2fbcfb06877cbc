// The host's end of one connection to an agent, over any byte stream (a unix socket locally, an
// SSH exec channel running the init helper's `dial` remotely). Calls and results are checked against the
// agent contract; the first call is always the version handshake.
import type { Duplex } from 'node:stream';
import {
  AGENT_EVENT_METHOD,
  AGENT_PROTOCOL_VERSION,
  AgentEvent,
  agentMethods,
  type AgentMethod,
  type AgentParams,
  type AgentResult,
} from '../../../shared/agent-rpc.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { RpcClient } from '../../../shared/rpc-client.js';
import { sampleOf, type ClockSample } from '../../../shared/clock.js';

export type AgentHello = AgentResult<'system.hello'>;

export class AgentLink {
  private readonly rpc: RpcClient;
  private readonly eventListeners = new Set<(event: AgentEvent) => void>();
  private readonly closeListeners = new Set<(error: Error) => void>();
  private closed = false;
  /** The handshake as a clock sample (when the agent sent its time): see clock-watch.ts. */
  helloClock: ClockSample | undefined;

  constructor(
    private readonly stream: Duplex,
    private readonly label: string,
  ) {
    this.rpc = new RpcClient({
      send: (frame) => {
        stream.write(frame);
      },
      onNotification: (method, params) => {
        if (method !== AGENT_EVENT_METHOD) return;
        const event = AgentEvent.safeParse(params);
        if (event.success) for (const listener of this.eventListeners) listener(event.data);
      },
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.rpc.receive(chunk));
    stream.on('error', (error) => this.shutdown(error));
    stream.on('close', () =>
      this.shutdown(new OnggiError(ErrorCode.Unavailable, 'agent_unreachable', `the connection to ${label} closed`)),
    );
  }

  call<M extends AgentMethod>(method: M, params: AgentParams<M>): Promise<AgentResult<M>> {
    return this.rpc.call(method, params, agentMethods[method].result) as Promise<AgentResult<M>>;
  }

  /** For forwarding params the host already checked against the same contract; the result is still checked. */
  callUnchecked(method: AgentMethod, params: unknown): Promise<unknown> {
    return this.rpc.call(method, params, agentMethods[method].result);
  }

  /** Version handshake: refuses an agent that speaks another protocol. */
  async hello(client: string): Promise<AgentHello> {
    const sentAt = Date.now();
    const hello = await this.call('system.hello', { protocol: AGENT_PROTOCOL_VERSION, client });
    if (hello.now !== undefined) this.helloClock = sampleOf(sentAt, hello.now, Date.now());
    if (hello.protocol !== AGENT_PROTOCOL_VERSION) {
      throw new OnggiError(
        ErrorCode.IncompatibleVersion,
        'incompatible_version',
        `${this.label} speaks protocol ${hello.protocol}, this app speaks ${AGENT_PROTOCOL_VERSION}`,
      );
    }
    return hello;
  }

  onEvent(listener: (event: AgentEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onClose(listener: (error: Error) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.stream.destroy();
  }

  private shutdown(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    // Never replayed (that could run it twice): the caller learns the outcome is unknown and
    // where to look, since the agent may have finished the work after the link went.
    this.rpc.close(error, (method) => outcomeUnknown(method, this.label, error));
    for (const listener of this.closeListeners) listener(error);
  }
}

function outcomeUnknown(method: string, label: string, cause: Error): OnggiError {
  return new OnggiError(
    ErrorCode.Unavailable,
    'agent_unreachable',
    `the link to ${label} was lost during ${method} (${cause.message}); it may have been carried out there all the same: ` +
      'list again to see what happened',
  );
}
