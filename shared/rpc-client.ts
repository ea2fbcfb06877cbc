// The client half of JSON-RPC over any text transport (a socket, an SSH channel, a WebSocket).
// Results are validated against the contract before a caller sees them, so a wrong or hostile
// peer produces a clear error instead of a malformed object deep in the UI.
import type { z } from 'zod';
import { OnggiError, invalidInput } from './errors.js';
import { ErrorCode, JsonRpcIncoming, type RequestId } from './jsonrpc.js';
import { LineSplitter, encodeFrame } from './ndjson.js';

interface Pending {
  method: string;
  result: z.ZodType;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export interface RpcClientOptions {
  /** Writes one encoded frame (already newline-terminated) to the transport. */
  send: (frame: string) => void;
  /** Receives notifications (requests without an id) from the peer. */
  onNotification?: (method: string, params: unknown) => void;
  /** Receives frames that could not be understood; the link stays up. */
  onProtocolError?: (error: Error) => void;
}

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  private readonly splitter = new LineSplitter();
  private closedWith: Error | undefined;

  constructor(private readonly options: RpcClientOptions) {}

  call<S extends z.ZodType>(method: string, params: unknown, result: S): Promise<z.infer<S>> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise<z.infer<S>>((resolve, reject) => {
      this.pending.set(id, { method, result, resolve: resolve as (value: unknown) => void, reject });
      try {
        this.options.send(encodeFrame(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params }));
      } catch (error) {
        this.pending.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Feeds transport data (any chunking); complete frames are handled at once. */
  receive(chunk: string): void {
    let lines: string[];
    try {
      lines = this.splitter.push(chunk);
    } catch (error) {
      this.options.onProtocolError?.(error as Error);
      return;
    }
    for (const line of lines) this.receiveFrame(line);
  }

  /** Handles one already-framed message (WebSocket messages arrive framed). */
  receiveFrame(frame: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(frame);
    } catch {
      this.options.onProtocolError?.(new Error('peer sent a frame that is not JSON'));
      return;
    }
    const message = JsonRpcIncoming.safeParse(raw);
    if (!message.success) {
      this.options.onProtocolError?.(invalidInput('message', message.error, ErrorCode.InvalidRequest));
      return;
    }
    const data = message.data;
    if ('method' in data) {
      this.options.onNotification?.(data.method, data.params);
      return;
    }
    const pending = data.id === null ? undefined : this.pending.get(data.id);
    if (!pending || data.id === null) {
      this.options.onProtocolError?.(new Error(`response to unknown request id ${String(data.id)}`));
      return;
    }
    this.pending.delete(data.id);
    if ('error' in data) {
      pending.reject(OnggiError.fromJsonRpc(data.error));
      return;
    }
    const checked = pending.result.safeParse(data.result);
    if (checked.success) pending.resolve(checked.data);
    else {
      const error = invalidInput(`${pending.method} result`, checked.error, ErrorCode.InternalError);
      pending.reject(
        new OnggiError(
          ErrorCode.InternalError,
          'bad_result',
          `peer answered ${pending.method} with an invalid result: ${error.message}`,
          error.field,
        ),
      );
    }
  }

  /**
   * Fails every call in flight and every later one with `error`. A call that was sent may have
   * been carried out by the peer all the same: `inFlight` words the error those calls get.
   */
  close(error: Error, inFlight?: (method: string) => Error): void {
    if (this.closedWith) return;
    this.closedWith = error;
    for (const pending of this.pending.values()) pending.reject(inFlight ? inFlight(pending.method) : error);
    this.pending.clear();
  }

  get inFlight(): number {
    return this.pending.size;
  }
}
