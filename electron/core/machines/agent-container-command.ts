// The agent's words for a container terminal, one definition for every machine kind: a new
// command in the container (`agent exec`), or the container's own console (`agent attach`,
// `docker attach`): both run with stdio joined to whatever terminal the front end opened.
import { DetachKeys } from '../../../shared/detach-keys.js';
import { parseOrThrow } from '../../../shared/errors.js';

/** Joining the container's own console rather than starting a command in it. */
export interface ContainerAttach {
  /** Start the container first, its output held until attached (`start -a`, `run -it`). */
  start?: boolean;
  /** Docker's `--detach-keys` (default ctrl-p,ctrl-q). */
  detachKeys?: string;
}

/** The agent's arguments: `exec --socket S [--tty] C -- CMD…` or `attach --socket S [--start] [--detach-keys K] C`. */
export function agentContainerArgs(
  socket: string,
  container: string,
  command: readonly string[],
  options: { tty?: boolean; attach?: ContainerAttach },
): string[] {
  const { attach } = options;
  if (!attach) return ['exec', '--socket', socket, ...(options.tty ? ['--tty'] : []), container, '--', ...command];
  // Checked here too: the agent is another process, and a bad sequence should be named before it starts.
  if (attach.detachKeys !== undefined) parseOrThrow(DetachKeys, attach.detachKeys, 'detachKeys');
  return [
    'attach',
    '--socket',
    socket,
    ...(attach.start ? ['--start'] : []),
    ...(attach.detachKeys !== undefined ? ['--detach-keys', attach.detachKeys] : []),
    container,
  ];
}
