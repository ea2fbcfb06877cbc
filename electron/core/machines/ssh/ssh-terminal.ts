// Terminals over SSH: an exec channel (a command, optionally with a PTY) or a shell channel (the
// login shell, with a PTY), presented as a Terminal: the channel is the stream, resize is
// window-change, the exit status comes from the channel's exit request.
import { constants as osConstants } from 'node:os';
import type { ClientChannel, PseudoTtyOptions } from 'ssh2';
import type { Terminal, TerminalExit, TerminalOptions } from '../machine.js';
import { channelExit, type SshConnection } from './ssh-connection.js';
import { shellCommand } from './quote.js';

const DEFAULT_COLS = 80;
const DEFAULT_ROWS = 24;

export function ptyOptions(options: Pick<TerminalOptions, 'cols' | 'rows' | 'term'>): PseudoTtyOptions {
  return {
    cols: options.cols ?? DEFAULT_COLS,
    rows: options.rows ?? DEFAULT_ROWS,
    height: 0,
    width: 0,
    term: options.term ?? 'xterm-256color',
  };
}

export function channelTerminal(channel: ClientChannel, tty: boolean): Terminal {
  const exit = channelExit(channel).then((status): TerminalExit => {
    if (status.code !== null || !status.signal) return { code: status.code };
    const number = osConstants.signals[`SIG${status.signal}` as NodeJS.Signals];
    return { code: number === undefined ? null : 128 + number, signal: status.signal };
  });
  return {
    stream: channel,
    stderr: tty ? undefined : channel.stderr,
    resize(cols, rows) {
      if (tty && cols > 0 && rows > 0) channel.setWindow(rows, cols, 0, 0);
    },
    exit,
    close() {
      channel.close();
    },
  };
}

/** A terminal on the machine itself (no container), as the login user. */
export async function openMachineTerminal(connection: SshConnection, options: TerminalOptions): Promise<Terminal> {
  if (!options.command || options.command.length === 0) {
    const channel = await connection.shell(options.tty ? ptyOptions(options) : false);
    return channelTerminal(channel, options.tty);
  }
  const channel = await connection.execChannel(shellCommand(options.command), options.tty ? { pty: ptyOptions(options) } : {});
  return channelTerminal(channel, options.tty);
}

/** A terminal running a prepared command line (e.g. `agent exec` into a container). */
export async function openCommandTerminal(connection: SshConnection, commandLine: string, options: TerminalOptions): Promise<Terminal> {
  const channel = await connection.execChannel(commandLine, options.tty ? { pty: ptyOptions(options) } : {});
  return channelTerminal(channel, options.tty);
}
