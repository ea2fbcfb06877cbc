// A folder's listing for the share's desktop server (sftp-server.ts): its names and each entry's
// attributes, read on worker threads and made into the SFTP replies there.
//
// A listing is one readdir and an lstat per entry, and the lstats are what costs: a 20,000-file
// `git status`-like walk is 20,000 of them, 4–5 µs each through Node here on a quiet machine (all
// of `find`'s walk of the same tree is 3 µs an entry), on Windows far more (each lstat opens the
// file). On the main thread they ran one folder after another, holding every share and the window
// meanwhile (0.1–0.25 s of a 20,000-file walk); sharefs asks for the folders ahead of a walk 32 at
// once (sharefs-listings.c), so here they run on as many threads as there are cores, up to
// MAX_WORKERS, and the main thread only sends the packets made there.
//
// Written here rather than with a pool library (piscina): those load the worker from a file of its
// own, which the bundled, asar-packed host core does not have; the worker's code is small and is
// evaluated instead.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Entries per NAME packet (OpenSSH's sftp-server sends 100). */
const ENTRIES_PER_PACKET = 256;

/** A NAME packet's length, type, request id and count, which come before its entries. */
const NAME_HEADER = 13;

/**
 * A folder's listing as SFTP NAME packets, `.` and `..` first, each entry with its attributes (none
 * for an entry gone before its lstat). Each packet is whole but for its request id (at offset 5),
 * which the READDIR it answers writes.
 */
export type ListingResult = { packets: Buffer[] } | { error: NodeJS.ErrnoException };

/** Threads listing at once at most: beyond this the disk, not the CPU, is what waits. */
const MAX_WORKERS = 4;

// The worker: CommonJS, evaluated (see above). It makes the packets too, so the main thread only
// sends them; they go back transferred, not copied. A name is sent twice, as the filename and as
// the longname (sharefs reads the filename; a client that shows the longname shows the name).
// Times are u32 seconds as SFTP v3 has them; a size is a u64. `..` goes without attributes: at the
// share's root it is the desktop folder above the share, which the machine has no business seeing.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { readdirSync, lstatSync } = require('node:fs');
const { sep } = require('node:path');
const ATTRS = 4 + 8 + 8 + 4 + 8; // flags, size, uid and gid, permissions, atime and mtime
const ALL = 0x1 | 0x2 | 0x4 | 0x8;
parentPort.on('message', ({ id, dir }) => {
  try {
    const names = ['.', '..', ...readdirSync(dir)];
    const prefix = dir.endsWith(sep) ? dir : dir + sep; // not path.join: a fifth of the lstat's cost
    const packets = [];
    for (let from = 0; from < names.length; from += ${ENTRIES_PER_PACKET}) {
      const batch = names.slice(from, from + ${ENTRIES_PER_PACKET});
      let size = ${NAME_HEADER};
      for (const name of batch) size += 8 + 2 * Buffer.byteLength(name) + ATTRS;
      const packet = Buffer.from(new ArrayBuffer(size)); // memory of its own, to transfer
      let at = ${NAME_HEADER};
      for (const name of batch) {
        for (let twice = 0; twice < 2; twice++) {
          const length = packet.write(name, at + 4);
          packet.writeUInt32BE(length, at);
          at += 4 + length;
        }
        const stats = name === '..' ? undefined : lstatSync(prefix + name, { throwIfNoEntry: false });
        if (!stats) {
          packet.writeUInt32BE(0, at); // gone before its lstat, or ..
          at += 4;
          continue;
        }
        packet.writeUInt32BE(ALL, at);
        packet.writeUInt32BE(Math.floor(stats.size / 0x100000000), at + 4);
        packet.writeUInt32BE(stats.size >>> 0, at + 8);
        packet.writeUInt32BE(stats.uid >>> 0, at + 12);
        packet.writeUInt32BE(stats.gid >>> 0, at + 16);
        packet.writeUInt32BE(stats.mode >>> 0, at + 20);
        packet.writeUInt32BE(Math.floor(stats.atimeMs / 1000) >>> 0, at + 24);
        packet.writeUInt32BE(Math.floor(stats.mtimeMs / 1000) >>> 0, at + 28);
        at += ATTRS;
      }
      packet.writeUInt32BE(at - 4, 0);
      packet[4] = 104; // SSH_FXP_NAME
      packet.writeUInt32BE(batch.length, 9);
      packets.push(at === size ? packet.buffer : packet.buffer.slice(0, at)); // shorter without some attributes
    }
    parentPort.postMessage({ id, packets }, packets);
  } catch (error) {
    parentPort.postMessage({ id, error: { code: error.code, message: error.message } });
  }
});
`;

type Reply = { id: number; packets: ArrayBuffer[] } | { id: number; error: { code?: string; message: string } };

interface Thread {
  worker: Worker;
  waiting: Map<number, (result: ListingResult) => void>;
}

const threads: Thread[] = [];
let nextId = 1;

/** Lists `dir` (absolute) on a worker thread. Never rejects: a failure is the result's `error`. */
export function listFolder(dir: string): Promise<ListingResult> {
  return new Promise((resolve) => {
    const thread = pick();
    const id = nextId++;
    thread.waiting.set(id, resolve);
    if (thread.waiting.size === 1) thread.worker.ref(); // a listing under way keeps the process alive
    thread.worker.postMessage({ id, dir });
  });
}

/** The least busy thread, or a new one while there are fewer than the cores (and MAX_WORKERS). */
function pick(): Thread {
  const idle = threads.find((thread) => thread.waiting.size === 0);
  if (idle) return idle;
  if (threads.length < Math.min(MAX_WORKERS, availableParallelism())) return start();
  return threads.reduce((least, thread) => (thread.waiting.size < least.waiting.size ? thread : least));
}

function start(): Thread {
  const thread: Thread = { worker: new Worker(WORKER_SOURCE, { eval: true }), waiting: new Map() };
  threads.push(thread);
  thread.worker.unref();
  thread.worker.on('message', (reply: Reply) => {
    const resolve = thread.waiting.get(reply.id);
    thread.waiting.delete(reply.id);
    if (thread.waiting.size === 0) thread.worker.unref();
    if (!resolve) return;
    if ('error' in reply) resolve({ error: Object.assign(new Error(reply.error.message), { code: reply.error.code }) });
    else resolve({ packets: reply.packets.map((packet) => Buffer.from(packet)) });
  });
  // A thread that died (out of memory, a bug) fails what it had and is replaced by the next listing.
  const died = (error: Error): void => {
    const at = threads.indexOf(thread);
    if (at >= 0) threads.splice(at, 1);
    for (const resolve of thread.waiting.values()) resolve({ error: Object.assign(error, { code: 'EIO' }) });
    thread.waiting.clear();
  };
  thread.worker.on('error', died);
  thread.worker.on('exit', (code) => died(new Error(`the listing thread exited (${code})`)));
  return thread;
}
