// One CLI invocation's connection to the host core: opened on first use, closed at the end.
import type { Command } from 'commander';
import type { HostApi } from '../../shared/host-api.js';
import { asHostApi, type HostCore } from '../core/host-core.js';
import { createCliCore } from './context.js';

export interface Session {
  machine: string;
  api: HostApi;
  core: HostCore;
}

/** Runs a command's body with the core, and always closes it; the agent daemon stays up. */
export async function withSession<T>(command: Command, run: (session: Session) => Promise<T>): Promise<T> {
  // The verb's own --machine wins over the program's (commander merges the other way round).
  const machine = command.opts<{ machine?: string }>().machine ?? command.optsWithGlobals<{ machine: string }>().machine;
  const core = createCliCore();
  try {
    return await run({ machine, api: asHostApi(core), core });
  } finally {
    await core.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Collects a repeatable option (`-e A=1 -e B=2`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
