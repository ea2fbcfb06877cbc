// The SSH connection's TCP writes, gathered per tick.
//
// ssh2 hands its socket every packet in pieces (without its native crypto addon, which Electron
// cannot load: the length, the ciphertext and the tag of an AES-GCM packet are three writes), and a
// socket that can take them writes each at once: three system calls a packet. A shared folder's
// sequential read through the share (bench case 15) sends two packets for each 32 KiB READ reply:
// 49,731 write(2) calls for 256 MiB, ~0.5 s of the host core's event loop on the loopback machine.
// Corked for the rest of the tick, the pieces of every packet made in that tick leave in one
// writev(2); nothing waits longer than the synchronous code that made them.
import type { Duplex } from 'node:stream';

export function coalesceWrites(socket: Duplex): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as Duplex['write'];
}
