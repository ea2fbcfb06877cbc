// A shared folder mounted on this host by the real init helper's `sharefs`, its socket answered by
// the real desktop server (serveShare) in this process: the machine side and the desktop side of a
// share with no SSH in between (share-mount.test.ts has the SSH in between).
import { execFile, spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { duplexPair } from 'node:stream';
import { promisify } from 'node:util';
import type { ShareRemovals } from '../../electron/core/shares/machine-removals.js';
import { serveShare, type ShareServer } from '../../electron/core/shares/sftp-server.js';
import { CACHE_S } from '../../electron/core/shares/share-mount.js';
import { initHelperName } from '../../vm-assets/agent/runtime/helper-protocol.js';
import { AGENT_DIR } from './isolated-agent.js';

/** The helper the test run's build made (global-setup.ts), as the agent deploys it. */
const HELPER = join(AGENT_DIR, initHelperName());

export interface SharefsMount {
  mountpoint: string;
  /** The server of each connection sharefs made, the latest last. */
  servers: ShareServer[];
  /** The SFTP request types each connection sent, in order (the first byte after each packet's length). */
  requests: number[];
  /** Ends every connection and stops listening: the desktop gone. */
  cut(): Promise<void>;
  /** Listens again: the desktop back. */
  restore(): Promise<void>;
  /** The connections made so far stop hearing and answering, and stay open: a link gone dark (their requests are no longer tallied). */
  darken(): void;
  /** Unmounts (sharefs then exits) and stops listening. */
  close(): Promise<void>;
}

/** Mounts `root` at `<dir>/mnt-<name>` through sharefs, served by serveShare on `<dir>/<name>.sock`. */
export async function mountSharefs(options: {
  dir: string;
  name: string;
  root: string;
  readOnly: boolean;
  removals: ShareRemovals;
  /** sharefs's SILENCE_SECONDS (its default when absent). */
  silenceS?: number;
  /** A desktop that knows no SFTP extension (as OpenSSH's sftp-server, or an Onggi before them): each is answered OP_UNSUPPORTED. */
  noExtensions?: boolean;
}): Promise<SharefsMount> {
  const { dir, name, root, readOnly, removals, silenceS, noExtensions } = options;
  const mountpoint = join(dir, `mnt-${name}`);
  const socket = join(dir, `${name}.sock`);
  await mkdir(mountpoint, { recursive: true });
  const servers: ShareServer[] = [];
  const requests: number[] = [];
  const peers = new Set<Socket>();
  let listener: Server | undefined;
  const listen = async () => {
    const made = createServer((peer) => {
      peers.add(peer);
      peer.once('close', () => peers.delete(peer));
      peer.on('data', tally(requests));
      if (!noExtensions) {
        servers.push(serveShare(peer, { root, readOnly, removals }));
        return;
      }
      const [desktopSide, machineSide] = duplexPair();
      servers.push(serveShare(desktopSide, { root, readOnly, removals }));
      machineSide.on('data', (data: Buffer) => peer.write(data));
      peer.on(
        'data',
        sftpPackets((packet) => (packet[4] === EXTENDED ? peer.write(unsupported(packet)) : machineSide.write(packet))),
      );
    });
    listener = made;
    await new Promise<void>((resolve) => made.listen(socket, resolve));
  };
  const stop = async () => {
    for (const peer of peers) peer.destroy();
    const closing = listener;
    listener = undefined;
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  await listen();
  // sharefs returns once the mount is made (after the SFTP handshake), serving it in the background.
  // Not spawnSync: this process is the server it connects to.
  await promisify(execFile)(HELPER, ['sharefs', socket, mountpoint, String(CACHE_S), ...(silenceS ? [String(silenceS)] : [])]);
  return {
    mountpoint,
    servers,
    requests,
    cut: stop,
    restore: listen,
    darken: () => {
      // Not pause(): serveShare's flow control resumes its input whenever a reply completes (the
      // CLOSE of a file read just before would undo the darkness). With no 'data' listener left,
      // what the connection receives reaches no one, whatever resumes it.
      for (const peer of peers) peer.removeAllListeners('data');
    },
    close: async () => {
      spawnSync('umount', ['-l', mountpoint]);
      await stop();
    },
  };
}

const EXTENDED = 200;

/**
 * A 'data' listener handing on each whole SFTP packet (its length included). Chunks are joined once
 * a packet is all there, not on every chunk: a 255 KiB WRITE arrives in dozens of them.
 */
export function sftpPackets(each: (packet: Buffer) => void): (chunk: Buffer) => void {
  let chunks: Buffer[] = [];
  let have = 0;
  let need = 4; // the next length field, then the packet it announces
  return (chunk) => {
    chunks.push(chunk);
    have += chunk.length;
    while (have >= need) {
      const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, have);
      if (need === 4) {
        need = 4 + data.readUInt32BE(0);
        chunks = [data];
        continue;
      }
      each(data.subarray(0, need));
      const rest = data.subarray(need);
      chunks = rest.length > 0 ? [rest] : [];
      have = rest.length;
      need = 4;
    }
  };
}

/** SSH_FXP_STATUS OP_UNSUPPORTED, answering the request in `packet`. */
function unsupported(packet: Buffer): Buffer {
  const reply = Buffer.alloc(4 + 1 + 4 + 4 + 4 + 4);
  reply.writeUInt32BE(reply.length - 4, 0);
  reply[4] = 101;
  packet.copy(reply, 5, 5, 9); // the request id
  reply.writeUInt32BE(8, 9); // the message and language tag: empty
  return reply;
}

/** A 'data' listener noting each SFTP packet's type byte into `into`. */
function tally(into: number[]): (chunk: Buffer) => void {
  return sftpPackets((packet) => into.push(packet[4] ?? 0));
}
