// A typed JSON-RPC client on an agent's socket, for tests that talk to the daemon directly: one
// awaited call after another, notifications kept in arrival order.
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { agentMethods, type AgentMethod, type AgentParams, type AgentResult } from '../../shared/agent-rpc.js';
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
