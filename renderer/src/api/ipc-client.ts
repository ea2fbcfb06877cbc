// Electron mode: the host API through the preload bridge (`window.onggi`). The bridge hands back
// plain data; everything it returns is checked here just as the WebSocket client checks frames,
// so a bug in main or preload shows up as a clear error, not a malformed object in a view.
import { OnggiError, invalidInput } from '../../../shared/errors.js';
import {
  BridgeReply,
  checkHostResult,
  HostEvent,
  hostMethods,
  type HostMethod,
  type HostParams,
  type HostResult,
  type PreloadBridge,
} from '../../../shared/host-api.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { Listeners } from './listeners';
import type { ConnectionState, HostClient } from './types';

export class BridgeHostClient implements HostClient {
  readonly transport = 'ipc';
  /** IPC to our own main process does not drop; the host's links to machines report through events. */
  readonly connectionState: ConnectionState = 'open';
  private readonly events = new Listeners<HostEvent>();
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly bridge: PreloadBridge) {}

  async call<M extends HostMethod>(method: M, params: HostParams<M>): Promise<HostResult<M>> {
    if (this.closed) throw new OnggiError(ErrorCode.Unavailable, 'client_closed', 'The connection to Onggi was closed.');
    const spec = hostMethods[method];
    const checkedParams = spec.params.safeParse(params);
    if (!checkedParams.success) throw invalidInput('params', checkedParams.error);
    const raw: unknown = await this.bridge.call(method, params);
    const reply = BridgeReply.safeParse(raw);
    if (!reply.success) {
      const error = invalidInput(`${method} reply`, reply.error, ErrorCode.InternalError);
      throw new OnggiError(
        ErrorCode.InternalError,
        'bad_reply',
        `the preload bridge answered ${method} with an invalid reply: ${error.message}`,
        error.field,
      );
    }
    if (!reply.data.ok) throw OnggiError.fromJsonRpc(reply.data.error);
    return checkHostResult(method, reply.data.result);
  }

  onEvent(listener: (event: HostEvent) => void): () => void {
    // Subscribe to the bridge once, lazily, and fan out: validation happens once per event.
    this.unsubscribe ??= this.bridge.onEvent((raw) => {
      const event = HostEvent.safeParse(raw);
      if (event.success) this.events.emit(event.data);
      else console.warn('onggi: ignoring an invalid event:', invalidInput('event', event.error).message);
    });
    return this.events.add(listener);
  }

  onConnectionState(_listener: (state: ConnectionState) => void): () => void {
    return () => undefined;
  }

  reconnectNow(): void {}

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.events.clear();
  }
}
