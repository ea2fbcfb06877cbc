// The server half of JSON-RPC, shared by the agent daemon and browser mode: parse one frame,
// check the envelope and the method's params against the contract, run the handler, answer.
// Nothing a peer sends can throw out of here: every failure becomes a JSON-RPC error.
import type { z } from 'zod';
import { OnggiError, errorMessage, invalidInput } from './errors.js';
import { ErrorCode, JsonRpcRequest, failure, success, type JsonRpcResponse } from './jsonrpc.js';

export interface MethodSpec {
  params: z.ZodType;
  result: z.ZodType;
}
export type MethodTable = Record<string, MethodSpec>;

export type Handlers<T extends MethodTable, Ctx> = {
  [M in keyof T]: (params: z.infer<T[M]['params']>, ctx: Ctx) => Promise<z.input<T[M]['result']>> | z.input<T[M]['result']>;
};

export interface DispatchOptions {
  /** Called with unexpected (non-Onggi) errors, which are answered as internal errors. */
  onInternalError?: (method: string, error: unknown) => void;
}

/** Validates params against the method's contract and runs its handler; throws OnggiError. */
export async function callHandler<T extends MethodTable, Ctx>(
  methods: T,
  handlers: Handlers<T, Ctx>,
  method: string,
  params: unknown,
  ctx: Ctx,
): Promise<unknown> {
  if (!Object.hasOwn(methods, method)) {
    throw new OnggiError(ErrorCode.MethodNotFound, 'method_not_found', `unknown method "${method}"`, 'method');
  }
  const spec = methods[method] as MethodSpec;
  const parsed = spec.params.safeParse(params);
  if (!parsed.success) throw invalidInput('params', parsed.error);
  const result = await handlers[method as keyof T](parsed.data as never, ctx);
  return result === undefined ? null : result;
}

/** Handles one raw frame with `call`. Returns the response to send, or undefined for a notification. */
export async function dispatchFrame(
  frame: string,
  call: (method: string, params: unknown) => Promise<unknown>,
  options: DispatchOptions = {},
): Promise<JsonRpcResponse | undefined> {
  let raw: unknown;
  try {
    raw = JSON.parse(frame);
  } catch {
    return failure(null, { code: ErrorCode.ParseError, message: 'message is not valid JSON', data: { kind: 'parse_error' } });
  }
  const envelope = JsonRpcRequest.safeParse(raw);
  if (!envelope.success) return failure(pickId(raw), invalidInput('', envelope.error, ErrorCode.InvalidRequest).toJsonRpc());
  const { id, method, params } = envelope.data;
  let response: JsonRpcResponse;
  try {
    response = success(id ?? 0, await call(method, params));
  } catch (error) {
    if (error instanceof OnggiError) response = failure(id ?? null, error.toJsonRpc());
    else {
      options.onInternalError?.(method, error);
      response = failure(id ?? null, {
        code: ErrorCode.InternalError,
        message: `${method} failed: ${errorMessage(error)}`,
        data: { kind: 'internal' },
      });
    }
  }
  return id === undefined ? undefined : response;
}

function pickId(raw: unknown): string | number | null {
  if (typeof raw !== 'object' || raw === null || !('id' in raw)) return null;
  const id = (raw as { id: unknown }).id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)) ? id : null;
}
