import type { MachineSummary } from '../../../shared/host-api.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
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

  remove(name: string): boolean {
    return this.machines.delete(name);
  }

  list(): MachineSummary[] {
    return [...this.machines.values()].map((machine) => machine.summary());
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.machines.values()].map((machine) => machine.close()));
  }
}
