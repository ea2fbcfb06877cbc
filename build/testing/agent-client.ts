// A typed JSON-RPC client on an agent's socket, for tests that talk to the daemon directly: one
// awaited call after another, notifications kept in arrival order.
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { agentMethods, type AgentMethod, type AgentParams, type AgentResult } from '../../shared/agent-rpc.js';
import { LineSplitter } from '../../shared/ndjson.js';
import { RpcClient } from '../../shared/rpc-client.js';

export interface AgentTestClient {
  call<M extends AgentMethod>(method: M, params: AgentParams<M>): Promise<AgentResult<M>>;
  notifications: Array<{ method: string; params: unknown }>;
  close(): void;
}

export async function connectAgent(socketPath: string): Promise<AgentTestClient> {
  const socket = createConnection(socketPath);
  await once(socket, 'connect');
  const notifications: AgentTestClient['notifications'] = [];
  const rpc = new RpcClient({
    send: (frame) => socket.write(frame),
    onNotification: (method, params) => notifications.push({ method, params }),
  });
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => rpc.receive(chunk));
  socket.on('error', (error) => rpc.close(error));
  return {
    call: (method, params) => rpc.call(method, params, agentMethods[method].result) as never,
    notifications,
    close: () => socket.destroy(),
  };
}

/**
 * Sends raw requests (not checked on this side, so malformed ones reach the agent as they are)
 * all at once, and resolves with the field each error names, in request order.
 */
export async function fieldsOfErrors(
  socketPath: string,
  requests: ReadonlyArray<[method: string, params: unknown]>,
): Promise<Array<string | undefined>> {
  const socket = createConnection(socketPath);
  const splitter = new LineSplitter();
  const replies = new Map<number, { error?: { data?: { field?: string } } }>();
  try {
    await new Promise<void>((resolve, reject) => {
      socket.setEncoding('utf8');
      socket.on('error', reject);
      socket.on('data', (chunk: string) => {
        for (const line of splitter.push(chunk)) {
          const reply = JSON.parse(line) as { id: number; error?: { data?: { field?: string } } };
          replies.set(reply.id, reply);
        }
        if (replies.size === requests.length) resolve();
      });
      requests.forEach(([method, params], id) => socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`));
    });
  } finally {
    socket.destroy();
  }
  return requests.map((_, id) => replies.get(id)?.error?.data?.field);
}
