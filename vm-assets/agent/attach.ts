// `agent attach CONTAINER`: this process's stdio joined to a running container's own console
// (its pty with `run -t`, its stdin pipe and output with `run -i`), through the socket its
// supervisor serves. Like `agent exec`, it runs in whatever terminal the front end opened on the
// machine (a local PTY, an SSH channel's PTY, the window's terminal), so one path serves all.
// With --start the container is started first, its output held until we are connected
// (`start -a`, `run -it`). Ends with the container's exit code, or 0 when the detach keys were
// typed (the container goes on running).
import { createConnection, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { AGENT_PROTOCOL_VERSION, agentMethods } from '../../shared/agent-rpc.js';
import type { ContainerConsole } from '../../shared/containers.js';
import { DetachWatcher, DetachKeys, DEFAULT_DETACH_KEYS } from '../../shared/detach-keys.js';
import { parseOrThrow } from '../../shared/errors.js';
import { RpcClient } from '../../shared/rpc-client.js';
import { ConsoleDecoder, consoleFrame, inputFrames, resizeFrame } from '../../shared/console-frames.js';

export interface AttachOptions {
  start?: boolean;
  /** Docker's spelling (`ctrl-p,ctrl-q`, the default). */
  detachKeys?: string;
}

async function connectRpc(socketPath: string): Promise<{ rpc: RpcClient; socket: Socket }> {
  const socket = createConnection(socketPath);
  const rpc = new RpcClient({ send: (frame) => socket.write(frame) });
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => rpc.receive(chunk));
  socket.on('error', (error) => rpc.close(error));
  await rpc.call('system.hello', { protocol: AGENT_PROTOCOL_VERSION, client: 'onggi-agent attach' }, agentMethods['system.hello'].result);
  return { rpc, socket };
}

/** Connects to the console by its name inside its directory: a state directory can be deeper than a socket path may be long. */
export function connectConsole(path: string): Promise<Socket> {
  const cwd = process.cwd();
  process.chdir(dirname(path));
  try {
    const socket = createConnection(`./${basename(path)}`);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
  } finally {
    process.chdir(cwd);
  }
}

export async function attachToContainer(socketPath: string, container: string, options: AttachOptions = {}): Promise<number> {
  const detachKeys = parseOrThrow(DetachKeys, options.detachKeys ?? DEFAULT_DETACH_KEYS, 'detachKeys');
  const { rpc, socket: rpcSocket } = await connectRpc(socketPath);
  let console: ContainerConsole;
  let socket: Socket;
  try {
    if (options.start) await rpc.call('containers.start', { container, waitForAttach: true }, agentMethods['containers.start'].result);
    console = await rpc.call('containers.attachSpec', { container }, agentMethods['containers.attachSpec'].result);
    socket = await connectConsole(console.socket).catch((error: NodeJS.ErrnoException) => {
      throw new Error(`container ${container} is not running (its console: ${error.code ?? error.message})`);
    });
  } catch (error) {
    rpcSocket.destroy();
    throw error;
  }
  return relay(socket, console, detachKeys, (signal) => {
    // --sig-proxy: a signal this process gets (^C in a cooked terminal) goes to the container.
    rpc.call('containers.kill', { container, signal }, agentMethods['containers.kill'].result).catch((error: unknown) => {
      process.stderr.write(`onggi-agent attach: ${signal} not passed on: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  }).finally(() => rpcSocket.destroy());
}

function relay(
  socket: Socket,
  console: ContainerConsole,
  detachKeys: Uint8Array,
  proxySignal: (signal: NodeJS.Signals) => void,
): Promise<number> {
  const stdin = process.stdin;
  // The container's pty does the echo and line editing: ours must pass keys through untouched.
  // Without open stdin (`run -t`) keys go nowhere, so ^C stays a signal here, passed on (as Docker).
  const raw = console.tty && console.stdinOpen && stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  const sendSize = (): void => {
    if (console.tty && process.stdout.isTTY) socket.write(resizeFrame(process.stdout.rows, process.stdout.columns));
  };
  sendSize();
  process.stdout.on('resize', sendSize);
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.on(signal, proxySignal);
  const watcher = new DetachWatcher(detachKeys);
  const decoder = new ConsoleDecoder();

  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onInput);
      process.stdout.off('resize', sendSize);
      for (const signal of signals) process.off(signal, proxySignal);
      socket.destroy();
      resolve(code);
    };
    const onInput = (chunk: Buffer): void => {
      // Without stdin open, Docker still reads the detach keys (and drops the rest).
      const { pass, detach } = watcher.push(chunk);
      if (console.stdinOpen) for (const frame of inputFrames(pass)) socket.write(frame);
      if (detach) finish(0);
    };
    stdin.on('data', onInput);
    stdin.once('end', () => {
      // EOF reaches a `run -i` process as the end of its stdin; a pty has none but ^D.
      if (console.stdinOpen && !console.tty && !done) socket.write(consoleFrame('c'));
    });
    stdin.resume();
    socket.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        process.stderr.write(`onggi-agent attach: ${(error as Error).message}\n`);
        return finish(1);
      }
      for (const frame of frames) {
        if (frame.type === 'exit') return finish(frame.code);
        if (frame.type === 'start') continue; // only a held terminal sends it
        (frame.type === 'stdout' ? process.stdout : process.stderr).write(frame.data);
      }
    });
    socket.once('close', () => {
      if (!done) process.stderr.write('onggi-agent attach: the console closed before the container ended\n');
      finish(1);
    });
    // A reset connection also closes it: the close handler above ends the attach.
    socket.on('error', () => undefined);
  });
}
