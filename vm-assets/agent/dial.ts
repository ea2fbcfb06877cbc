// `agent dial`: bridges stdin/stdout to the daemon's socket, so an SSH exec channel (`sudo agent
// dial`) reaches the daemon with the daemon's own permission check (like `docker system dial-stdio`).
import { createConnection } from 'node:net';

export function dial(socketPath: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      process.stderr.write(`onggi-agent dial: cannot reach the agent at ${socketPath}: ${error.code ?? error.message}\n`);
      resolve(1);
    });
    socket.once('connect', () => {
      process.stdin.pipe(socket);
      socket.pipe(process.stdout);
      // The peer hanging up on either side ends the bridge.
      process.stdin.once('end', () => socket.end());
      socket.once('close', () => resolve(0));
    });
  });
}
