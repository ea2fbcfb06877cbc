// Files the Docker API passes through the machine's disk: the agent's export, save and import
// verbs read and write paths on the machine, while docker clients send and receive the tar in the
// HTTP body. Each transfer gets a private directory under the agent's state (not /tmp, which may
// be a small tmpfs), removed when it ends, whatever happened.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Runs `use` with a path to a file that does not exist yet, in a directory only root can read. */
export async function withScratchFile<T>(dir: string, name: string, use: (path: string) => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const own = await mkdtemp(join(dir, 'transfer-'));
  try {
    return await use(join(own, name));
  } finally {
    await rm(own, { recursive: true, force: true });
  }
}

/** A leftover from an agent that stopped mid-transfer: nothing in it is wanted. */
export async function clearScratch(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** The request's body into `path` (no size cap: image archives are as big as the images). */
export async function receiveFile(req: IncomingMessage, path: string): Promise<void> {
  await pipeline(req, createWriteStream(path, { mode: 0o600 }));
}

/** `path` as a tar response; a client that hangs up midway just ends the transfer. */
export async function sendTarFile(res: ServerResponse, path: string): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  // The status is sent: a read or write failing now can only cut the response short, which the client sees.
  await pipeline(createReadStream(path), res).catch(() => res.destroy());
}
