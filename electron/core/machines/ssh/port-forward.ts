// A published port on a remote machine, reachable on this computer's 127.0.0.1 (ssh -L, as Docker
// Desktop and Lima do it). The listener is ours and stays up across reconnects: each new local
// connection asks for the machine's current SSH connection, so a forward survives a dropped link.
import { createServer, type Server, type Socket } from 'node:net';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import { currentFacts, portDeniedMessage, type PlatformFacts } from '../../platform/platform.js';
import type { SshConnection } from './ssh-connection.js';

export interface PortForwardSpec {
  /** The port on this computer (0: any free one). */
  localPort: number;
  /** The port on the machine. */
  remotePort: number;
  /** Where on the machine to connect (default 127.0.0.1). */
  remoteHost?: string;
  /** Where to listen here (default 127.0.0.1; never a public address unless asked). */
  localHost?: string;
}

export interface PortForward {
  readonly localHost: string;
  readonly localPort: number;
  readonly remoteHost: string;
  readonly remotePort: number;
  /** Open local connections being carried. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Why this computer would not listen for a forward, as the user can act on it (the advice differs per OS). */
export function listenError(
  error: NodeJS.ErrnoException,
  localHost: string,
  spec: Pick<PortForwardSpec, 'localPort' | 'remotePort'>,
  facts: Pick<PlatformFacts, 'os'>,
): OnggiError {
  const address = localHost.includes(':') ? `[${localHost}]:${spec.localPort}` : `${localHost}:${spec.localPort}`;
  if (error.code === 'EADDRINUSE') {
    return new OnggiError(
      ErrorCode.Conflict,
      'port_in_use',
      `${address} is already in use on this computer (another program listens there), so the machine's port ${spec.remotePort} cannot be forwarded to it; publish the container on another port, or stop that program`,
      'localPort',
    );
  }
  if (error.code === 'EACCES') {
    return new OnggiError(ErrorCode.Forbidden, 'port_forbidden', portDeniedMessage(facts, address, spec.localPort), 'localPort');
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT') {
    return new OnggiError(
      ErrorCode.Unavailable,
      'address_unavailable',
      `${localHost} does not exist on this computer: ${errorMessage(error)}`,
    );
  }
  return new OnggiError(ErrorCode.OperationFailed, 'forward_failed', `cannot listen on ${address}: ${errorMessage(error)}`);
}

export async function forwardPort(
  connection: () => Promise<SshConnection>,
  spec: PortForwardSpec,
  onClosed?: () => void,
  facts: Pick<PlatformFacts, 'os'> = currentFacts(),
): Promise<PortForward> {
  const localHost = spec.localHost ?? '127.0.0.1';
  const remoteHost = spec.remoteHost ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  // Half-open, as `ssh -L` is: a client that ends its request (HTTP/1.0, testcontainers' probe:
  // `socket.end(request)`) is still waiting for the answer. Its end goes on to the machine as the
  // channel's EOF; closing here instead dropped every answer not back by then (issue 18).
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pause();
    connection()
      .then((ssh) =>
        ssh.forwardOut(remoteHost, spec.remotePort, { host: socket.remoteAddress ?? '127.0.0.1', port: socket.remotePort ?? 0 }),
      )
      .then((channel) => {
        if (socket.destroyed) {
          channel.close();
          return;
        }
        channel.on('error', () => socket.destroy());
        // what the machine sent is written out before the socket goes (destroy would drop it)
        channel.once('close', () => socket.end(() => socket.destroy()));
        socket.once('close', () => channel.close());
        socket.pipe(channel).pipe(socket);
        socket.resume();
      })
      // not dropped: a forward that cannot open closes the local socket, which its client sees
      .catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, localHost, spec, facts)));
    server.listen(spec.localPort, localHost, () => resolve());
  });
  const address = server.address();
  const localPort = typeof address === 'object' && address ? address.port : spec.localPort;
  return {
    localHost,
    localPort,
    remoteHost,
    remotePort: spec.remotePort,
    get connections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        onClosed?.();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
