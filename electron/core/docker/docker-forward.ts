// A machine's Docker API on this desktop: a unix socket in the data folder (mode 0600, in a 0700
// folder) or a named pipe on Windows; each docker client connection becomes one stream to the
// machine's Docker socket (Machine.dialDocker: the socket itself locally, `agent dial` over SSH).
// Nothing is parsed here: the agent's endpoint validates every request.
import { chmod, mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
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

export async function startDockerForward(
  machine: Pick<Machine, 'name' | 'dialDocker'>,
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
        remote.on('error', () => client.destroy());
        client.on('close', () => remote.destroy());
        remote.on('close', () => client.destroy());
        client.pipe(remote);
        remote.pipe(client);
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
