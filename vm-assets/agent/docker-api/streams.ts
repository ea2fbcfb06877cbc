// The byte streams of attach, exec and logs. Without a TTY Docker multiplexes stdout and stderr
// into stdcopy frames (1 byte stream, 3 zero bytes, 4 bytes big-endian length, payload); with one
// it sends the raw bytes. A hijacked connection (`Upgrade: tcp`) becomes a raw duplex after a 101.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { DockerError } from './errors.js';

export type StreamKind = 'stdin' | 'stdout' | 'stderr';

export function stdcopyFrame(stream: 'stdout' | 'stderr', data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream === 'stdout' ? 1 : 2;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** Where a container's or an exec's output goes, and (when hijacked) where its input comes from. */
export interface OutputSink {
  write(stream: 'stdout' | 'stderr', data: Buffer): void;
  end(): void;
  /** Set when the client hung up. */
  readonly closed: boolean;
  onClose(listener: () => void): void;
  /** The client's input (hijacked connections only). */
  input: Duplex | undefined;
  /** Bytes of input that came with the request's head. */
  pendingInput: Buffer;
}

const RAW_STREAM = 'application/vnd.docker.raw-stream';
const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

function sinkOver(target: Duplex | ServerResponse, tty: boolean, input: Duplex | undefined, pendingInput: Buffer): OutputSink {
  let closed = false;
  const listeners: Array<() => void> = [];
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const listener of listeners) listener();
  };
  target.once('close', close);
  target.on('error', close);
  return {
    write(stream, data) {
      if (closed || data.length === 0) return;
      target.write(tty ? data : stdcopyFrame(stream, data));
    },
    end() {
      if (!closed) target.end();
    },
    get closed() {
      return closed;
    },
    onClose(listener) {
      if (closed) listener();
      else listeners.push(listener);
    },
    input,
    pendingInput,
  };
}

/** A plain streamed answer (no hijack): output only. */
export function responseSink(res: ServerResponse, tty: boolean): OutputSink {
  res.writeHead(200, { 'Content-Type': tty ? RAW_STREAM : MULTIPLEXED_STREAM });
  res.flushHeaders();
  return sinkOver(res, tty, undefined, Buffer.alloc(0));
}

/** Takes over a connection that asked `Upgrade: tcp`: after the 101 it is a raw duplex. */
export function hijackSink(socket: Duplex, tty: boolean, pendingInput: Buffer): OutputSink {
  socket.write(
    `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${tty ? RAW_STREAM : MULTIPLEXED_STREAM}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
  );
  return sinkOver(socket, tty, socket, pendingInput);
}

/**
 * The body of a request that asked to upgrade: node hands such a request over before reading its
 * body, so Content-Length bytes are read off the socket here; what follows is the client's input.
 */
export function readUpgradeBody(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  limit: number,
): Promise<{ body: Buffer; rest: Buffer }> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(length) || length < 0 || length > limit)
    return Promise.reject(new DockerError(413, `request body too large (at most ${limit} bytes)`));
  if (head.length >= length) return Promise.resolve({ body: head.subarray(0, length), rest: head.subarray(length) });
  return new Promise((resolve, reject) => {
    let buffered = head;
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < length) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      resolve({ body: buffered.subarray(0, length), rest: buffered.subarray(length) });
    };
    const onClose = (): void => reject(new DockerError(400, 'the connection closed before the request body arrived'));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
