// The Docker Engine API server: node:http on a unix socket only root can open (like the agent's
// own), every route from the per-resource modules beside this one. A request node hands over for
// an upgrade (attach, exec start with `Upgrade: tcp`) reaches the same router.
// The socket is a plain net listener; node:http (its server, parser and outgoing modules: ~1.3 MiB
// of an idle agent's RSS, issue 12) is loaded when the first docker client connects, and every
// connection is handed to it: most machines never see a docker client.
import { unlink } from 'node:fs/promises';
import { createServer as createListener, type Server } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { listenOwnerOnly } from '../daemon/owner-only-listen.js';
import type { Duplex } from 'node:stream';
import { DockerBackend, type DockerBackendDeps } from './backend.js';
import { unsupported } from './errors.js';
import { containerRoutes } from './containers.js';
import { containerVerbRoutes } from './container-verbs.js';
import { imageArchiveRoutes } from './image-archives.js';
import { execRoutes } from './exec.js';
import { imageRoutes } from './images.js';
import { networkRoutes } from './networks.js';
import { Router, responseOn } from './router.js';
import { clearScratch } from './scratch.js';
import { systemRoutes } from './system.js';
import { volumeRoutes } from './volumes.js';

/** Endpoints Docker has that Onggi does not serve (yet): answered 501 naming them, never 404. */
const UNSUPPORTED: Array<[string, string]> = [
  ['GET', '/containers/{id}/attach/ws'],
  ['POST', '/commit'],
  ['POST', '/auth'],
  ['GET', '/images/search'],
  ['GET', '/distribution/{name*}/json'],
  ['POST', '/session'],
  // BuildKit's session stream (buildx)
  ['POST', '/grpc'],
  ['POST', '/build/prune'],
];

export function createRouter(): Router {
  const router = new Router();
  systemRoutes(router);
  containerRoutes(router);
  containerVerbRoutes(router);
  execRoutes(router);
  imageArchiveRoutes(router);
  imageRoutes(router);
  networkRoutes(router);
  volumeRoutes(router);
  for (const [method, path] of UNSUPPORTED)
    router.add(method, path, () => {
      // named as Docker's documentation writes the path (`{name}`, not the router's `{name*}`)
      throw unsupported(`${method} ${path.replace('*}', '}')}`);
    });
  for (const prefix of ['swarm', 'services', 'nodes', 'tasks', 'secrets', 'configs', 'plugins'])
    for (const method of ['GET', 'POST', 'DELETE'])
      router
        .add(method, `/${prefix}{rest*}`, () => {
          throw unsupported(`${method} /${prefix} (swarm and plugins)`);
        })
        .add(method, `/${prefix}`, () => {
          throw unsupported(`${method} /${prefix} (swarm and plugins)`);
        });
  return router;
}

export interface DockerApiServer {
  server: Server;
  close(): Promise<void>;
}

export async function startDockerApi(socketPath: string, deps: DockerBackendDeps): Promise<DockerApiServer> {
  const backend = new DockerBackend(deps);
  await clearScratch(deps.scratchDir);
  let http: HttpServer | undefined;
  const sockets = new Set<Duplex>();
  // Half-open as node:http's own listener: a client that ends its side of a hijacked stream (stdin
  // done) still reads the container's output.
  const server = createListener({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    (http ??= serveHttp(backend)).emit('connection', socket);
  });
  await unlink(socketPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await listenOwnerOnly(server, socketPath);
  return {
    server,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      // Ends node:http's timeout checks; it never listened itself, so its callback's error is expected.
      http?.close(() => undefined);
      await closed;
      // shutting down: a socket file already gone is the goal
      await unlink(socketPath).catch(() => undefined);
    },
  };
}

/** The HTTP side, made at the first connection: the listener hands it every socket. */
function serveHttp(backend: DockerBackend): HttpServer {
  const { createServer } = process.getBuiltinModule('node:http');
  const router = createRouter();
  const server = createServer((req, res) => void router.handle(backend, req, res));
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    void router.handle(backend, req, responseOn(req, socket), { socket, head });
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"message":"malformed HTTP request"}',
      );
    else socket.destroy();
  });
  // Long-lived streams (logs -f, events, attach) must not be cut by node's request timeouts.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  // node starts its per-connection timeout checks (headersTimeout) on `listening`, which a server
  // fed by another listener never emits by itself.
  server.emit('listening');
  return server;
}
