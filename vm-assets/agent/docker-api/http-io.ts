// Reading and answering HTTP the way docker clients expect: JSON bodies bounded and checked by a
// schema from shared/docker-api.ts, JSON answers, query values in Docker's spellings.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { formatPath } from '../../../shared/errors.js';
import { DockerFilters } from '../../../shared/docker-api.js';
import { DockerError, badRequest } from './errors.js';

/** Bodies are small JSON documents; anything bigger is refused before it is buffered. */
export const MAX_BODY_BYTES = 1024 * 1024;

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(new DockerError(413, `request body too large (at most ${limit} bytes)`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new DockerError(413, `request body too large (at most ${limit} bytes)`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** Parses a JSON body with its schema; an empty body reads as `{}` (clients send none for defaults). */
export function parseJson<S extends z.ZodType>(schema: S, raw: Buffer, root = 'body'): z.infer<S> {
  let value: unknown = {};
  if (raw.length > 0) {
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      throw badRequest('invalid JSON in the request body');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badRequest(issue ? `${formatPath(root, issue.path)}: ${issue.message}` : 'invalid request body');
  }
  return parsed.data;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, error: DockerError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, error.status, { message: error.message });
}

/** `1`, `true`, `True` are true; absent is the default (Docker's boolValue). */
export function queryBool(query: URLSearchParams, name: string, fallback = false): boolean {
  const value = query.get(name);
  if (value === null) return fallback;
  return !['', '0', 'false', 'False', 'no'].includes(value);
}

export function queryInt(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^-?\d{1,12}$/.test(value)) throw badRequest(`query parameter ${name} must be an integer, not ${JSON.stringify(value)}`);
  return Number(value);
}

/** `filters={"label":["a=b"]}` as a map of lists. */
export function queryFilters(query: URLSearchParams): Record<string, string[]> {
  const raw = query.get('filters');
  if (!raw) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw badRequest('invalid filters: not JSON');
  }
  const parsed = DockerFilters.safeParse(value);
  if (!parsed.success) throw badRequest(`invalid filters: ${parsed.error.issues[0]?.message ?? 'bad shape'}`);
  return Object.fromEntries(
    Object.entries(parsed.data).map(([key, values]) => [
      key,
      Array.isArray(values) ? values : Object.keys(values).filter((k) => values[k]),
    ]),
  );
}

/** Refuses filter keys a list does not know (Docker answers 400 "invalid filter"). */
export function checkFilterKeys(filters: Record<string, string[]>, known: readonly string[]): void {
  for (const key of Object.keys(filters))
    if (!known.includes(key)) throw badRequest(`invalid filter '${key}' (Onggi supports: ${known.join(', ')})`);
}

/** `label=KEY` or `label=KEY=VALUE` against a set of labels. */
export function labelsMatch(filters: string[] | undefined, labels: Record<string, string>): boolean {
  return (filters ?? []).every((filter) => {
    const eq = filter.indexOf('=');
    if (eq < 0) return Object.hasOwn(labels, filter);
    return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
  });
}

/** Unix seconds from an ISO time (Docker's `Created` in lists). */
export function unixSeconds(iso: string | null | undefined): number {
  return iso ? Math.floor(Date.parse(iso) / 1000) : 0;
}

/** Docker's zero time for times that never happened. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';
