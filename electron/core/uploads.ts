// Files the window uploads in chunks (see shared/uploads.ts): each goes to a temporary file under
// <dataDir>/uploads, written only at the offset where the previous chunk ended and never past the
// size announced at the start; the commit hands the complete file to `importImageFile`.
//
// A part file is named after the process that writes it (`<pid>-<id>.part`): a host core that was
// killed mid-upload leaves its parts behind, and the next one removes them, but never the parts of
// another window's host core that is still alive and shares this data directory.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { OnggiError } from '../../shared/errors.js';
import type { ImageSummary } from '../../shared/images.js';
import { ErrorCode } from '../../shared/jsonrpc.js';
import { UPLOAD_CHUNK_BYTES } from '../../shared/uploads.js';

export interface UploadStart {
  machine: string;
  size: number;
  kind?: 'auto' | 'docker-archive' | 'oci-archive' | 'rootfs' | undefined;
  name?: string | undefined;
}

interface Upload extends UploadStart {
  path: string;
  file: FileHandle;
  received: number;
}

/** At most this many uploads at once (each holds an open file). */
const MAX_OPEN = 8;

export class Uploads {
  private readonly open = new Map<string, Upload>();
  private reaping: Promise<unknown> | undefined;

  constructor(
    private readonly dir: string,
    private readonly importFile: (machine: string, path: string, options: Pick<UploadStart, 'kind' | 'name'>) => Promise<ImageSummary[]>,
  ) {}

  async begin(start: UploadStart): Promise<{ id: string }> {
    if (this.open.size >= MAX_OPEN) {
      throw new OnggiError(ErrorCode.Conflict, 'too_many_uploads', `at most ${MAX_OPEN} uploads at once: finish or cancel one first`);
    }
    await this.reapOnce();
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const id = randomUUID();
    const path = join(this.dir, `${process.pid}-${id}.part`);
    const file = await open(path, 'wx', 0o600);
    this.open.set(id, { ...start, path, file, received: 0 });
    return { id };
  }

  async chunk(id: string, offset: number, data: string): Promise<{ received: number }> {
    const upload = this.get(id);
    if (offset !== upload.received) {
      throw new OnggiError(
        ErrorCode.InvalidParams,
        'invalid_params',
        `params.offset: expected ${upload.received}, got ${offset}`,
        'params.offset',
      );
    }
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length > UPLOAD_CHUNK_BYTES) {
      throw new OnggiError(
        ErrorCode.InvalidParams,
        'invalid_params',
        `params.data: at most ${UPLOAD_CHUNK_BYTES} bytes a chunk`,
        'params.data',
      );
    }
    if (upload.received + bytes.length > upload.size) {
      throw new OnggiError(
        ErrorCode.InvalidParams,
        'invalid_params',
        `params.data: goes past the ${upload.size} bytes announced at images.upload.begin`,
        'params.data',
      );
    }
    await upload.file.write(bytes, 0, bytes.length, offset);
    upload.received += bytes.length;
    return { received: upload.received };
  }

  async commit(id: string): Promise<ImageSummary[]> {
    const upload = this.get(id);
    if (upload.received !== upload.size) {
      throw new OnggiError(
        ErrorCode.InvalidParams,
        'invalid_params',
        `params.id: ${upload.received} of ${upload.size} bytes received; send the rest first`,
        'params.id',
      );
    }
    this.open.delete(id);
    try {
      await upload.file.close();
      return await this.importFile(upload.machine, upload.path, { kind: upload.kind, name: upload.name });
    } finally {
      await rm(upload.path, { force: true });
    }
  }

  async abort(id: string): Promise<void> {
    const upload = this.get(id);
    this.open.delete(id);
    // aborting: the file is removed just below whether or not close() succeeded
    await upload.file.close().catch(() => undefined);
    await rm(upload.path, { force: true });
  }

  /** `reapAbandoned` the first time only; a failure to reap never blocks an upload. */
  reapOnce(): Promise<unknown> {
    // as documented above: a failure to reap never blocks an upload
    this.reaping ??= this.reapAbandoned().catch(() => []);
    return this.reaping;
  }

  /** Removes the part files of host cores that are no longer running; returns their names. */
  async reapAbandoned(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const abandoned = names.filter((name) => {
      const owner = /^(\d+)-[0-9a-f-]+\.part$/.exec(name)?.[1];
      // A part of an older layout (no owner in its name) has no one left to finish it either.
      return owner === undefined ? name.endsWith('.part') : !processAlive(Number(owner));
    });
    await Promise.all(abandoned.map((name) => rm(join(this.dir, name), { force: true })));
    return abandoned;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((id) => this.abort(id)));
  }

  private get(id: string): Upload {
    const upload = this.open.get(id);
    if (!upload)
      throw new OnggiError(ErrorCode.NotFound, 'not_found', `no upload with id ${id} (finished, cancelled or never begun)`, 'params.id');
    return upload;
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
