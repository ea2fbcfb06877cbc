// One client connection to the daemon: frames in, responses and events out. A bad frame gets an
// error response; it never closes the connection or touches other clients.
import type { Socket } from 'node:net';
import { AGENT_EVENT_METHOD, type AgentEvent, agentMethods } from '../../../shared/agent-rpc.js';
import { ErrorCode, failure } from '../../../shared/jsonrpc.js';
import { FrameTooLargeError, LineSplitter, encodeFrame } from '../../../shared/ndjson.js';
import { callHandler, dispatchFrame, type Handlers } from '../../../shared/rpc-dispatch.js';
import type { ConnectionContext } from '../rpc/handlers.js';
import type { EventHub } from './event-hub.js';
import type { Logger } from './logger.js';

export function serveConnection(
  socket: Socket,
  handlers: Handlers<typeof agentMethods, ConnectionContext>,
  events: EventHub,
  log: Logger,
): void {
  const splitter = new LineSplitter();
  const write = (message: unknown): void => {
    if (!socket.destroyed) socket.write(encodeFrame(message));
  };
  const ctx: ConnectionContext = {
    notify: (event: AgentEvent) => write({ jsonrpc: '2.0', method: AGENT_EVENT_METHOD, params: event }),
  };
  const call = (method: string, params: unknown): Promise<unknown> => callHandler(agentMethods, handlers, method, params, ctx);
  // Requests on one connection are answered in arrival order; a slow one does not block others'
  // connections, and each response carries its id anyway.
  let queue = Promise.resolve();

  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    let lines: string[];
    try {
      lines = splitter.push(chunk);
    } catch (error) {
      if (error instanceof FrameTooLargeError) {
        write(failure(null, { code: ErrorCode.InvalidRequest, message: error.message, data: { kind: 'frame_too_large' } }));
        return;
      }
      throw error;
    }
    for (const line of lines) {
      queue = queue.then(async () => {
        const response = await dispatchFrame(line, call, {
          onInternalError: (method, error) => log.error(`${method} failed`, error),
        });
        if (response) write(response);
      });
    }
  });
  // The server runs with allowHalfOpen: a client that finishes writing (`dial` at the end of
  // its stdin) still gets every answer before we close our side.
  socket.on('end', () => {
    void queue.then(() => socket.end());
  });
  socket.on('error', (error) => log.debug('client connection error', error));
  socket.on('close', () => events.unsubscribe(ctx.notify));
}
