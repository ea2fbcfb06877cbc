// A small router over node:http: `/v1.41/containers/{id}/json` and `/containers/{id}/json` reach
// the same handler; `{name*}` takes slashes (image names have them). Every failure is answered in
// Docker's shape; every request that changes something is recorded in the activity log.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { DOCKER_API_VERSION, DOCKER_MIN_API_VERSION } from '../../../shared/docker-api.js';
import type { DockerBackend } from './backend.js';
import { DockerError, badRequest, notFound, toDockerError } from './errors.js';
import { MAX_BODY_BYTES, readBody, sendError } from './http-io.js';
import { readUpgradeBody } from './streams.js';

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  backend: DockerBackend;
  /** The API version the client asked for (the path's `/vX.Y`, else ours). */
  version: string;
  /** Set when the client asked to take the connection over (`Upgrade: tcp`, attach and exec). */
  upgrade: { socket: Duplex; pendingInput: Buffer<ArrayBufferLike> } | undefined;
  body(limit?: number): Promise<Buffer>;
}

export type Handler = (exchange: Exchange) => Promise<void> | void;
interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const source = path.replace(/\{(\w+)(\*?)\}/g, (_, name: string, greedy: string) => {
      names.push(name);
      return greedy ? '(.+)' : '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  async handle(
    backend: DockerBackend,
    req: IncomingMessage,
    res: ServerResponse,
    upgrade?: { socket: Duplex; head: Buffer },
  ): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    let status = 500;
    let failure: string | undefined;
    try {
      const url = new URL(req.url ?? '/', 'http://docker');
      const { version, path } = splitVersion(url.pathname);
      const { route, params } = this.match(method, path);
      const hijack = upgrade ? { socket: upgrade.socket, pendingInput: Buffer.alloc(0) as Buffer } : undefined;
      let bodyRead: Promise<Buffer> | undefined;
      const exchange: Exchange = {
        req,
        res,
        params,
        query: url.searchParams,
        backend,
        version,
        upgrade: hijack,
        body: (limit = MAX_BODY_BYTES) => {
          bodyRead ??= upgrade
            ? readUpgradeBody(req, upgrade.socket, upgrade.head, limit).then(({ body, rest }) => {
                if (hijack) hijack.pendingInput = rest;
                return body;
              })
            : readBody(req, limit);
          return bodyRead;
        },
      };
      await route.handler(exchange);
      status = res.statusCode;
    } catch (error) {
      const dockerError = toDockerError(error);
      status = dockerError.status;
      failure = dockerError.message;
      sendError(res, dockerError);
    } finally {
      if (method !== 'GET' && method !== 'HEAD') {
        backend.deps.activity.record({
          kind: 'command',
          argv: ['docker-api', method, (req.url ?? '/').slice(0, 4096)],
          ok: failure === undefined && status < 400,
          ...(failure === undefined ? {} : { error: `${status} ${failure}` }),
          durationMs: performance.now() - started,
        });
      }
    }
  }

  private match(method: string, path: string): { route: Route; params: Record<string, string> } {
    let pathKnown = false;
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      pathKnown = true;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, index) => {
        params[name] = decodeURIComponent(found[index + 1] ?? '');
      });
      return { route, params };
    }
    if (pathKnown) throw new DockerError(405, `${method} ${path} is not allowed`);
    throw notFound(`page not found: ${method} ${path} is not an endpoint Onggi serves`);
  }
}

function compareVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

function splitVersion(pathname: string): { version: string; path: string } {
  const versioned = /^\/v(\d{1,3}\.\d{1,3})(\/.*)$/.exec(pathname);
  if (!versioned) return { version: DOCKER_API_VERSION, path: pathname };
  const version = versioned[1] ?? DOCKER_API_VERSION;
  if (compareVersions(version, DOCKER_API_VERSION) > 0)
    throw badRequest(`client version ${version} is too new. Maximum supported API version is ${DOCKER_API_VERSION}`);
  if (compareVersions(version, DOCKER_MIN_API_VERSION) < 0)
    throw badRequest(`client version ${version} is too old. Minimum supported API version is ${DOCKER_MIN_API_VERSION}`);
  return { version, path: versioned[2] ?? '/' };
}

/** A response on a socket node handed over for an upgrade: handlers that do not hijack answer with it. */
export function responseOn(req: IncomingMessage, socket: Duplex): ServerResponse {
  // node:http is loaded by now (server.ts loads it at the first connection); not imported here for that reason.
  const res = new (process.getBuiltinModule('node:http').ServerResponse)(req);
  res.assignSocket(socket as never);
  res.once('finish', () => socket.end());
  return res;
}
