// The agent's entry: `daemon` serves the RPC (reached over SSH through the init helper's `dial`),
// `version` prints what this bundle is. Runs as root on the machine (local host, Vagrant VM, SSH host).
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { readIdentity } from './daemon/identity.js';
import { startDaemon } from './daemon/daemon.js';
import { StateDirBusyError } from './daemon/state-lock.js';
import { execInContainer } from './exec.js';
import { attachToContainer } from './attach.js';
import { initHelperPath } from './daemon/services.js';
import { parseTtySize } from './runtime/helper-protocol.js';
import { hold, runHolder } from './terminal-hold.js';

const DEFAULT_SOCKET = '/run/onggi/agent.sock';
const DEFAULT_STATE = '/var/lib/onggi';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      socket: { type: 'string', default: DEFAULT_SOCKET },
      state: { type: 'string', default: DEFAULT_STATE },
      'ready-fd': { type: 'string' },
      // exec: a pty of the container's own for the command, and its size when stdin is no terminal
      tty: { type: 'boolean', default: false },
      'tty-size': { type: 'string' },
      // attach: start the container first (`start -a`), and the keys that detach
      start: { type: 'boolean', default: false },
      'detach-keys': { type: 'string' },
      // hold: the byte offset to replay from, join only (never start), the pty's size
      from: { type: 'string', default: '0' },
      reattach: { type: 'boolean', default: false },
      rows: { type: 'string' },
      cols: { type: 'string' },
    },
    strict: true,
  });
  const bundleDir = dirname(process.argv[1] ?? '.');
  const identity = readIdentity(bundleDir);
  switch (command) {
    case 'daemon': {
      process.stdout.on('error', () => undefined); // the launcher may have gone away
      const readyFd = values['ready-fd'] === undefined ? undefined : Number(values['ready-fd']);
      const daemon = await startDaemon({ socketPath: values.socket, stateDir: values.state, identity, readyFd, bundleDir });
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          void daemon.stop().then(() => process.exit(0));
        });
      }
      return new Promise<number>(() => undefined);
    }
    case 'exec': {
      const [container, ...command] = positionals;
      const ttySize = values['tty-size'] === undefined ? undefined : parseTtySize(values['tty-size']);
      if (!container || command.length === 0 || (values['tty-size'] !== undefined && (!ttySize || !values.tty))) {
        process.stderr.write('usage: onggi-agent exec [--socket PATH] [--tty [--tty-size ROWSxCOLS]] CONTAINER -- COMMAND [ARG...]\n');
        return 2;
      }
      return execInContainer(values.socket, initHelperPath(bundleDir), container, command, {
        tty: values.tty,
        ...(ttySize ? { ttySize } : {}),
      });
    }
    case 'attach': {
      const [container, ...extra] = positionals;
      if (!container || extra.length > 0) {
        process.stderr.write('usage: onggi-agent attach [--socket PATH] [--start] [--detach-keys KEYS] CONTAINER\n');
        return 2;
      }
      return attachToContainer(values.socket, container, {
        start: values.start,
        ...(values['detach-keys'] !== undefined ? { detachKeys: values['detach-keys'] } : {}),
      });
    }
    case 'hold':
    case 'holder': {
      const [id, ...args] = positionals;
      const from = /^\d{1,15}$/.test(values.from) ? Number(values.from) : undefined;
      const rows = sizeArg(values.rows);
      const cols = sizeArg(values.cols);
      if (!id || from === undefined || rows === null || cols === null) {
        process.stderr.write('usage: onggi-agent hold [--from OFFSET] [--reattach] [--rows N --cols N] SESSION [-- COMMAND [ARG...]]\n');
        return 2;
      }
      const size = { ...(rows ? { rows } : {}), ...(cols ? { cols } : {}) };
      return command === 'holder' ? runHolder(id, args, size) : hold(id, { from, reattach: values.reattach, command: args, ...size });
    }
    case 'version':
      process.stdout.write(`${JSON.stringify({ version: identity.version, buildId: identity.buildId })}\n`);
      return 0;
    default:
      process.stderr.write('usage: onggi-agent daemon|exec|attach|hold|version [--socket PATH] [--state DIR]\n');
      return 2;
  }
}

/** A terminal dimension: absent (undefined), a number in range, or null when malformed. */
function sizeArg(text: string | undefined): number | undefined | null {
  if (text === undefined) return undefined;
  return /^\d{1,4}$/.test(text) && Number(text) >= 1 ? Number(text) : null;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`onggi-agent: ${error instanceof Error ? error.message : String(error)}\n`);
    // 75 (EX_TEMPFAIL): not a failure of this machine, another agent already serves it.
    process.exit(error instanceof StateDirBusyError ? 75 : 1);
  },
);
