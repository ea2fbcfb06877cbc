import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../shared/host-api.js';
import { TERMINAL_OUTPUT_MAX } from '../../shared/terminals.js';
import type { Terminal, TerminalExit, TerminalOptions } from './machines/machine.js';
import { createTerminalSessions } from './terminal-sessions.js';

function fakeTerminal() {
  const written: string[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk.toString());
      callback();
    },
  });
  const resized: Array<[number, number]> = [];
  let finish: (exit: TerminalExit) => void = () => undefined;
  const exit = new Promise<TerminalExit>((resolve) => (finish = resolve));
  const terminal: Terminal = {
    stream,
    stderr: undefined,
    resize: (cols, rows) => resized.push([cols, rows]),
    exit,
    close: () => finish({ code: 129, signal: 'HUP' }),
  };
  return { terminal, stream, written, resized, finish };
}

/** Sessions whose every terminal is one fake, with the options each open asked for and the events sent. */
function sessionsOnFake() {
  const fake = fakeTerminal();
  const asked: TerminalOptions[] = [];
  const events: HostEvent[] = [];
  const sessions = createTerminalSessions(
    async (_machine, options) => {
      asked.push(options);
      return fake.terminal;
    },
    (event) => events.push(event),
  );
  return { fake, asked, events, sessions };
}

describe('terminal sessions', () => {
  it('opens with the default container shell, relays output in bounded events, keeps a backlog, ends with an exit event', async () => {
    const { fake, asked, events, sessions } = sessionsOnFake();
    const session = await sessions.open({ machine: 'local', container: 'web', cols: 100, rows: 30 });
    expect(asked[0]).toEqual({ container: 'web', command: ['/bin/sh'], tty: true, keep: true, cols: 100, rows: 30 });
    fake.stream.push(Buffer.from('héllo '.repeat(20_000)));
    await new Promise((resolve) => setImmediate(resolve));
    const outputs = events.filter((event) => event.type === 'terminal.output');
    expect(outputs.length).toBeGreaterThan(1);
    for (const event of outputs) if (event.type === 'terminal.output') expect(event.data.length).toBeLessThanOrEqual(TERMINAL_OUTPUT_MAX);
    expect(sessions.list()[0]?.backlog.endsWith('héllo ')).toBe(true);
    sessions.input(session.id, 'hostname\r');
    sessions.resize(session.id, 120, 40);
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.written).toEqual(['hostname\r']);
    expect(fake.resized).toEqual([[120, 40]]);
    fake.finish({ code: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(events.at(-1)).toEqual({ type: 'terminal.exit', id: session.id, code: 0 });
    expect(() => sessions.input(session.id, 'x')).toThrow(/ended/);
    sessions.close(session.id);
    expect(() => sessions.resize(session.id, 80, 24)).toThrow(/No terminal session/);
  });

  it("attaches to the container's own console: no command, a tty, and refused without a container", async () => {
    const { asked, sessions } = sessionsOnFake();
    const session = await sessions.open({ machine: 'local', container: 'web', attach: true, cols: 100, rows: 30 });
    expect(asked[0]).toEqual({ container: 'web', attach: {}, tty: true, keep: true, cols: 100, rows: 30 });
    expect(session).toMatchObject({ container: 'web', command: [], attach: true });
    await expect(sessions.open({ machine: 'local', attach: true, cols: 100, rows: 30 })).rejects.toThrow(/attach needs a container/);
  });
});
