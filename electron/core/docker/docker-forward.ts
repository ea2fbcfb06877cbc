// A machine's Docker API on this desktop: a unix socket in the data folder (mode 0600, in a 0700
// folder) or a named pipe on Windows; each docker client connection becomes one stream to the
// machine's Docker socket (Machine.dialDocker: the socket itself locally, the init helper's `dial` over SSH).
// Nothing is parsed here: the agent's endpoint validates every request.
import { chmod, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { errorMessage } from '../../../shared/errors.js';
import type { Machine } from '../machines/machine.js';
import type { DockerEndpoint } from '../platform/platform.js';

export interface DockerForward {
  endpoint: DockerEndpoint;
  close(): Promise<void>;
}

const isPipe = (path: string) => path.startsWith('\\\\.\\pipe\\');

/** Docker's error shape, for a client whose machine cannot be reached (the docker CLI prints it). */
function refuse(client: Socket, message: string): void {
  const body = JSON.stringify({ message });
  client.end(
    `HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** A request that starts a container (`POST /v1.41/containers/ID/start`, restart, unpause). */
const STARTS = /^POST \/(?:v[0-9.]+\/)?containers\/[^/?\s]+\/(?:start|restart|unpause)[?\s]/;

/**
 * The machine's answers to one client, passed on unchanged, except that the answer to a request
 * starting a container waits until this computer forwards the machine's published ports: as with
 * Docker Desktop, a port answers here once `docker start`/`run -d` has returned (the forwards
 * otherwise followed the container's state event a moment later, and a client connecting at once
 * was refused). Only the head of each chunk is read: clients write a request's head in one piece,
 * and an extra look at the ports is all a false match costs.
 */
function answersAfterPortsForwarded(client: Socket, machine: Pick<Machine, 'syncPublishedPorts'>): Transform {
  let starts = 0;
  if (machine.syncPublishedPorts)
    client.on('data', (chunk: Buffer) => {
      if (STARTS.test(chunk.subarray(0, 160).toString('latin1'))) starts += 1;
    });
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (starts === 0 || !machine.syncPublishedPorts) return done(null, chunk);
      starts -= 1;
      // sync() reports its own failures (published-ports.ts): the answer goes on either way
      machine.syncPublishedPorts().then(
        () => done(null, chunk),
        () => done(null, chunk),
      );
    },
  });
}

export async function startDockerForward(
  machine: Pick<Machine, 'name' | 'dialDocker' | 'syncPublishedPorts'>,
  endpoint: DockerEndpoint,
  onError: (error: unknown) => void = () => undefined,
): Promise<DockerForward> {
  const clients = new Set<Socket>();
  // Half-open: docker closes its write side after a hijacked request's input (`docker exec`,
  // `run` with stdin) and still reads the output; that end is passed on, not answered by closing.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    clients.add(client);
    client.once('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.pause();
    machine.dialDocker().then(
      (remote) => {
        const answers = answersAfterPortsForwarded(client, machine);
        remote.on('error', () => client.destroy());
        client.on('close', () => remote.destroy());
        // What the machine sent (a held start answer too) reaches the client before it is closed.
        remote.on('close', () => {
          if (!remote.readableEnded || client.writableFinished) client.destroy();
          else client.once('finish', () => client.destroy());
        });
        client.pipe(remote);
        remote.pipe(answers).pipe(client);
        client.resume();
      },
      (error: unknown) => {
        onError(error);
        refuse(client, `Onggi cannot reach the Docker API of machine ${machine.name}: ${errorMessage(error)}`);
      },
    );
  });
  if (!isPipe(endpoint.listen)) {
    await mkdir(dirname(endpoint.listen), { recursive: true, mode: 0o700 });
    await removeStale(endpoint.listen);
  }
  // Only the desktop user may use it (0600 from the instant it is bound). A named pipe gets
  // Windows' default DACL (full control: creator, LocalSystem, Administrators; read only for
  // Everyone, which cannot send a request): node:net cannot set a tighter one. Unverified on a
  // real Windows desktop.
  const oldMask = isPipe(endpoint.listen) ? undefined : process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(endpoint.listen, () => resolve());
    });
  } finally {
    if (oldMask !== undefined) process.umask(oldMask);
  }
  if (!isPipe(endpoint.listen)) await chmod(endpoint.listen, 0o600);
  return {
    endpoint,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of clients) client.destroy();
      await closed;
    },
  };
}

/** A socket file nobody answers on is a forward that died: removed. One that answers is refused. */
async function removeStale(path: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another process already forwards docker on ${path}`);
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
