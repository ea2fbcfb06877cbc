// A container's console (`run -i/-t`, `attach`, `start -a`): the supervisor keeps the container's
// pty master (or its stdin pipe) and serves it on a unix socket in the container's directory
// (vm-assets/init/console.h says what travels on it). Every container has one, as every Docker
// container can be attached to; only the options differ.
import { ATTACH_WAIT_MS, type ContainerConsole, type ContainerSpec } from '../../../shared/containers.js';
import type { ContainerPaths } from './container-record.js';
import type { RunSpec } from './helper-protocol.js';

/** The helper's `run` options for the console of a container created from `spec`. */
export function consoleOptions(
  spec: Pick<ContainerSpec, 'tty' | 'stdinOpen'>,
  paths: Pick<ContainerPaths, 'console'>,
  options: { waitForAttach?: boolean | undefined } = {},
): Pick<RunSpec, 'console' | 'tty' | 'stdinOpen' | 'attachWaitMs'> {
  return {
    console: paths.console,
    ...(spec.tty ? { tty: true } : {}),
    ...(spec.stdinOpen ? { stdinOpen: true } : {}),
    ...(options.waitForAttach ? { attachWaitMs: ATTACH_WAIT_MS } : {}),
  };
}

/** Docker gives a container with a terminal TERM=xterm unless it sets TERM itself. */
export function terminalEnv(env: string[], tty: boolean | undefined): string[] {
  return tty && !env.some((entry) => entry.startsWith('TERM=')) ? [...env, 'TERM=xterm'] : env;
}

export function consoleOf(spec: Pick<ContainerSpec, 'tty' | 'stdinOpen'>, paths: Pick<ContainerPaths, 'console'>): ContainerConsole {
  return { socket: paths.console, tty: spec.tty ?? false, stdinOpen: spec.stdinOpen ?? false };
}
