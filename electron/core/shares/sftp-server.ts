// The desktop side of a shared folder: an SFTP (v3) server confined to one folder of this computer,
// spoken over any duplex stream — in practice a connection from the machine's `sharefs` (its FUSE
// client, vm-assets/init/sharefs.c) to a socket there that its sshd forwards to us (share-mount.ts).
//
// The protocol is ssh2's own server-mode SFTP (lib/protocol/SFTP.js), not a hand-written one: it is
// the implementation ssh2's Server uses, and it only needs a "channel" to write to, which we give it
// (`outgoing` with an unbounded window: the exec channel under it has SSH's own flow control).
//
// Confinement is ours, and it is enforced here, on the desktop, whatever the machine asks:
// - a path with a `..` component (or a NUL, or a backslash) is refused (sharefs never sends one: the
//   machine's kernel resolves `..` itself, and the mount's root has no parent);
// - every path that is followed must resolve (realpath) inside the shared folder: a symlink out of
//   it, or an absolute one, is refused; READLINK refuses absolute links, SYMLINK refuses absolute
//   targets and relative ones that climb out;
// - a read-only share refuses every write, create, remove, rename, attribute change.
// The check-then-open window (a desktop program swapping a link between the realpath and the
// open) is the desktop user's own doing on their own files; the machine cannot race it.
//
// Speed (bench case 15): namespace and attribute requests are single system calls made
// synchronously, in arrival order, as OpenSSH's sftp-server makes them — a thread-pool round trip
// per stat costs more than the stat. READs and WRITEs go to the thread pool and run together
// (request-order.ts), so the client's pipelined transfers keep the link busy; contiguous ones received
// back to back go as one readv/writev (io-runs.ts), their buffers are reused (buffer-pool.ts), and
// replies go out together (REPLY_BATCH_BYTES). The machine cannot make
// the desktop buffer without bound: past a backlog, or while replies wait to be sent, the input is
// paused, and SSH's flow control holds the client back.
import * as fs from 'node:fs';
import { constants, type Stats } from 'node:fs';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import sftpModule from 'ssh2/lib/protocol/SFTP.js';
import { BufferPool } from './buffer-pool.js';
import { IoRun, type RunPiece } from './io-runs.js';
import { listFolder, type ListingResult } from './listing-workers.js';
import type { ShareRemovals } from './machine-removals.js';
import { RequestOrder } from './request-order.js';

/** ssh2's status codes (SFTP v3). */
const STATUS = { OK: 0, EOF: 1, NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4, OP_UNSUPPORTED: 8 } as const;
const OPEN = { READ: 1, WRITE: 2, APPEND: 4, CREAT: 8, TRUNC: 16, EXCL: 32 } as const;
/** The largest READ answered at once (the client asks again for the rest): below ssh2's 256 KiB packet limit. */
const MAX_READ = 254 * 1024;
/**
 * Replies are gathered for one turn of the event loop, up to this many bytes, and written
 * together: over SSH every write is at least one packet (a cipher set up, a TCP write), and a
 * channel packet holds 32 KiB (OpenSSH's), so a READ's 32 KiB of data and its 13-byte header
 * written alone are two packets, the second nearly empty. Written together, the replies of one
 * turn fill whole packets: a 256 MiB write through the share completes its WRITEs' status replies
 * together, a 256 MiB read its READs' data (bench case 15).
 */
const REPLY_BATCH_BYTES = 256 * 1024;
/**
 * While reads and writes still run, their replies wait for each other up to this many: a 256 MiB
 * write through the share is 4,096 WRITEs of 64 KiB whose completions trickle in one by one, and
 * each status reply sent alone was a packet, a write(2) on the desktop and a read and a write at
 * every hop on the machine (the client does not wait for a WRITE's status before sending the next).
 */
const REPLY_BATCH_COUNT = 16;
/** SSH_FXP_DATA, and its header: length, type, request id, data length. */
const FXP_DATA = 103;
const DATA_HEADER = 13;
/** SSH_FXP_EXTENDED_REPLY, which answers sharefs's request for a folder's whole listing (vm-assets/init/sftp.h). */
const FXP_EXTENDED_REPLY = 201;
const LIST_FOLDER_EXTENSION = 'list-folder@onggi';
/** The buffers READs and WRITEs take (buffer-pool.ts): the largest READ's packet, or a 256 KiB WRITE's data. */
const POOL_BUFFER = Math.max(DATA_HEADER + MAX_READ, 256 * 1024);
const POOL_KEEP = 32;
/**
 * WRITE data received and not yet written, past which the machine's input is paused: the client sends
 * WRITEs as fast as it can, and data queued here beyond what the pool holds is memory V8 gets back
 * only with full collections (buffer-pool.ts); held back, it waits in the SSH window instead.
 */
const MAX_PENDING_WRITE_BYTES = 2 * 1024 * 1024;
/** Requests received but not finished, past which the machine's input is paused. */
const MAX_BACKLOG = 256;

const readv = promisify(fs.readv);
const writev = promisify(fs.writev);

/** A WRITE of a run (io-runs.ts): its bytes are in a buffer of the pool (`own`) or, larger than those, ssh2's packet. */
interface WritePiece extends RunPiece {
  bytes: Buffer;
  own: Buffer | undefined;
}

interface SftpAttrs {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: number;
  mtime?: number;
}

/** The part of ssh2's server-mode SFTP this module uses (ssh2 ships no types for lib/protocol). */
interface SftpServerStream {
  push(data: Buffer | null): void;
  on(event: string, listener: (...args: never[]) => void): void;
  status(reqid: number, code: number, message?: string): void;
  handle(reqid: number, handle: Buffer): void;
  name(reqid: number, names: Array<{ filename: string; longname: string; attrs?: SftpAttrs }>): void;
  attrs(reqid: number, attrs: SftpAttrs): void;
}

type SftpCtor = new (client: unknown, chanInfo: unknown, cfg: { server: true; debug?: (line: string) => void }) => SftpServerStream;
const SFTP = (sftpModule as unknown as { SFTP: SftpCtor }).SFTP;

export interface ShareServerOptions {
  /** The shared folder on this computer (absolute). */
  root: string;
  readOnly: boolean;
  /** The machine's notes of removals (machine-removals.ts), shared with its change events. */
  removals: ShareRemovals;
}

export interface ShareServer {
  /** Resolves when the stream ended (the machine's client exited or the link dropped). */
  readonly closed: Promise<void>;
  /** Requests refused so far (for tests and diagnostics). */
  readonly refused: string[];
  /** Requests wait because the machine has not read the replies sent (for tests and diagnostics). */
  readonly held: boolean;
}

class Refused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const denied = (message: string) => new Refused(STATUS.PERMISSION_DENIED, message);

/** Serves the shared folder over `stream` until it ends. */
export function serveShare(stream: Duplex, options: ShareServerOptions): ShareServer {
  const refused: string[] = [];
  // A stand-in for ssh2's Client and Channel: SFTP writes packets through channelData.
  const outgoing = { id: 0, state: 'open', window: Number.POSITIVE_INFINITY, packetSize: Number.POSITIVE_INFINITY };
  // Replies go out together (REPLY_BATCH_BYTES, REPLY_BATCH_COUNT): at the end of the turn that
  // made them, or once the reads and writes running then are done.
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let flushDue = false;
  const pool = new BufferPool(POOL_BUFFER, POOL_KEEP);
  /** The pool's buffers the batch's replies were made in: given back once written or copied. */
  let pooled: Buffer[] = [];
  const flushReplies = (): void => {
    flushDue = false;
    const single = batch[0] !== undefined && batch.length === 1 ? batch[0] : undefined;
    if (batch.length === 0) return;
    const data = single ?? Buffer.concat(batch, batchBytes);
    const done = pooled;
    batch = [];
    batchBytes = 0;
    pooled = [];
    const giveBack = (): void => done.forEach((buffer) => pool.give(buffer));
    if (!stream.destroyed) {
      // A reply in a pooled buffer goes out as it is, given back once written; a batch was copied.
      if (single && done.length > 0) stream.write(data, giveBack);
      else {
        stream.write(data);
        giveBack();
      }
    }
    flow();
  };
  const flushWhenDone = (): void => {
    if (order.dataRunning > 0 && batch.length < REPLY_BATCH_COUNT) flushDue = true;
    else flushReplies();
  };
  const reply = (data: Buffer, from?: Buffer): void => {
    batch.push(data);
    batchBytes += data.length;
    if (from) pooled.push(from);
    if (batchBytes >= REPLY_BATCH_BYTES || batch.length >= REPLY_BATCH_COUNT) flushReplies();
    else if (batch.length === 1) setImmediate(flushWhenDone);
  };
  const client = {
    // The client speaks OpenSSH's dialect (SYMLINK's arguments in OpenSSH's order), as sshfs does.
    _protocol: {
      _remoteIdentRaw: 'SSH-2.0-OpenSSH_onggi-share',
      channelData: (_id: number, data: Buffer) => reply(data),
      channelClose: () => {
        flushReplies();
        outgoing.state = 'closed';
        stream.end();
      },
    },
  };
  const sftp = new SFTP(
    client,
    { type: 'sftp', incoming: {}, outgoing },
    { server: true, ...(process.env.ONGGI_SHARE_DEBUG ? { debug: (line: string) => console.error(line) } : {}) },
  );
  // Flow control: pause the machine's input while replies wait to be sent (past the stream's
  // high-water mark: 2 MiB for an SSH channel) or too much is pending.
  const flow = (): void => {
    const full = stream.writableNeedDrain || order.backlog > MAX_BACKLOG || handler.pendingWriteBytes > MAX_PENDING_WRITE_BYTES;
    if (full && !stream.isPaused()) stream.pause();
    else if (!full && stream.isPaused()) stream.resume();
  };
  // Once the session is over nothing waits for a drain that will not come: the last barrier closes the files.
  let over = false;
  const order = new RequestOrder(
    () => !over && stream.writableNeedDrain,
    () => {
      if (flushDue) flushWhenDone();
      flow();
    },
  );
  const handler = new ShareHandler(sftp, options, refused, order, reply, pool);
  handler.listen();
  // A protocol error from the machine (a malformed or oversized packet) ends the session: ssh2 says
  // so with 'error' but goes on parsing what follows in a broken state and throws, which here would
  // end the host core; so nothing more is parsed and the stream is closed.
  let broken = false;
  const fail = (): void => {
    broken = true;
    stream.destroy();
  };
  stream.on('data', (chunk: Buffer) => {
    if (broken) return;
    try {
      sftp.push(chunk);
    } catch {
      fail();
      return;
    }
    flow();
  });
  stream.on('drain', () => {
    order.resume();
    flow();
  });
  const closed = new Promise<void>((resolve) => {
    const done = (): void => {
      over = true;
      outgoing.state = 'closed';
      void handler.closeAll().finally(resolve);
    };
    stream.once('close', done);
    stream.once('end', done);
    stream.once('error', done);
  });
  sftp.on('error', fail);
  return {
    closed,
    refused,
    get held() {
      return order.held;
    },
  };
}

interface OpenFile {
  kind: 'file';
  fd: number;
  writable: boolean;
}
interface OpenDir {
  kind: 'dir';
  path: string;
  /** The folder's listing, read or being read. */
  listing: ListingResult | Promise<ListingResult>;
  /** The listing's packet the next READDIR answers with. */
  next: number;
}

class ShareHandler {
  /** WRITE data received and not yet written (MAX_PENDING_WRITE_BYTES). */
  pendingWriteBytes = 0;
  /** The run of READs or WRITEs the next one may join (io-runs.ts); any other request ends it. */
  private current: IoRun<RunPiece> | IoRun<WritePiece> | undefined;
  private readonly handles = new Map<number, OpenFile | OpenDir>();
  private nextHandle = 1;
  private realRoot: string | undefined;

  constructor(
    private readonly sftp: SftpServerStream,
    private readonly options: ShareServerOptions,
    private readonly refused: string[],
    private readonly order: RequestOrder,
    /** Sends a reply made here (a READ's data, read straight into its packet in `from`, a buffer of the pool). */
    private readonly reply: (packet: Buffer, from?: Buffer) => void,
    private readonly pool: BufferPool,
  ) {}

  listen(): void {
    // Every request but READ and WRITE: after everything before it (request-order.ts); synchronous
    // but for a READDIR whose listing is still being read.
    const reply = <A extends unknown[]>(event: string, run: (reqid: number, ...args: A) => void | Promise<void>): void => {
      this.sftp.on(event, ((reqid: number, ...args: A) => {
        this.current = undefined;
        this.order.barrier(() => {
          try {
            const pending = run(reqid, ...args);
            if (pending instanceof Promise) return pending.catch((error: unknown) => this.fail(reqid, event, error));
          } catch (error) {
            this.fail(reqid, event, error);
          }
        });
      }) as unknown as (...args: never[]) => void);
    };
    reply('REALPATH', (reqid, path: string) => {
      const parts = this.parts(path);
      this.sftp.name(reqid, [{ filename: `/${parts.join('/')}`, longname: `/${parts.join('/')}` }]);
    });
    reply('STAT', (reqid, path: string) => this.sftp.attrs(reqid, toAttrs(fs.statSync(this.followed(path)))));
    reply('LSTAT', (reqid, path: string) => this.sftp.attrs(reqid, toAttrs(fs.lstatSync(this.unfollowed(path)))));
    reply('OPEN', (reqid, path: string, pflags: number, attrs: SftpAttrs) => {
      const writes = (pflags & (OPEN.WRITE | OPEN.APPEND | OPEN.CREAT | OPEN.TRUNC)) !== 0;
      if (writes) this.writable(`open ${path} for writing`);
      const target = (pflags & OPEN.CREAT) !== 0 ? this.creatable(path) : this.followed(path);
      let flags = (pflags & OPEN.WRITE) !== 0 ? ((pflags & OPEN.READ) !== 0 ? constants.O_RDWR : constants.O_WRONLY) : constants.O_RDONLY;
      if (pflags & OPEN.APPEND) flags |= constants.O_APPEND;
      if (pflags & OPEN.CREAT) flags |= constants.O_CREAT;
      if (pflags & OPEN.TRUNC) flags |= constants.O_TRUNC;
      if (pflags & OPEN.EXCL) flags |= constants.O_EXCL;
      // O_NOFOLLOW: a link made at the last component after the check is not followed (where the OS has it).
      if ((pflags & OPEN.CREAT) !== 0 && constants.O_NOFOLLOW) flags |= constants.O_NOFOLLOW;
      const fd = fs.openSync(target, flags, attrs.mode !== undefined ? attrs.mode & 0o7777 : 0o644);
      this.sftp.handle(reqid, this.addHandle({ kind: 'file', fd, writable: writes }));
    });
    // READ and WRITE: on the thread pool, several at once (request-order.ts).
    this.sftp.on('READ', ((reqid: number, handle: Buffer, offset: number, length: number) => {
      const size = Math.min(length, MAX_READ);
      const id = handleId(handle);
      const run = this.join(new IoRun<RunPiece>(id, false), id, offset, size);
      run.add({ reqid, start: offset, length: size });
      this.order.data({ handle: id, start: offset, end: offset + size, write: false }, () =>
        run.run((pieces) => this.readRun(handle, pieces)),
      );
    }) as unknown as (...args: never[]) => void);
    this.sftp.on('WRITE', ((reqid: number, handle: Buffer, offset: number, received: Buffer) => {
      const id = handleId(handle);
      // Copied out of ssh2's packet at once (a memcpy), so that packet dies young (buffer-pool.ts).
      const own = received.length <= this.pool.size ? this.pool.take() : undefined;
      const data = own ? own.subarray(0, received.copy(own)) : received;
      this.pendingWriteBytes += data.length;
      const run = this.join(new IoRun<WritePiece>(id, true), id, offset, data.length);
      run.add({ reqid, start: offset, length: data.length, bytes: data, own });
      this.order.data({ handle: id, start: offset, end: offset + data.length, write: true }, () =>
        run.run((pieces) => this.writeRun(handle, pieces)),
      );
    }) as unknown as (...args: never[]) => void);
    reply('FSTAT', (reqid, handle: Buffer) => {
      const entry = this.entry(handle);
      this.sftp.attrs(reqid, toAttrs(entry.kind === 'file' ? fs.fstatSync(entry.fd) : fs.statSync(entry.path)));
    });
    reply('FSETSTAT', (reqid, handle: Buffer, attrs: SftpAttrs) => {
      this.writable('change attributes');
      const file = this.file(handle);
      if (attrs.size !== undefined) fs.ftruncateSync(file.fd, attrs.size);
      if (attrs.mode !== undefined) fs.fchmodSync(file.fd, attrs.mode & 0o7777);
      if (attrs.atime !== undefined && attrs.mtime !== undefined && !sameTimes(fs.fstatSync(file.fd), attrs.atime, attrs.mtime)) {
        fs.futimesSync(file.fd, attrs.atime, attrs.mtime);
      }
      this.sftp.status(reqid, STATUS.OK);
    });
    reply('SETSTAT', (reqid, path: string, attrs: SftpAttrs) => {
      const target = this.followed(path);
      // Times set to what they are already (the change-event touch, share-events.ts) change nothing: allowed read-only too.
      if (!onlySameTimes(attrs, fs.statSync(target))) this.writable(`change attributes of ${path}`);
      if (attrs.size !== undefined) fs.truncateSync(target, attrs.size);
      if (attrs.mode !== undefined) fs.chmodSync(target, attrs.mode & 0o7777);
      if (attrs.atime !== undefined && attrs.mtime !== undefined && !sameTimes(fs.statSync(target), attrs.atime, attrs.mtime)) {
        fs.utimesSync(target, attrs.atime, attrs.mtime);
      }
      this.sftp.status(reqid, STATUS.OK);
    });
    reply('CLOSE', (reqid, handle: Buffer) => {
      const entry = this.entry(handle);
      this.handles.delete(handleId(handle));
      if (entry.kind === 'file') fs.closeSync(entry.fd);
      this.sftp.status(reqid, STATUS.OK);
    });
    reply('OPENDIR', (reqid, path: string) => this.sftp.handle(reqid, this.addHandle(this.openDir(path))));
    // sharefs's listing in one request (LIST_FOLDER_EXTENSION in vm-assets/init/sftp.h): OPENDIR,
    // READDIR, the READDIR that says EOF, and CLOSE were four requests a folder, three of them bookkeeping.
    reply('EXTENDED', (reqid, name: string, data: Buffer | undefined) => {
      if (name !== LIST_FOLDER_EXTENSION) {
        this.sftp.status(reqid, STATUS.OP_UNSUPPORTED); // any other extension
        return;
      }
      if (!data || data.length < 4 || data.length !== 4 + data.readUInt32BE(0))
        throw new Refused(STATUS.FAILURE, `${name}: expected one path`);
      const path = data.toString('utf8', 4);
      const dir = this.openDir(path);
      // Answered once listed, the requests after it going on meanwhile (as after an OPENDIR).
      void Promise.resolve(dir.listing).then((result) => {
        if ('error' in result) return this.fail(reqid, `${name} ${path}`, result.error);
        const [only, ...more] = result.packets;
        if (!only || more.length > 0) return this.sftp.handle(reqid, this.addHandle(dir)); // READDIR it
        only[4] = FXP_EXTENDED_REPLY;
        only.writeUInt32BE(reqid, 5);
        this.reply(only);
      });
    });
    reply('READDIR', (reqid, handle: Buffer) => {
      const dir = this.entry(handle);
      if (dir.kind !== 'dir') throw new Refused(STATUS.FAILURE, 'not a directory handle');
      const answer = (result: ListingResult): void => {
        if ('error' in result) throw result.error;
        const packet = result.packets[dir.next];
        if (!packet) {
          this.sftp.status(reqid, STATUS.EOF);
          return;
        }
        dir.next += 1;
        packet.writeUInt32BE(reqid, 5);
        this.reply(packet);
      };
      if (!(dir.listing instanceof Promise)) return answer(dir.listing);
      return dir.listing.then(answer);
    });
    reply('REMOVE', (reqid, path: string) => {
      if (this.dropped(reqid, path)) return;
      this.writable(`remove ${path}`);
      fs.unlinkSync(this.unfollowed(path));
      this.options.removals.machine.note(this.local(path));
      this.sftp.status(reqid, STATUS.OK);
    });
    reply('RMDIR', (reqid, path: string) => {
      if (this.dropped(reqid, path)) return;
      this.writable(`remove ${path}`);
      fs.rmdirSync(this.unfollowed(path));
      this.options.removals.machine.note(this.local(path));
      this.sftp.status(reqid, STATUS.OK);
    });
    reply('MKDIR', (reqid, path: string, attrs: SftpAttrs) => {
      this.writable(`make ${path}`);
      fs.mkdirSync(this.unfollowed(path), attrs.mode !== undefined ? attrs.mode & 0o7777 : 0o755);
      this.sftp.status(reqid, STATUS.OK);
    });
    reply('RENAME', (reqid, from: string, to: string) => {
      this.writable(`rename ${from}`);
      fs.renameSync(this.unfollowed(from), this.unfollowed(to));
      this.options.removals.machine.note(this.local(from));
      this.sftp.status(reqid, STATUS.OK);
    });
    reply('READLINK', (reqid, path: string) => {
      const link = fs.readlinkSync(this.unfollowed(path));
      this.linkTarget(path, link);
      this.sftp.name(reqid, [{ filename: link, longname: link }]);
    });
    reply('SYMLINK', (reqid, linkPath: string, target: string) => {
      this.writable(`make the link ${linkPath}`);
      const at = this.unfollowed(linkPath);
      this.linkTarget(linkPath, target);
      fs.symlinkSync(target, at);
      this.sftp.status(reqid, STATUS.OK);
    });
  }

  /** The current run when the piece continues it, else `fresh`, which becomes the current one. */
  private join<R extends IoRun<RunPiece> | IoRun<WritePiece>>(fresh: R, handle: number, start: number, length: number): R {
    const current = this.current;
    // A run goes when its first piece starts: a piece that has to wait for an earlier request (a
    // WRITE of its range still running or queued, that the first piece does not touch) runs alone.
    if (
      current &&
      current.write === fresh.write &&
      current.continues(handle, fresh.write, start, length) &&
      !this.order.waitsForEarlier({ handle, start, end: start + length, write: fresh.write })
    )
      return current as R;
    this.current = fresh;
    return fresh;
  }

  /** One readv for the run's READs; each answered with its part, or EOF past the file's end. */
  private async readRun(handle: Buffer, pieces: readonly RunPiece[]): Promise<void> {
    // Each READ's data is read into its DATA packet (ssh2's sftp.data() would copy it into one), a
    // buffer of the pool taken only now: queued READs hold none.
    const packets = pieces.map(() => this.pool.take());
    let left: number;
    try {
      const file = this.file(handle);
      const parts = pieces.map((piece, i) => (packets[i] as Buffer).subarray(DATA_HEADER, DATA_HEADER + piece.length));
      left = (await readv(file.fd, parts, pieces[0]?.start ?? 0)).bytesRead;
    } catch (error) {
      for (const packet of packets) this.pool.give(packet);
      for (const { reqid } of pieces) this.fail(reqid, 'READ', error);
      return;
    }
    pieces.forEach(({ reqid, length }, i) => {
      const packet = packets[i] as Buffer;
      const got = Math.min(left, length);
      left -= got;
      if (got === 0) {
        this.pool.give(packet);
        this.sftp.status(reqid, STATUS.EOF);
        return;
      }
      packet.writeUInt32BE(DATA_HEADER - 4 + got, 0);
      packet[4] = FXP_DATA;
      packet.writeUInt32BE(reqid, 5);
      packet.writeUInt32BE(got, 9);
      this.reply(packet.subarray(0, DATA_HEADER + got), packet);
    });
  }

  /** One writev (more if the system writes less) for the run's WRITEs; each answered OK, or all with the failure. */
  private async writeRun(handle: Buffer, pieces: readonly WritePiece[]): Promise<void> {
    try {
      const file = this.file(handle);
      if (!file.writable) throw denied('the file was not opened for writing');
      this.writable('write');
      let buffers = pieces.map((piece) => piece.bytes);
      let position = pieces[0]?.start ?? 0;
      while (buffers.length > 0) {
        let written = (await writev(file.fd, buffers, position)).bytesWritten;
        position += written;
        while (buffers[0] && written >= buffers[0].length) written -= (buffers.shift() as Buffer).length;
        if (buffers[0] && written > 0) buffers = [buffers[0].subarray(written), ...buffers.slice(1)];
      }
      for (const { reqid } of pieces) this.sftp.status(reqid, STATUS.OK);
    } catch (error) {
      for (const { reqid } of pieces) this.fail(reqid, 'WRITE', error);
    } finally {
      for (const { length, own } of pieces) {
        this.pendingWriteBytes -= length;
        if (own) this.pool.give(own);
      }
    }
  }

  /** Closes what the session left open; reads and writes still running finish first (the order's last barrier). */
  closeAll(): Promise<void> {
    return new Promise((resolve) =>
      this.order.barrier(() => {
        const open = [...this.handles.values()];
        this.handles.clear();
        for (const entry of open) {
          if (entry.kind !== 'file') continue;
          try {
            fs.closeSync(entry.fd);
          } catch {
            // the session is over: a close that fails leaves nothing to report to
          }
        }
        resolve();
      }),
    );
  }

  /**
   * A folder opened: listed at once on a worker thread (listing-workers.ts), so the folders opened
   * meanwhile are listed beside it, and a READDIR finds it read or waits for it.
   */
  private openDir(path: string): OpenDir {
    const target = this.followed(path);
    if (!fs.statSync(target).isDirectory()) throw new Refused(STATUS.FAILURE, `${path} is not a directory`);
    const listing = listFolder(target);
    const dir: OpenDir = { kind: 'dir', path: target, listing, next: 0 };
    void listing.then((result) => (dir.listing = result));
    return dir;
  }

  private fail(reqid: number, what: string, error: unknown): void {
    if (error instanceof Refused) {
      this.refused.push(`${what}: ${error.message}`);
      this.sftp.status(reqid, error.code, error.message);
      return;
    }
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const status =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? STATUS.NO_SUCH_FILE
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? STATUS.PERMISSION_DENIED
          : STATUS.FAILURE;
    this.sftp.status(reqid, status, error instanceof Error ? error.message : String(error));
  }

  /**
   * The machine dropping a path removed on the desktop (desktop-removals.ts): "done" while it is
   * still gone, read-only share or not (nothing changes here); refused when it is there again.
   */
  private dropped(reqid: number, path: string): boolean {
    const local = this.local(path);
    if (!this.options.removals.desktop.take(local)) return false;
    if (fs.lstatSync(local, { throwIfNoEntry: false })) throw denied(`${path}: there again on the desktop, not removed`);
    this.sftp.status(reqid, STATUS.OK);
    return true;
  }

  private writable(what: string): void {
    if (this.options.readOnly) throw denied(`the share is read-only: cannot ${what}`);
  }

  /** A link's target may be neither absolute nor climb out of the share from where the link is. */
  private linkTarget(linkPath: string, target: string): void {
    if (posix.isAbsolute(target) || isAbsolute(target)) throw denied(`${linkPath}: absolute link targets are refused`);
    // Count the climb from the link's directory: posix.join would clamp at the root instead.
    let depth = this.parts(linkPath).length - 1;
    for (const part of target.split('/')) {
      if (part === '..') depth -= 1;
      else if (part !== '' && part !== '.') depth += 1;
      if (depth < 0) throw denied(`${linkPath}: a link to ${target} points out of the share`);
    }
  }

  /** The request path as components under the share's root; `..` and odd characters are refused. */
  private parts(path: string): string[] {
    if (path.includes('\0') || path.includes('\\')) throw denied(`${JSON.stringify(path)}: refused characters in the path`);
    const parts = path.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.includes('..')) throw denied(`${path}: \`..\` is refused`);
    return parts;
  }

  private local(path: string): string {
    return join(this.options.root, ...this.parts(path));
  }

  /** Throws unless the real path is the root or inside it. */
  private inside(real: string, asked: string): void {
    this.realRoot ??= fs.realpathSync.native(this.options.root);
    const rel = relative(this.realRoot, real);
    if (rel === '') return;
    if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) throw denied(`${asked}: points out of the share`);
  }

  /** The local path for an operation that follows links: its real path must stay inside. */
  private followed(path: string): string {
    const real = fs.realpathSync.native(this.local(path));
    this.inside(real, path);
    return real;
  }

  /** For an operation on the entry itself (lstat, remove, rename, readlink): its directory must be inside. */
  private unfollowed(path: string): string {
    const parts = this.parts(path);
    if (parts.length === 0) return this.options.root;
    const parent = fs.realpathSync.native(join(this.options.root, ...parts.slice(0, -1)));
    this.inside(parent, path);
    return join(parent, parts[parts.length - 1] ?? '');
  }

  /** For open with create: an existing entry is followed (and checked); a new one goes in a checked directory. */
  private creatable(path: string): string {
    const at = this.unfollowed(path);
    // absent: a new entry, made in the checked directory
    return fs.lstatSync(at, { throwIfNoEntry: false }) ? this.followed(path) : at;
  }

  private addHandle(entry: OpenFile | OpenDir): Buffer {
    const id = this.nextHandle++;
    this.handles.set(id, entry);
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32BE(id, 0);
    return buffer;
  }

  private entry(handle: Buffer): OpenFile | OpenDir {
    const entry = this.handles.get(handleId(handle));
    if (!entry) throw new Refused(STATUS.FAILURE, 'unknown handle');
    return entry;
  }

  private file(handle: Buffer): OpenFile {
    const entry = this.entry(handle);
    if (entry.kind !== 'file') throw new Refused(STATUS.FAILURE, 'not a file handle');
    return entry;
  }
}

/**
 * Whether SFTP's whole-second times are the file's already: setting them would only lose the
 * sub-second part on the desktop (and echo a change event back).
 */
function sameTimes(stats: Stats, atime: number, mtime: number): boolean {
  return Math.floor(stats.atimeMs / 1000) === atime && Math.floor(stats.mtimeMs / 1000) === mtime;
}

function onlySameTimes(attrs: SftpAttrs, stats: Stats): boolean {
  return (
    attrs.size === undefined &&
    attrs.mode === undefined &&
    attrs.uid === undefined &&
    attrs.gid === undefined &&
    attrs.atime !== undefined &&
    attrs.mtime !== undefined &&
    sameTimes(stats, attrs.atime, attrs.mtime)
  );
}

/** A handle's number (0, which is never given out, for a malformed one). */
function handleId(handle: Buffer): number {
  return handle.length === 4 ? handle.readUInt32BE(0) : 0;
}

function toAttrs(stats: Stats): SftpAttrs {
  return {
    mode: stats.mode,
    uid: stats.uid,
    gid: stats.gid,
    size: stats.size,
    atime: Math.floor(stats.atimeMs / 1000),
    mtime: Math.floor(stats.mtimeMs / 1000),
  };
}
