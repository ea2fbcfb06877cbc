import type { MachineSummary } from '../../../shared/host-api.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { sameMachineName } from '../../../shared/names.js';
import type { Machine } from './machine.js';

/** The machines this host knows, by name. */
export class MachineRegistry {
  private readonly machines = new Map<string, Machine>();

  add(machine: Machine): void {
    if (this.machines.has(machine.name))
      throw new OnggiError(ErrorCode.Conflict, 'already_exists', `a machine named "${machine.name}" exists`, 'params.name');
    this.machines.set(machine.name, machine);
  }

  get(name: string): Machine {
    const machine = this.machines.get(name);
    if (!machine) {
      const known = [...this.machines.keys()].join(', ') || 'none';
      throw new OnggiError(ErrorCode.NotFound, 'not_found', `no machine named "${name}" (known: ${known})`, 'params.machine');
    }
    return machine;
  }

  has(name: string): boolean {
    return this.machines.has(name);
  }

  /**
   * Refuses a new machine whose name is taken, also when only the case differs: `vagrant/Dev` and
   * `vagrant/dev` are one folder on Windows and macOS (destroying one would destroy the other).
   */
  checkNewName(name: string): void {
    const taken = [...this.machines.keys()].find((existing) => sameMachineName(existing, name));
    if (taken !== undefined) throw nameTaken(name, taken);
  }

  remove(name: string): boolean {
    return this.machines.delete(name);
  }

  list(): MachineSummary[] {
    return this.all().map((machine) => machine.summary());
  }

  all(): Machine[] {
    return [...this.machines.values()];
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.machines.values()].map((machine) => machine.close()));
  }
}

/** The error for a new machine whose name is taken (exactly, or but for case). */
export function nameTaken(name: string, taken: string): OnggiError {
  return new OnggiError(
    ErrorCode.Conflict,
    'already_exists',
    taken === name
      ? `a machine named "${name}" exists`
      : `a machine named "${taken}" exists; "${name}" differs only in case, which Windows and macOS treat as the same name`,
    'params.name',
  );
}
