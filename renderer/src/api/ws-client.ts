// Browser mode: the host API over one WebSocket, JSON-RPC 2.0, one message per frame. The link
// comes back on its own after a drop (laptop sleep, host restart) with growing, jittered waits;
// views learn about it through the connection state and refetch when it is open again.
import { OnggiError, invalidInput } from '../../../shared/errors.js';
import { HOST_EVENT_METHOD, HostEvent, hostMethods, type HostMethod, type HostParams, type HostResult } from '../../../shared/host-api.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { RpcClient } from '../../../shared/rpc-client.js';
import { Listeners } from './listeners';
import type { ConnectionState, HostClient } from './types';

export interface SocketHandlers {
  open(): void;
  /** One text frame. */
  message(data: string): void;
  /** The socket is gone, whether it ever opened or not. Called once. */
  close(): void;
}

export interface SocketLike {
  send(frame: string): void;
  close(): void;
}

/** Opens a socket and reports its life through `handlers`; tests plug in the `ws` package here. */
export type SocketFactory = (url: string, handlers: SocketHandlers) => SocketLike;

export const browserSocket: SocketFactory = (url, handlers) => {
  const socket = new WebSocket(url);
  socket.onopen = () => handlers.open();
  socket.onmessage = (event: { data: unknown }) => {
    if (typeof event.data === 'string') handlers.message(event.data);
  };
  // An error is always followed by close; close alone drives the state.
  socket.onerror = () => undefined;
  socket.onclose = () => handlers.close();
  return { send: (frame) => socket.send(frame), close: () => socket.close() };
};

/** `ws://host/api?token=…` for a page served at `http://host/?token=…`, or undefined without a token. */
// Structural types (not DOM's Location/MessageEvent): the host's Node tests use this client too.
export function webSocketUrl(location: { protocol: string; host: string; search: string }): string | undefined {
  const token = new URLSearchParams(location.search).get('token');
  if (!token) return undefined;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/api?token=${encodeURIComponent(token)}`;
}

export interface WebSocketClientOptions {
  url: string;
  socket?: SocketFactory;
  /** First retry wait; each failed attempt doubles it up to `maxDelayMs`. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** How long a call may wait for the link plus the answer before it fails. */
  callTimeoutMs?: number;
  /** 0..1, for the jitter; injectable so tests are deterministic. */
  random?: () => number;
}

interface Waiter {
  send(rpc: RpcClient): void;
  fail(error: Error): void;
}

export class WebSocketHostClient implements HostClient {
  readonly transport = 'websocket';
  private state: ConnectionState = 'connecting';
  private socket: SocketLike | undefined;
  private rpc: RpcClient | undefined;
  private generation = 0;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly waiters = new Set<Waiter>();
  private readonly events = new Listeners<HostEvent>();
  private readonly states = new Listeners<ConnectionState>();
  private readonly url: string;
  private readonly openSocket: SocketFactory;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly callTimeoutMs: number;
  private readonly random: () => number;

  constructor(options: WebSocketClientOptions) {
    this.url = options.url;
    this.openSocket = options.socket ?? browserSocket;
    this.minDelayMs = options.minDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.callTimeoutMs = options.callTimeoutMs ?? 60_000;
    this.random = options.random ?? Math.random;
    this.connect();
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  onConnectionState(listener: (state: ConnectionState) => void): () => void {
    return this.states.add(listener);
  }

  onEvent(listener: (event: HostEvent) => void): () => void {
    return this.events.add(listener);
  }

  call<M extends HostMethod>(method: M, params: HostParams<M>): Promise<HostResult<M>> {
    const spec = hostMethods[method];
    const checkedParams = spec.params.safeParse(params);
    if (!checkedParams.success) return Promise.reject(invalidInput('params', checkedParams.error));
    return new Promise<HostResult<M>>((resolve, reject) => {
      const waiter: Waiter = {
        send: (rpc) => {
          this.waiters.delete(waiter);
          rpc.call(method, params, spec.result).then(
            (result) => {
              clearTimeout(timer);
              resolve(result as HostResult<M>);
            },
            (error: unknown) => {
              clearTimeout(timer);
              reject(error instanceof Error ? error : new Error(String(error)));
            },
          );
        },
        fail: (error) => {
          this.waiters.delete(waiter);
          clearTimeout(timer);
          reject(error);
        },
      };
      // A call that timed out while waiting for the link must never be sent later.
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new OnggiError(
            ErrorCode.Unavailable,
            'timeout',
            `Onggi did not answer ${method} within ${Math.round(this.callTimeoutMs / 1000)} s`,
          ),
        );
      }, this.callTimeoutMs);
      if (this.closed) waiter.fail(closedError());
      else if (this.rpc) waiter.send(this.rpc);
      else this.waiters.add(waiter);
    });
  }

  reconnectNow(): void {
    if (this.closed || this.retryTimer === undefined) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.connect();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.generation++;
    const error = closedError();
    this.rpc?.close(error);
    this.rpc = undefined;
    this.socket?.close();
    this.socket = undefined;
    for (const waiter of [...this.waiters]) waiter.fail(error);
  }

  private connect(): void {
    const generation = ++this.generation;
    const current = (): boolean => generation === this.generation && !this.closed;
    let socket: SocketLike;
    try {
      socket = this.openSocket(this.url, {
        open: () => {
          if (!current()) return;
          this.attempt = 0;
          const rpc = new RpcClient({
            send: (frame) => socket.send(frame),
            onNotification: (method, params) => this.notification(method, params),
            onProtocolError: (error) => console.warn('onggi: the host sent something unexpected:', error.message),
          });
          this.rpc = rpc;
          this.setState('open');
          for (const waiter of [...this.waiters]) waiter.send(rpc);
        },
        message: (data) => {
          if (current()) this.rpc?.receiveFrame(data);
        },
        close: () => {
          if (!current()) return;
          this.dropped();
        },
      });
    } catch (error) {
      console.warn('onggi: could not open the connection:', error);
      this.dropped();
      return;
    }
    this.socket = socket;
  }

  private dropped(): void {
    this.generation++;
    this.socket = undefined;
    this.rpc?.close(new OnggiError(ErrorCode.Unavailable, 'connection_lost', 'The connection to Onggi was lost before it answered.'));
    this.rpc = undefined;
    this.setState('lost');
    const base = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.attempt);
    const delay = Math.min(this.maxDelayMs, Math.round(base * (0.75 + 0.5 * this.random())));
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delay);
  }

  private notification(method: string, params: unknown): void {
    if (method !== HOST_EVENT_METHOD) {
      console.warn(`onggi: ignoring unknown notification ${method}`);
      return;
    }
    const event = HostEvent.safeParse(params);
    if (!event.success) {
      console.warn('onggi: ignoring an invalid event:', invalidInput('event', event.error).message);
      return;
    }
    this.events.emit(event.data);
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.states.emit(state);
  }
}

function closedError(): OnggiError {
  return new OnggiError(ErrorCode.Unavailable, 'client_closed', 'The connection to Onggi was closed.');
}
