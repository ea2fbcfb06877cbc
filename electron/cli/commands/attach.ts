// `attach`, `start -a`, and the attached half of `run -i/-t`: this terminal joined to a container's
// own console through the agent's `attach` (on this host a process with our stdio, on an SSH
// machine a channel), the same way `exec` reaches a new command. Detach keys (default Ctrl-P
// Ctrl-Q) leave the container running; otherwise the CLI ends with the container's exit code.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { DetachKeys } from '../../../shared/detach-keys.js';
import type { ContainerAttach } from '../../core/machines/agent-container-command.js';
import { withSession, type Session } from '../session.js';
import { execLocally } from './containers.js';
import { execOverTerminal } from './machines.js';

/** Docker's `--detach-keys`, checked when the command line is read. */
export function detachKeysOption(value: string): string {
  const parsed = DetachKeys.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'not a key sequence');
  return value;
}

/** Joins this terminal to the container's console until it ends (its exit code) or is detached from (0). */
export async function attachContainer(session: Session, container: string, attach: ContainerAttach): Promise<number> {
  const { api, core, machine } = session;
  // The far end reads the keys and passes signals on (^C with no tty): this process only waits for it.
  const waitForIt = (): void => undefined;
  process.on('SIGINT', waitForIt);
  try {
    const summary = (await api.call('machines.list', {})).find((entry) => entry.name === machine);
    if (summary && summary.provider !== 'local')
      return await execOverTerminal(core, machine, container, [], { interactive: true, tty: process.stdin.isTTY, attach });
    return await execLocally(await core.execCommand(machine, container, [], { attach }), { interactive: true });
  } finally {
    process.off('SIGINT', waitForIt);
  }
}

export function registerAttachCommands(program: Command): void {
  program
    .command('attach')
    .description("join this terminal to a running container's own input and output (detach: Ctrl-P Ctrl-Q)")
    .argument('<container>')
    .option('--detach-keys <keys>', 'the key sequence that detaches (default ctrl-p,ctrl-q)', detachKeysOption)
    .action((container: string, options: { detachKeys?: string }, cmd: Command) =>
      withSession(cmd, async (session) => {
        process.exitCode = await attachContainer(session, container, { ...(options.detachKeys ? { detachKeys: options.detachKeys } : {}) });
      }),
    );

  program
    .command('start')
    .description('start stopped containers (-a: attached to the one named, ending with its exit code)')
    .argument('<containers...>')
    .option('-a, --attach', "attach to the container's output (and input, with -i) from its start")
    .option('-i, --interactive', 'attach its input too (when it was created with -i)')
    .option('--detach-keys <keys>', 'the key sequence that detaches (default ctrl-p,ctrl-q)', detachKeysOption)
    .action((containers: string[], options: { attach?: boolean; interactive?: boolean; detachKeys?: string }, cmd: Command) =>
      withSession(cmd, async (session) => {
        if (options.attach || options.interactive) {
          const [container, ...more] = containers;
          if (!container || more.length > 0) throw new InvalidArgumentError('start -a attaches to one container only');
          process.exitCode = await attachContainer(session, container, {
            start: true,
            ...(options.detachKeys ? { detachKeys: options.detachKeys } : {}),
          });
          return;
        }
        for (const container of containers) {
          await session.api.call('containers.start', { machine: session.machine, container });
          process.stdout.write(`${container}\n`);
        }
      }),
    );
}
