// One client connection to the daemon: frames in, responses and events out. A bad frame gets an
// error response; it never closes the connection or touches other clients.
import type { Socket } from 'node:net';
import { AGENT_EVENT_METHOD, type AgentEvent, agentMethods } from '../../../shared/agent-rpc.js';
import { ErrorCode, failure } from '../../../shared/jsonrpc.js';
import { FrameTooLargeError, LineSplitter, MAX_FRAME_BYTES, encodeFrame } from '../../../shared/ndjson.js';
import { callHandler, dispatchFrame, type Handlers } from '../../../shared/rpc-dispatch.js';
import type { ConnectionContext } from '../rpc/handlers.js';
import type { EventHub } from './event-hub.js';
import type { Logger } from './logger.js';

export function serveConnection(
  socket: Socket,
  handlers: Handlers<typeof agentMethods, ConnectionContext>,
  events: EventHub,
  log: Logger,
  /** Called as each request arrives and as it is answered (the daemon's quiet time: memory-settle.ts). */
  onActivity: () => void = () => undefined,
): void {
  const splitter = new LineSplitter();
  const write = (message: unknown): void => {
    if (!socket.destroyed) socket.write(encodeFrame(message));
  };
  const ctx: ConnectionContext = {
    notify: (event: AgentEvent) => write({ jsonrpc: '2.0', method: AGENT_EVENT_METHOD, params: event }),
  };
  const call = (method: string, params: unknown): Promise<unknown> => callHandler(agentMethods, handlers, method, params, ctx);
  // Requests run concurrently and each response carries its id: a long pull or a followed log
  // must not hold up the other calls on the one link the host keeps to this agent.
  const inFlight = new Set<Promise<void>>();

  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    const { lines, refused } = splitter.split(chunk);
    for (let i = 0; i < refused; i += 1)
      write(
        failure(null, {
          code: ErrorCode.InvalidRequest,
          message: new FrameTooLargeError(MAX_FRAME_BYTES).message,
          data: { kind: 'frame_too_large' },
        }),
      );
    for (const line of lines) {
      onActivity();
      const handled = dispatchFrame(line, call, { onInternalError: (method, error) => log.error(`${method} failed`, error) }).then(
        (response) => {
          if (response) write(response);
        },
      );
      inFlight.add(handled);
      void handled.finally(() => {
        inFlight.delete(handled);
        onActivity();
      });
    }
  });
  // The server runs with allowHalfOpen: a client that finishes writing (`dial` at the end of
  // its stdin) still gets every answer before we close our side.
  socket.on('end', () => {
    void Promise.all(inFlight).then(() => socket.end());
  });
  socket.on('error', (error) => log.debug('client connection error', error));
  socket.on('close', () => events.unsubscribe(ctx.notify));
}
