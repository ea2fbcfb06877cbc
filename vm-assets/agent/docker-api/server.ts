// The Docker Engine API server: node:http on a unix socket only root can open (like the agent's
// own), every route from the per-resource modules beside this one. A request node hands over for
// an upgrade (attach, exec start with `Upgrade: tcp`) reaches the same router.
import { unlink } from 'node:fs/promises';
import { listenOwnerOnly } from '../daemon/owner-only-listen.js';
import { createServer, type Server } from 'node:http';
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
  await unlink(socketPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await listenOwnerOnly(server, socketPath);
  const sockets = new Set<Duplex>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    server,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      // shutting down: a socket file already gone is the goal
      await unlink(socketPath).catch(() => undefined);
    },
  };
}
