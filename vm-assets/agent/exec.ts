// `agent exec CONTAINER -- CMD...`: asks the daemon how to enter the container (its init pid,
// cgroup, user and security settings), then runs the init helper's `exec` with this process's
// stdio, so a terminal (local PTY or SSH channel) is attached straight to the command. With
// `--tty` the helper gives the command a pty of the container's own and relays between the two.
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { constants as osConstants } from 'node:os';
import { AGENT_PROTOCOL_VERSION, agentMethods } from '../../shared/agent-rpc.js';
import { RpcClient } from '../../shared/rpc-client.js';
import { ttyArgs, type ExecTerminal } from './runtime/helper-protocol.js';

export async function execInContainer(
  socketPath: string,
  helper: string,
  container: string,
  command: string[],
  terminal: ExecTerminal = {},
): Promise<number> {
  // Checked before the daemon is asked anything; added to its answer, which is policy only.
  const terminalArgs = ttyArgs(terminal);
  const socket = createConnection(socketPath);
  const rpc = new RpcClient({ send: (frame) => socket.write(frame) });
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => rpc.receive(chunk));
  socket.on('error', (error) => rpc.close(error));
  let helperArgs: string[];
  try {
    await rpc.call('system.hello', { protocol: AGENT_PROTOCOL_VERSION, client: 'onggi-agent exec' }, agentMethods['system.hello'].result);
    ({ helperArgs } = await rpc.call('containers.execSpec', { container }, agentMethods['containers.execSpec'].result));
  } finally {
    socket.destroy();
  }
  const child = spawn(helper, [...helperArgs, ...terminalArgs, '--', ...command], { stdio: 'inherit' });
  // With --tty the helper relays to a pty inside the container, whose line discipline echoes and
  // cooks input. The terminal we were started on (the window's PTY, an SSH session's PTY) must
  // then pass keys through untouched, or every key is echoed twice and ^C never reaches the
  // container. The CLI does this for the user's terminal too; doing it again is harmless.
  const raw = terminal.tty === true && process.stdin.isTTY === true;
  if (raw) process.stdin.setRawMode(true);
  const restore = (): void => {
    if (raw) process.stdin.setRawMode(false);
  };
  process.once('exit', restore);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => {
    child.once('error', (error) => {
      restore();
      process.stderr.write(`onggi-agent exec: ${error.message}\n`);
      resolve(126);
    });
    child.once('exit', (code, signal) => {
      restore();
      resolve(code ?? 128 + (signal ? signalNumber(signal) : 0));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return osConstants.signals[signal] ?? 0;
}
