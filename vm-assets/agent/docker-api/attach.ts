// `POST /containers/{id}/attach` and `/resize`: a client joined to a container's own console (the
// socket its supervisor serves, as `onggi attach` uses). `docker run` attaches *before* it starts
// the container: such an attacher waits here, and the start that follows holds the container's
// output until it is connected (the runtime's waitForAttach), so no first line is lost.
import type { Socket } from 'node:net';
import { connectConsole } from '../attach.js';
import { ConsoleDecoder, consoleFrame, inputFrames, resizeFrame } from '../../../shared/console-frames.js';
import type { DockerBackend } from './backend.js';
import { badRequest } from './errors.js';
import { queryBool, queryInt } from './http-io.js';
import type { Exchange } from './router.js';
import { hijackSink, responseSink, type OutputSink } from './streams.js';

export class Attachments {
  /** Attachers waiting for a created container to start, by container id. */
  private readonly waiting = new Map<string, Array<() => void>>();
  /** Open consoles by container id (a resize goes through one). */
  private readonly open = new Map<string, Set<Socket>>();

  constructor(private readonly backend: DockerBackend) {}

  /** Whether a start should hold output for attachers (and lets them go once it has started). */
  takeWaiting(id: string): Array<() => void> {
    const list = this.waiting.get(id) ?? [];
    this.waiting.delete(id);
    return list;
  }

  async attach(ex: Exchange): Promise<void> {
    const detail = await this.backend.call('containers.inspect', { container: ex.params.id ?? '' });
    const want = { stdin: queryBool(ex.query, 'stdin'), stdout: queryBool(ex.query, 'stdout'), stderr: queryBool(ex.query, 'stderr') };
    if (queryBool(ex.query, 'logs')) throw badRequest('attach with logs=1 is not supported by Onggi (use /containers/{id}/logs)');
    const tty = detail.tty ?? false;
    if (ex.upgrade) await ex.body();
    const sink = ex.upgrade ? hijackSink(ex.upgrade.socket, tty, ex.upgrade.pendingInput) : responseSink(ex.res, tty);
    if (detail.state === 'created') {
      await new Promise<void>((resolve) => {
        const list = this.waiting.get(detail.id) ?? [];
        list.push(resolve);
        this.waiting.set(detail.id, list);
        sink.onClose(() => {
          this.waiting.set(
            detail.id,
            (this.waiting.get(detail.id) ?? []).filter((r) => r !== resolve),
          );
          resolve();
        });
      });
      if (sink.closed) return;
    }
    await this.relay(detail.id, sink, want);
  }

  private async relay(id: string, sink: OutputSink, want: { stdin: boolean; stdout: boolean; stderr: boolean }): Promise<void> {
    let console: Socket;
    let spec;
    try {
      spec = await this.backend.call('containers.attachSpec', { container: id });
      console = await connectConsole(spec.socket);
    } catch {
      // It ended before we got there: nothing more to show.
      sink.end();
      return;
    }
    const sockets = this.open.get(id) ?? new Set<Socket>();
    sockets.add(console);
    this.open.set(id, sockets);
    const decoder = new ConsoleDecoder();
    const done = (): void => {
      sockets.delete(console);
      console.destroy();
      sink.end();
    };
    console.on('data', (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk)) {
          if (frame.type === 'exit') return done();
          // 's' (a holder's start acknowledgement) never comes from a container's console.
          if (frame.type === 'start') continue;
          if (want[frame.type]) sink.write(frame.type, frame.data);
        }
      } catch {
        done();
      }
    });
    console.once('close', done);
    console.on('error', () => undefined);
    sink.onClose(() => {
      sockets.delete(console);
      console.destroy();
    });
    const input = sink.input;
    if (want.stdin && spec.stdinOpen && input) {
      const send = (chunk: Buffer): void => {
        for (const frame of inputFrames(chunk)) console.write(frame);
      };
      if (sink.pendingInput.length) send(sink.pendingInput);
      input.on('data', send);
      input.resume();
      // The client closing its write side is the end of the container's stdin (a pty has only ^D).
      input.once('end', () => {
        if (!spec.tty && !console.destroyed) console.write(consoleFrame('c'));
      });
    }
  }

  async resize(ex: Exchange): Promise<void> {
    const rows = queryInt(ex.query, 'h');
    const cols = queryInt(ex.query, 'w');
    if (!rows || !cols || rows < 1 || cols < 1 || rows > 0xffff || cols > 0xffff) throw badRequest('h and w must be positive sizes');
    const detail = await this.backend.call('containers.inspect', { container: ex.params.id ?? '' });
    if (!detail.tty) throw badRequest(`container ${detail.name} has no TTY to resize`);
    const open = [...(this.open.get(detail.id) ?? [])];
    if (open.length) for (const socket of open) socket.write(resizeFrame(rows, cols));
    else {
      const spec = await this.backend.call('containers.attachSpec', { container: detail.id });
      const socket = await connectConsole(spec.socket);
      socket.end(resizeFrame(rows, cols));
    }
    ex.res.writeHead(200).end();
  }
}
