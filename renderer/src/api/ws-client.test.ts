/// <reference types="node" />
// The WebSocket client against a real WebSocket server (the `ws` package) on 127.0.0.1.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { OnggiError } from '../../../shared/errors.js';
import type { HostEvent, MachineSummary } from '../../../shared/host-api.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { ConnectionState } from './types';
import { nodeSocket as socketInNode } from './node-socket';
import { WebSocketHostClient, webSocketUrl } from './ws-client';

const nodeSocket = socketInNode();

interface Request {
  id: number;
  method: string;
  params?: unknown;
}

type Handler = (request: Request, reply: (message: object) => void) => void;

/** A tiny host: answers calls through `handler`, records what arrived, can push events and drop clients. */
class FakeHost {
  readonly server: WebSocketServer;
  readonly requests: Request[] = [];
  readonly rawFrames: string[] = [];
  connections = 0;
  handler: Handler = (request, reply) => reply({ jsonrpc: '2.0', id: request.id, result: [] });

  private constructor(server: WebSocketServer) {
    this.server = server;
    server.on('connection', (socket, request) => {
      this.connections++;
      if (new URL(request.url ?? '/', 'http://x').searchParams.get('token') !== 'secret') {
        socket.close(4401, 'bad token');
        return;
      }
      socket.on('message', (data) => {
        const text = data.toString();
        this.rawFrames.push(text);
        const parsed = JSON.parse(text) as Request;
        this.requests.push(parsed);
        this.handler(parsed, (message) => socket.send(JSON.stringify(message)));
      });
    });
  }

  static async start(port = 0): Promise<FakeHost> {
    const server = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return new FakeHost(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(token = 'secret'): string {
    return `ws://127.0.0.1:${this.port}/api?token=${token}`;
  }

  broadcast(message: object): void {
    for (const client of this.server.clients) client.send(JSON.stringify(message));
  }

  /** Drops every client abruptly, as a crashed host or a sleeping laptop would. */
  dropClients(): void {
    for (const client of this.server.clients) client.terminate();
  }

  async stop(): Promise<void> {
    this.dropClients();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const local: MachineSummary = { name: 'local', provider: 'local', state: 'ready' };

function waitForState(client: WebSocketHostClient, wanted: ConnectionState): Promise<void> {
  if (client.connectionState === wanted) return Promise.resolve();
  return new Promise((resolve) => {
    const off = client.onConnectionState((state) => {
      if (state === wanted) {
        off();
        resolve();
      }
    });
  });
}

describe('WebSocketHostClient', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(options: { callTimeoutMs?: number } = {}): Promise<{ host: FakeHost; client: WebSocketHostClient }> {
    const host = await FakeHost.start();
    cleanups.push(() => host.stop());
    const client = new WebSocketHostClient({
      url: host.url(),
      socket: nodeSocket,
      minDelayMs: 20,
      maxDelayMs: 100,
      random: () => 0.5,
      ...options,
    });
    cleanups.push(() => client.close());
    return { host, client };
  }

  it('builds the socket address from the page address and its token', () => {
    expect(webSocketUrl({ protocol: 'http:', host: '127.0.0.1:4000', search: '?token=abc_-1' })).toBe(
      'ws://127.0.0.1:4000/api?token=abc_-1',
    );
    expect(webSocketUrl({ protocol: 'http:', host: '127.0.0.1:4000', search: '' })).toBeUndefined();
  });

  it('makes a call and returns the validated result', async () => {
    const { host, client } = await setup();
    host.handler = (request, reply) => reply({ jsonrpc: '2.0', id: request.id, result: [local] });
    await expect(client.call('machines.list', undefined)).resolves.toEqual([local]);
    expect(client.connectionState).toBe('open');
    expect(host.requests).toEqual([{ jsonrpc: '2.0', id: 1, method: 'machines.list' }]);

    host.handler = (request, reply) =>
      reply({ jsonrpc: '2.0', id: request.id, result: { version: '0.1.0', platform: 'linux', secretVault: false } });
    await expect(client.call('app.version', {})).resolves.toEqual({ version: '0.1.0', platform: 'linux', secretVault: false });
    expect(host.requests[1]).toEqual({ jsonrpc: '2.0', id: 2, method: 'app.version', params: {} });
  });

  it('sends one JSON object per WebSocket message', async () => {
    const { host, client } = await setup();
    await Promise.all([client.call('machines.list', undefined), client.call('machines.list', undefined)]);
    expect(host.rawFrames).toHaveLength(2);
    for (const frame of host.rawFrames) expect(JSON.parse(frame)).toMatchObject({ jsonrpc: '2.0', method: 'machines.list' });
  });

  it('rejects a result that does not match the contract, naming the field', async () => {
    const { host, client } = await setup();
    host.handler = (request, reply) => reply({ jsonrpc: '2.0', id: request.id, result: [{ ...local, state: 'exploded' }] });
    const error = await client.call('machines.list', undefined).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OnggiError);
    expect((error as OnggiError).kind).toBe('bad_result');
    expect((error as OnggiError).field).toBe('machines.list result[0].state');
    expect((error as OnggiError).message).toContain('machines.list result[0].state');
  });

  it('turns a JSON-RPC error into an OnggiError with its kind and field', async () => {
    const { host, client } = await setup();
    host.handler = (request, reply) =>
      reply({
        jsonrpc: '2.0',
        id: request.id,
        error: { code: ErrorCode.NotFound, message: 'no machine named nope', data: { kind: 'not_found', field: 'params.machine' } },
      });
    await expect(client.call('machines.info', { machine: 'nope' })).rejects.toMatchObject({
      code: ErrorCode.NotFound,
      kind: 'not_found',
      field: 'params.machine',
      message: 'no machine named nope',
    });
  });

  it('refuses invalid params before sending anything', async () => {
    const { host, client } = await setup();
    await expect(client.call('machines.info', { machine: '../etc' })).rejects.toMatchObject({
      kind: 'invalid_params',
      field: 'params.machine',
    });
    expect(host.requests).toEqual([]);
  });

  it('delivers host events and ignores invalid ones', async () => {
    const { host, client } = await setup();
    const events: HostEvent[] = [];
    client.onEvent((event) => events.push(event));
    await waitForState(client, 'open');
    host.broadcast({ jsonrpc: '2.0', method: 'event', params: { type: 'machine.state', machine: 'local', state: 'nonsense' } });
    host.broadcast({
      jsonrpc: '2.0',
      method: 'event',
      params: { type: 'machine.state', machine: 'local', state: 'error', error: 'agent crashed' },
    });
    // A call after the events: its answer arrives after them on the same ordered socket.
    await client.call('machines.list', undefined);
    expect(events).toEqual([{ type: 'machine.state', machine: 'local', state: 'error', error: 'agent crashed' }]);
  });

  it('reconnects after the server drops it, and calls work again', async () => {
    const { host, client } = await setup();
    const states: ConnectionState[] = [];
    client.onConnectionState((state) => states.push(state));
    host.handler = (request, reply) => reply({ jsonrpc: '2.0', id: request.id, result: [local] });
    await client.call('machines.list', undefined);

    // A call in flight when the link drops fails with a clear error rather than hanging.
    host.handler = () => host.dropClients();
    await expect(client.call('machines.list', undefined)).rejects.toMatchObject({ kind: 'connection_lost' });
    expect(client.connectionState).not.toBe('open');

    host.handler = (request, reply) => reply({ jsonrpc: '2.0', id: request.id, result: [local] });
    await waitForState(client, 'open');
    await expect(client.call('machines.list', undefined)).resolves.toEqual([local]);
    expect(states).toEqual(['open', 'lost', 'open']);
    expect(host.connections).toBe(2);
  });

  it('keeps retrying while the host is down and comes back when it returns', async () => {
    const { host, client } = await setup();
    await waitForState(client, 'open');
    const port = host.port;
    await host.stop();
    await waitForState(client, 'lost');

    // Calls made while the link is down wait for it instead of failing at once.
    const pending = client.call('machines.list', undefined);
    const revived = await FakeHost.start(port);
    cleanups.push(() => revived.stop());
    revived.handler = (request, reply) => reply({ jsonrpc: '2.0', id: request.id, result: [local] });
    await expect(pending).resolves.toEqual([local]);
    expect(client.connectionState).toBe('open');
  });

  it('fails a call that waits longer than its timeout, and never sends it later', async () => {
    const host = await FakeHost.start();
    const port = host.port;
    await host.stop();
    const client = new WebSocketHostClient({
      url: `ws://127.0.0.1:${port}/api?token=secret`,
      socket: nodeSocket,
      minDelayMs: 20,
      maxDelayMs: 40,
      callTimeoutMs: 100,
    });
    cleanups.push(() => client.close());
    await expect(client.call('machines.list', undefined)).rejects.toMatchObject({ kind: 'timeout' });

    const revived = await FakeHost.start(port);
    cleanups.push(() => revived.stop());
    await waitForState(client, 'open');
    await client.call('app.version', undefined).catch(() => undefined);
    expect(revived.requests.map((request) => request.method)).toEqual(['app.version']);
  });

  it('fails pending and later calls once closed', async () => {
    const { client } = await setup();
    client.close();
    await expect(client.call('machines.list', undefined)).rejects.toMatchObject({ kind: 'client_closed' });
  });
});
