// Terminal sessions that outlive their link (DESIGN §6: a session survives a dropped link and
// replays what it missed). Over SSH a terminal used to be the channel's own PTY: when the link
// dropped, sshd hung up the shell. Now the host opens the channel on `agent hold ID -- COMMAND`:
// the first time, `hold` starts a holder for the session, a detached process that keeps the
// command on a pty of its own (util-linux `script`, present wherever the agent runs: no native
// module) and the session's last HOLD_RING_MAX bytes of output; then, and on every reattach,
// `hold` relays between the channel and the holder's unix socket. The host counts the bytes it
// has received and reattaches from that offset, so the replay neither repeats nor misses a byte
// (unless more than the ring was printed while it was away: the 's' frame then says where the
// replay begins).
//
// Frames (shared/console-frames.ts): host -> holder 's' (replay from this offset; first), 'i'
// input, 'r' resize "ROWSxCOLS", 'k' hang up; holder -> host 's' ("OUTPUT:INPUT": the replay
// begins here, and this much input has arrived), 'o' output, 'x' the command's exit code (last).
import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSOLE_FRAME_MAX, FrameSplitter, consoleFrame } from '../../shared/console-frames.js';
import { TerminalId } from '../../shared/terminals.js';

/** Output kept per session for a reattach (as much as the host keeps for the window). */
export const HOLD_RING_MAX = 256 * 1024;
/** A session nobody reattached to for this long is hung up (the app that opened it is gone). */
export const DETACHED_LIMIT_MS = 24 * 3600_000;
/** How long a session whose command ended while detached waits to tell its exit. */
const EXITED_LINGER_MS = 10 * 60_000;
/** `hold --reattach` found no session: it ended, or the machine restarted. */
export const HOLD_GONE_EXIT = 3;

/** This user's folder of session sockets: made 0700, and refused unless it is ours and private. */
export function holdDir(): string {
  const uid = process.getuid?.() ?? 0;
  const dir = join(tmpdir(), `onggi-terminals-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) {
    throw new Error(`${dir} is not a private directory of this user: terminal sessions cannot be kept there`);
  }
  return dir;
}

function socketPath(id: string): string {
  if (!TerminalId.safeParse(id).success) throw new Error(`bad terminal session id ${JSON.stringify(id)}`);
  return join(holdDir(), `${id}.sock`);
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

export interface HoldOptions {
  from: number;
  /** Only join a session that exists (never start the command again). */
  reattach: boolean;
  rows?: number;
  cols?: number;
  command: string[];
}

/** `agent hold`: joins this process's stdio (the SSH channel) to the session, starting it when needed. */
export async function hold(id: string, options: HoldOptions): Promise<number> {
  const path = socketPath(id);
  // No socket, or a stale one: the session is started (or refused with --reattach) below.
  let socket = await connect(path).catch(() => undefined);
  if (!socket) {
    if (options.reattach) {
      process.stderr.write(`onggi-agent hold: no terminal session ${id} on this machine (it ended, or the machine restarted)\n`);
      return HOLD_GONE_EXIT;
    }
    await startHolder(id, options);
    socket = await connect(path);
  }
  return relay(socket, options.from);
}

async function startHolder(id: string, options: HoldOptions): Promise<void> {
  const size = options.rows && options.cols ? ['--rows', String(options.rows), '--cols', String(options.cols)] : [];
  const child = spawn(process.execPath, [process.argv[1] ?? '', 'holder', ...size, id, '--', ...options.command], {
    detached: true,
    // Not our stderr: that is the channel, gone with the link while the holder lives on.
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  // The holder says "ready" once it listens; its stdout is then closed.
  const ready = await new Promise<boolean>((resolve) => {
    let said = '';
    child.stdout?.on('data', (chunk: Buffer) => (said += chunk.toString()));
    child.stdout?.once('close', () => resolve(said.startsWith('ready')));
    child.once('error', () => resolve(false));
  });
  child.unref();
  if (!ready) throw new Error(`the holder of terminal session ${id} did not start`);
}

function relay(socket: Socket, from: number): Promise<number> {
  return new Promise((resolve) => {
    socket.write(consoleFrame('s', Buffer.from(String(from))));
    process.stdin.pipe(socket);
    socket.pipe(process.stdout);
    // The channel went away (the link dropped, or the host detached): the session goes on.
    process.stdin.once('end', () => socket.end());
    socket.once('close', () => resolve(0));
    socket.on('error', () => undefined);
    process.stdout.on('error', () => socket.destroy());
  });
}

/** The constant line `script` runs: our argv arrives in the environment, never parsed by a shell. */
function scriptLine(count: number): string {
  const args = Array.from({ length: count }, (_, i) => `"$ONGGI_ARG_${i}"`).join(' ');
  const names = Array.from({ length: count }, (_, i) => `ONGGI_ARG_${i}`).join(' ');
  return `set -- ${args}; unset ${names}; if [ -n "$ONGGI_SHELL" ]; then SHELL=$ONGGI_SHELL; export SHELL; else unset SHELL; fi; unset ONGGI_SHELL; exec "$@"`;
}

/** `agent holder`: the detached keeper of one session (started by `hold`). */
export async function runHolder(id: string, command: string[], size: { rows?: number; cols?: number }): Promise<number> {
  const path = socketPath(id);
  const server = createServer();
  try {
    unlinkSync(path); // a socket left by a holder that died; a live one answered `hold` already
  } catch {
    // none
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  // However the holder ends, its socket goes with it (a stale one would only be replaced later).
  process.once('exit', () => {
    try {
      unlinkSync(path);
    } catch {
      // gone already
    }
  });
  const argv = command.length > 0 ? command : [process.env.SHELL || '/bin/sh', '-l'];
  const env: NodeJS.ProcessEnv = { ...process.env, SHELL: '/bin/sh', ONGGI_SHELL: process.env.SHELL ?? '' };
  argv.forEach((arg, i) => (env[`ONGGI_ARG_${i}`] = arg));
  const child = spawn('script', ['-qfe', '-c', scriptLine(argv.length), '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  process.stdout.end('ready\n');

  let ring = Buffer.alloc(0);
  let total = 0;
  /** Input bytes taken: a reattaching host sends again only what never arrived. */
  let inputTotal = 0;
  let exitCode: number | undefined;
  let rows = size.rows;
  let cols = size.cols;
  const clients = new Set<Socket>();
  let detachedTimer: NodeJS.Timeout | undefined;

  const send = (socket: Socket, data: Buffer): void => {
    for (let at = 0; at < data.length; at += CONSOLE_FRAME_MAX) socket.write(consoleFrame('o', data.subarray(at, at + CONSOLE_FRAME_MAX)));
  };
  const output = (chunk: Buffer): void => {
    total += chunk.length;
    ring = Buffer.concat([ring, chunk]);
    if (ring.length > HOLD_RING_MAX) ring = ring.subarray(ring.length - HOLD_RING_MAX);
    for (const client of clients) send(client, chunk);
  };
  child.stdout.on('data', output);
  child.stderr.on('data', output);
  child.stdin.on('error', () => undefined);

  const finish = (): void => {
    server.close();
    try {
      unlinkSync(path);
    } catch {
      // gone already
    }
    process.exit(0);
  };
  const detachedFor = (ms: number, then: () => void): void => {
    clearTimeout(detachedTimer);
    detachedTimer = clients.size === 0 ? setTimeout(then, ms) : undefined;
  };
  const hangUp = (): void => {
    const shell = shellPid(child);
    try {
      if (shell !== undefined) process.kill(shell, 'SIGHUP');
      else child.kill('SIGHUP');
    } catch {
      // ended already
    }
  };
  const applySize = (): void => {
    const tty = ptyOf(child);
    if (tty && rows && cols)
      spawn('stty', ['-F', tty, 'rows', String(rows), 'cols', String(cols)], { stdio: 'ignore' }).on('error', () => undefined);
  };

  const ended = (code: number): void => {
    if (exitCode !== undefined) return;
    exitCode = code;
    for (const client of clients) client.end(consoleFrame('x', Buffer.from(String(exitCode))));
    if (clients.size > 0) setImmediate(finish);
    else detachedFor(EXITED_LINGER_MS, finish);
  };
  child.once('exit', (code, signal) => ended(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0)));
  // No `script` on this machine (util-linux): the session says so and ends as a missing command does.
  child.once('error', (error) => {
    output(Buffer.from(`onggi-agent holder: ${error.message} (terminal sessions need util-linux's script)\r\n`));
    ended(127);
  });
  // The pty exists once `script` forked its child: size it then (it starts at 0x0), and only
  // then pass input on, so the first command already sees the size.
  let sized = false;
  const early: Buffer[] = [];
  void waitForPty(child).then(() => {
    applySize();
    sized = true;
    for (const input of early.splice(0)) child.stdin.write(input);
  });

  server.on('connection', (socket) => {
    const splitter = new FrameSplitter('sirkc');
    let joined = false;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clients.delete(socket);
      if (exitCode === undefined) detachedFor(DETACHED_LIMIT_MS, hangUp);
    });
    socket.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = splitter.push(chunk);
      } catch {
        return socket.destroy();
      }
      for (const { type, payload } of frames) {
        if (type === 's' && !joined) {
          joined = true;
          const from = Number(payload.toString('latin1'));
          const ringStart = total - ring.length;
          const start = Number.isSafeInteger(from) && from >= ringStart && from <= total ? from : ringStart;
          socket.write(consoleFrame('s', Buffer.from(`${start}:${inputTotal}`)));
          send(socket, ring.subarray(start - ringStart));
          if (exitCode !== undefined) {
            socket.end(consoleFrame('x', Buffer.from(String(exitCode))));
            setImmediate(finish);
            return;
          }
          clients.add(socket);
          detachedFor(0, () => undefined);
        } else if (!joined) {
          return socket.destroy();
        } else if (type === 'i') {
          inputTotal += payload.length;
          if (sized) child.stdin.write(payload);
          else early.push(payload);
        } else if (type === 'r') {
          const match = /^(\d{1,4})x(\d{1,4})$/.exec(payload.toString('latin1'));
          if (match) {
            rows = Number(match[1]);
            cols = Number(match[2]);
            applySize();
          }
        } else if (type === 'k') {
          hangUp();
        }
      }
    });
  });
  detachedFor(DETACHED_LIMIT_MS, hangUp);
  // Ended from outside (the machine shutting down): the command is hung up with it.
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    process.once(signal, () => {
      hangUp();
      process.exit(128 + (osConstants.signals[signal] ?? 0));
    });
  }
  return new Promise<number>(() => undefined);
}

/** The command `script` runs on its pty (the session leader there). */
function shellPid(child: ChildProcess): number | undefined {
  if (child.pid === undefined) return undefined;
  try {
    const first = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

function ptyOf(child: ChildProcess): string | undefined {
  const shell = shellPid(child);
  if (shell === undefined) return undefined;
  try {
    const tty = readlinkSync(`/proc/${shell}/fd/0`);
    return /^\/dev\/pts\/\d+$/.test(tty) ? tty : undefined;
  } catch {
    return undefined;
  }
}

async function waitForPty(child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    if (ptyOf(child)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
