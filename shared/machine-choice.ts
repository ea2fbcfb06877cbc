// Which machine a command or the window acts on when the user did not say so this time. One rule
// for the CLI and the window, so both land on the same machine:
//
//   1. `--machine NAME` (the CLI's flag; the window's picker is the same thing);
//   2. `ONGGI_MACHINE` — a per-shell choice, like DOCKER_CONTEXT or CONTAINER_CONNECTION;
//   3. the machine used last (picked in the window or with `onggi machine use NAME`, remembered in
//      the data folder), while it still exists — like Docker's current context or Podman's default
//      connection, which a one-off `--context`/`--connection` does not change: neither does our flag;
//   4. this computer (`local`), where it is a machine (Linux, as root) — the answer before there
//      were other machines, so nothing changes for those users;
//   5. the only machine there is;
//   6. else none: the CLI lists the machines with the command that picks one, the window asks.
//
// A name given by flag or environment is taken as is even when no such machine exists: the host
// then says so, listing the machines it knows, which beats silently using another one.

export interface MachineChoiceInput {
  flag?: string | undefined;
  env?: string | undefined;
  lastUsed?: string | undefined;
  machines: readonly { name: string; provider: string }[];
}

export type MachineChoiceSource = 'flag' | 'env' | 'lastUsed' | 'local' | 'only';

export type MachineChoice = { machine: string; source: MachineChoiceSource } | { machine: undefined; reason: 'no_machines' | 'several' };

export function chooseMachine({ flag, env, lastUsed, machines }: MachineChoiceInput): MachineChoice {
  if (flag) return { machine: flag, source: 'flag' };
  if (env) return { machine: env, source: 'env' };
  if (lastUsed && machines.some((machine) => machine.name === lastUsed)) return { machine: lastUsed, source: 'lastUsed' };
  const local = machines.find((machine) => machine.provider === 'local');
  if (local) return { machine: local.name, source: 'local' };
  const [only, ...others] = machines;
  if (only && others.length === 0) return { machine: only.name, source: 'only' };
  return { machine: undefined, reason: machines.length === 0 ? 'no_machines' : 'several' };
}
