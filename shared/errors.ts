// One error type for every layer. It carries a JSON-RPC code, a stable kind and, when a single
// input is at fault, the field's path, so the CLI prints it and the window puts it on the field.
import type { z } from 'zod';
import { ErrorCode, type JsonRpcErrorObject } from './jsonrpc.js';

export class OnggiError extends Error {
  readonly code: number;
  readonly kind: string;
  readonly field: string | undefined;

  constructor(code: number, kind: string, message: string, field?: string) {
    super(message);
    this.name = 'OnggiError';
    this.code = code;
    this.kind = kind;
    this.field = field;
  }

  toJsonRpc(): JsonRpcErrorObject {
    return {
      code: this.code,
      message: this.message,
      data: this.field === undefined ? { kind: this.kind } : { kind: this.kind, field: this.field },
    };
  }

  static fromJsonRpc(error: JsonRpcErrorObject): OnggiError {
    return new OnggiError(error.code, error.data?.kind ?? 'remote_error', error.message, error.data?.field);
  }
}

/** Renders a path the way people write it: `params.env[2].name`. */
export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Turns a schema failure into an error that names the first offending field. */
export function invalidInput(root: string, error: z.ZodError, code: number = ErrorCode.InvalidParams): OnggiError {
  const first = error.issues[0];
  const field = first ? issuePath(root, first) : root;
  const detail = error.issues
    .slice(0, 5)
    .map((issue) => `${issuePath(root, issue)}: ${issue.message}`)
    .join('; ');
  return new OnggiError(code, code === ErrorCode.InvalidParams ? 'invalid_params' : 'invalid_message', detail, field);
}

/** An unknown key is the field at fault, not the object that holds it. */
function issuePath(root: string, issue: z.core.$ZodIssue): string {
  const path = issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path;
  return formatPath(root, path);
}

/** Parses with a schema, or throws an OnggiError naming the field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, root: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(root, parsed.error);
  return parsed.data;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
