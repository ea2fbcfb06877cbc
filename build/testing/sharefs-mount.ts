// A shared folder mounted on this host by the real init helper's `sharefs`, its socket answered by
// the real desktop server (serveShare) in this process: the machine side and the desktop side of a
// share with no SSH in between (share-mount.test.ts has the SSH in between).
import { execFile, spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
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
}): Promise<SharefsMount> {
  const { dir, name, root, readOnly, removals, silenceS } = options;
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
      servers.push(serveShare(peer, { root, readOnly, removals }));
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

/** A 'data' listener noting each SFTP packet's type byte into `into`. */
function tally(into: number[]): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 4 + pending.readUInt32BE(0)) {
      into.push(pending[4] ?? 0);
      pending = pending.subarray(4 + pending.readUInt32BE(0));
    }
  };
}
