// JSON-RPC 2.0 envelopes. Both process boundaries speak it (host↔agent over a socket or SSH
// channel, renderer↔host over the browser-mode WebSocket), so there is one codec and one set of
// error codes for the whole product.
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';

export const RequestId = lazySchema(() => z.union([z.string().max(128), z.number().int().safe()]));
export type RequestId = z.infer<typeof RequestId>;

export const JsonRpcRequest = lazySchema(() =>
  z.strictObject({
    jsonrpc: z.literal('2.0'),
    id: RequestId.optional(),
    method: z.string().min(1).max(128),
    params: z.unknown().optional(),
  }),
);
export type JsonRpcRequest = z.infer<typeof JsonRpcRequest>;

export const ErrorData = lazySchema(() =>
  z.object({
    /** Stable machine-readable kind, e.g. `invalid_params`, `not_found`, `agent_unreachable`. */
    kind: z.string().max(64),
    /** The offending field as a dotted path (`params.memory`, `params.ports[1]`), when one is at fault. */
    field: z.string().max(512).optional(),
  }),
);
export type ErrorData = z.infer<typeof ErrorData>;

export const JsonRpcErrorObject = lazySchema(() =>
  z.object({
    code: z.number().int(),
    message: z.string().max(65536),
    data: ErrorData.optional(),
  }),
);
export type JsonRpcErrorObject = z.infer<typeof JsonRpcErrorObject>;

export const JsonRpcSuccess = lazySchema(() =>
  z.strictObject({
    jsonrpc: z.literal('2.0'),
    id: RequestId,
    result: z.unknown(),
  }),
);
export const JsonRpcFailure = lazySchema(() =>
  z.strictObject({
    jsonrpc: z.literal('2.0'),
    id: RequestId.nullable(),
    error: JsonRpcErrorObject,
  }),
);
export const JsonRpcResponse = lazySchema(() => z.union([JsonRpcSuccess, JsonRpcFailure]));
export type JsonRpcResponse = z.infer<typeof JsonRpcResponse>;

/** A message arriving at a client: a response to one of its calls, or a notification (no id). */
export const JsonRpcIncoming = lazySchema(() => z.union([JsonRpcSuccess, JsonRpcFailure, JsonRpcRequest]));

export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Server-defined range (-32000..-32099). */
  IncompatibleVersion: -32001,
  NotFound: -32004,
  Conflict: -32009,
  Unavailable: -32010,
  Forbidden: -32013,
  OperationFailed: -32020,
} as const;

export function success(id: RequestId, result: unknown): z.infer<typeof JsonRpcSuccess> {
  return { jsonrpc: '2.0', id, result };
}

export function failure(id: RequestId | null, error: JsonRpcErrorObject): z.infer<typeof JsonRpcFailure> {
  return { jsonrpc: '2.0', id, error };
}
