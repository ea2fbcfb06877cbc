// Listening on a unix socket only its owner (root) may open: the agent's and the Docker API's,
// with no instant between bind and chmod where anyone else could connect: bound under a
// umask that leaves only the owner's bits, then chmod 0600 all the same.
import { chmod } from 'node:fs/promises';
import type { Server } from 'node:net';

export async function listenOwnerOnly(server: Server, path: string): Promise<void> {
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldMask);
  }
  await chmod(path, 0o600);
}
