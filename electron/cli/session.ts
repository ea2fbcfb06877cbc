// One CLI invocation's connection to the host core: opened on first use, closed at the end.
import type { Command } from 'commander';
import { OnggiError } from '../../shared/errors.js';
import type { HostApi } from '../../shared/host-api.js';
import { ErrorCode } from '../../shared/jsonrpc.js';
import { chooseMachine } from '../../shared/machine-choice.js';
import { asHostApi, type HostCore } from '../core/host-core.js';
import { cliPlace, createCliCore } from './context.js';

export interface Session {
  machine: string;
  /** The host API, as the window calls it (same methods, same schemas): everything a command asks goes here. */
  api: HostApi;
  /** Only for what is no message: a terminal or process attached to this one, a file of this computer to import. */
  core: HostCore;
  /** The data folder (where a Vagrant machine's directory is, for the user to `cd` into). */
  dataDir: string;
}

/** Runs a command's body with the core, and always closes it; the agent daemon stays up. `extra`: for a long-lived command. */
export async function withCore<T>(
  run: (session: Omit<Session, 'machine'>) => Promise<T>,
  extra: Parameters<typeof createCliCore>[0] = {},
): Promise<T> {
  const place = cliPlace();
  const core = createCliCore(extra, place);
  try {
    return await run({ api: asHostApi(core), core, dataDir: place.dataDir });
  } finally {
    await core.close();
  }
}

/** The same, for a command that acts on a machine: the one `--machine`, ONGGI_MACHINE or the rule in shared/machine-choice.ts picks. */
export async function withSession<T>(
  command: Command,
  run: (session: Session) => Promise<T>,
  extra: Parameters<typeof createCliCore>[0] = {},
): Promise<T> {
  // The verb's own --machine wins over the program's (commander merges the other way round).
  const flag = command.opts<{ machine?: string }>().machine ?? command.optsWithGlobals<{ machine?: string }>().machine;
  return withCore(
    async (session) => run({ machine: await machineFor(session.api, { flag, env: process.env.ONGGI_MACHINE }), ...session }),
    extra,
  );
}

/** The machine a command acts on, or an error that lists the machines and says how to pick one. */
export async function machineFor(api: HostApi, given: { flag?: string | undefined; env?: string | undefined }): Promise<string> {
  const [machines, { machine: lastUsed }] = await Promise.all([api.call('machines.list', {}), api.call('machines.lastUsed', {})]);
  const choice = chooseMachine({ ...given, lastUsed, machines });
  if (choice.machine !== undefined) return choice.machine;
  if (choice.reason === 'no_machines') {
    throw new OnggiError(
      ErrorCode.NotFound,
      'no_machines',
      'there is no machine yet: add a Linux host with `onggi machine add ssh NAME --host HOST` or a VM with `onggi machine add vagrant NAME` (the window’s welcome says what Vagrant needs on this computer)',
    );
  }
  const list = machines.map((machine) => `${machine.name} (${machine.provider})`).join(', ');
  throw new OnggiError(
    ErrorCode.InvalidParams,
    'machine_not_chosen',
    `which machine? there are ${machines.length}: ${list}; choose one with \`onggi machine use NAME\` (remembered, as in the window), or for one command with --machine NAME or ONGGI_MACHINE=NAME`,
    'params.machine',
  );
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Collects a repeatable option (`-e A=1 -e B=2`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Resolves on the first SIGINT or SIGTERM: what a long-lived command (serve, docker-forward) waits
 * for before it closes what it opened. Call it before the slow part of setting up, so that a signal
 * meanwhile is not the default action (death, a socket left behind) but a clean stop.
 */
export function untilStopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
}
