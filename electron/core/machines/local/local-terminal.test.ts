// Local terminals: a real PTY (node-pty) that resizes, and plain pipes without a tty.
import { describe, expect, it } from 'vitest';
import { openLocalTerminal } from './local-terminal.js';

describe('local terminals', () => {
  it('runs a command in a PTY of the given size, resizes it, and reports the exit code', async () => {
    const terminal = openLocalTerminal(
      { command: '/bin/sh', args: ['-c', 'stty size; read line; stty size; exit 5'], env: {} },
      { tty: true, cols: 90, rows: 20 },
    );
    let output = '';
    terminal.stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 10_000;
    while (!output.includes('20 90') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    terminal.resize(120, 40);
    terminal.stream.write('go\r');
    expect(await terminal.exit).toEqual({ code: 5 });
    expect(output).toMatch(/20 90[^]*40 120/);
    expect(terminal.stderr).toBeUndefined();
  });

  it('without a tty: stdin, stdout and stderr are separate pipes', async () => {
    const terminal = openLocalTerminal({ command: '/bin/sh', args: ['-c', 'cat; echo oops >&2; exit 2'], env: { X: '1' } }, { tty: false });
    let out = '';
    let err = '';
    terminal.stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
    terminal.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    terminal.stream.end('piped in\n');
    expect(await terminal.exit).toEqual({ code: 2 });
    expect(out).toBe('piped in\n');
    expect(err).toBe('oops\n');
  });
});
