// Terminals on the local machine: a process, in a PTY (@lydell/node-pty, prebuilt, N-API) when a
// tty is asked for, else with plain pipes. Presented as a Terminal like an SSH channel is.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type * as NodePty from '@lydell/node-pty';
import type { Terminal, TerminalExit, TerminalOptions } from '../machine.js';

export interface LocalCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

let nodePty: typeof NodePty | undefined;
/** Required at run time, not bundled: node-pty loads a native addon from its own package dir. */
function pty(): typeof NodePty {
  nodePty ??= createRequire(__filename)('@lydell/node-pty') as typeof NodePty;
  return nodePty;
}

export function openLocalTerminal(spec: LocalCommand, options: TerminalOptions): Terminal {
  const env = { ...process.env, ...spec.env };
  if (options.tty) {
    const child = pty().spawn(spec.command, spec.args, {
      name: options.term ?? 'xterm-256color',
      cols: options.cols ?? 80,
      rows: options.rows ?? 24,
      env: { ...env, TERM: options.term ?? 'xterm-256color' },
    });
    const decoder = new StringDecoder('utf8');
    let ended = false;
    const stream = new Duplex({
      read() {
        child.resume();
      },
      write(chunk: Buffer | string, _encoding, callback) {
        const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
        if (text && !ended) child.write(text);
        callback();
      },
      final(callback) {
        callback();
      },
      destroy(error, callback) {
        if (!ended) child.kill('SIGHUP');
        callback(error);
      },
    });
    child.onData((data) => {
      if (!stream.push(Buffer.from(data, 'utf8'))) child.pause();
    });
    const exit = new Promise<TerminalExit>((resolve) => {
      child.onExit(({ exitCode, signal }) => {
        ended = true;
        stream.push(null);
        const name = signal ? Object.entries(osConstants.signals).find(([, number]) => number === signal)?.[0] : undefined;
        resolve(signal ? { code: 128 + signal, ...(name ? { signal: name.replace(/^SIG/, '') } : {}) } : { code: exitCode });
      });
    });
    return {
      stream,
      stderr: undefined,
      resize(cols, rows) {
        if (!ended && cols > 0 && rows > 0) child.resize(cols, rows);
      },
      exit,
      close() {
        if (!ended) child.kill('SIGHUP');
      },
    };
  }
  const child = spawn(spec.command, spec.args, { env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
  const stream = Duplex.from({ writable: child.stdin, readable: child.stdout });
  const exit = new Promise<TerminalExit>((resolve) => {
    child.once('error', () => resolve({ code: 126 }));
    child.once('close', (code, signal) => {
      if (signal) resolve({ code: 128 + (osConstants.signals[signal] ?? 0), signal: signal.replace(/^SIG/, '') });
      else resolve({ code });
    });
  });
  return {
    stream,
    stderr: child.stderr,
    resize: () => undefined,
    exit,
    close() {
      child.kill('SIGHUP');
    },
  };
}
