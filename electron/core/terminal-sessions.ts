// Terminal sessions the window drives by id (terminals.* in the host API). Each is a Terminal from
// the machine (a local PTY or an SSH channel with a PTY); its output goes out as terminal.output
// events and into a bounded backlog, so a window that left the view or lost its link can attach
// again and replay what it missed. Sessions belong to the host core, not to one connection.
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { OnggiError } from '../../shared/errors.js';
import type { HostEvent } from '../../shared/host-api.js';
import { ErrorCode } from '../../shared/jsonrpc.js';
import { TERMINAL_BACKLOG_MAX, TERMINAL_OUTPUT_MAX, type TerminalOpenParams, type TerminalSession } from '../../shared/terminals.js';
import type { Terminal, TerminalOptions } from './machines/machine.js';

/** The shell a container exec runs when the window names none. */
export const DEFAULT_CONTAINER_COMMAND: readonly string[] = ['/bin/sh'];
/** Most sessions at once; one more is refused with a message rather than exhausting PTYs. */
export const MAX_SESSIONS = 64;

interface Session {
  info: TerminalSession;
  terminal: Terminal;
  backlog: string;
}

export interface TerminalSessions {
  open(params: TerminalOpenParams): Promise<TerminalSession>;
  input(id: string, data: string): void;
  resize(id: string, cols: number, rows: number): void;
  close(id: string): void;
  list(): Array<TerminalSession & { backlog: string }>;
  closeAll(): void;
}

export function createTerminalSessions(
  openTerminal: (machine: string, options: TerminalOptions) => Promise<Terminal>,
  emit: (event: HostEvent) => void,
): TerminalSessions {
  const sessions = new Map<string, Session>();

  const named = (id: string): Session => {
    const session = sessions.get(id);
    if (!session) throw new OnggiError(ErrorCode.NotFound, 'not_found', `No terminal session ${id}: it was closed, or Onggi restarted.`);
    return session;
  };

  const output = (session: Session, text: string): void => {
    if (!text) return;
    session.backlog = (session.backlog + text).slice(-TERMINAL_BACKLOG_MAX);
    for (let at = 0; at < text.length; at += TERMINAL_OUTPUT_MAX) {
      emit({ type: 'terminal.output', id: session.info.id, data: text.slice(at, at + TERMINAL_OUTPUT_MAX) });
    }
  };

  return {
    async open(params) {
      if (sessions.size >= MAX_SESSIONS) {
        throw new OnggiError(ErrorCode.Conflict, 'conflict', `Too many terminals are open (${MAX_SESSIONS}). Close one and try again.`);
      }
      if (params.attach && params.container === undefined)
        throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'attach needs a container', 'params.attach');
      const command = params.attach
        ? undefined
        : (params.command ?? (params.container !== undefined ? DEFAULT_CONTAINER_COMMAND : undefined));
      const terminal = await openTerminal(params.machine, {
        ...(params.container !== undefined ? { container: params.container } : {}),
        ...(command ? { command } : {}),
        ...(params.attach ? { attach: {} } : {}),
        tty: true,
        keep: true,
        cols: params.cols,
        rows: params.rows,
      });
      const id = `term-${randomBytes(9).toString('hex')}`;
      const info: TerminalSession = {
        id,
        machine: params.machine,
        ...(params.container !== undefined ? { container: params.container } : {}),
        command: [...(command ?? [])],
        ...(params.attach ? { attach: true } : {}),
      };
      const session: Session = { info, terminal, backlog: '' };
      sessions.set(id, session);
      const decoder = new StringDecoder('utf8');
      terminal.stream.on('data', (chunk: Buffer | string) => output(session, typeof chunk === 'string' ? chunk : decoder.write(chunk)));
      terminal.stream.on('error', () => undefined);
      terminal.stderr?.on('data', (chunk: Buffer) => output(session, chunk.toString('utf8')));
      void terminal.exit.then((exit) => {
        output(session, decoder.end());
        info.exit = { code: exit.code, ...(exit.signal ? { signal: exit.signal } : {}) };
        emit({ type: 'terminal.exit', id, code: exit.code, ...(exit.signal ? { signal: exit.signal } : {}) });
      });
      return info;
    },
    input(id, data) {
      const session = named(id);
      if (session.info.exit) throw new OnggiError(ErrorCode.Conflict, 'conflict', 'This terminal session has ended; open a new one.');
      session.terminal.stream.write(data);
    },
    resize(id, cols, rows) {
      const session = named(id);
      if (!session.info.exit) session.terminal.resize(cols, rows);
    },
    close(id) {
      const session = named(id);
      sessions.delete(id);
      session.terminal.close();
    },
    list: () => [...sessions.values()].map((session) => ({ ...session.info, backlog: session.backlog })),
    closeAll() {
      for (const session of sessions.values()) session.terminal.close();
      sessions.clear();
    },
  };
}
