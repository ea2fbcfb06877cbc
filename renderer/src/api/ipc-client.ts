// Electron mode: the host API through the preload bridge (`window.onggi`). The bridge hands back
// plain data; everything it returns is checked here just as the WebSocket client checks frames,
// so a bug in main or preload shows up as a clear error, not a malformed object in a view.
import { OnggiError, invalidInput } from '../../../shared/errors.js';
import { PickFolderRequest, PickFolderResult } from '../../../shared/folder-picker.js';
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
    this.checkOpen();
    const spec = hostMethods[method];
    const checkedParams = spec.params.safeParse(params);
    if (!checkedParams.success) throw invalidInput('params', checkedParams.error);
    return checkHostResult(method, bridgeResult(method, await this.bridge.call(method, params)));
  }

  readonly pickFolder = async (request: PickFolderRequest): Promise<string | null> => {
    this.checkOpen();
    const checked = PickFolderRequest.safeParse(request);
    if (!checked.success) throw invalidInput('params', checked.error);
    const result = PickFolderResult.safeParse(bridgeResult('pickFolder', await this.bridge.pickFolder(checked.data)));
    if (!result.success) {
      const error = invalidInput('pickFolder result', result.error, ErrorCode.InternalError);
      throw new OnggiError(
        ErrorCode.InternalError,
        'bad_result',
        `the folder dialog answered with an invalid result: ${error.message}`,
        error.field,
      );
    }
    return result.data.path;
  };

  private checkOpen(): void {
    if (this.closed) throw new OnggiError(ErrorCode.Unavailable, 'client_closed', 'The connection to Onggi was closed.');
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

/** The result a bridge reply carries; its error thrown as an OnggiError, a malformed reply as a clear one. */
function bridgeResult(what: string, raw: unknown): unknown {
  const reply = BridgeReply.safeParse(raw);
  if (!reply.success) {
    const error = invalidInput(`${what} reply`, reply.error, ErrorCode.InternalError);
    throw new OnggiError(
      ErrorCode.InternalError,
      'bad_reply',
      `the preload bridge answered ${what} with an invalid reply: ${error.message}`,
      error.field,
    );
  }
  if (!reply.data.ok) throw OnggiError.fromJsonRpc(reply.data.error);
  return reply.data.result;
}
