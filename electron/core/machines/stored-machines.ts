// What every provider of stored machines (SSH hosts, Vagrant VMs, EC2 instances) does alike: its
// definitions come from the one machine store (machines.json), each becomes a machine in the
// registry, an edited definition is written back, and a removed machine leaves the store, the
// provider and the registry together. A store that could not be read refuses every change: the
// file is left as it is for the user to fix, never overwritten with what little was understood.
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { MachineDefinition } from '../../../shared/machines.js';
import type { PlatformFacts } from '../platform/platform.js';
import type { Machine } from './machine.js';
import { MachineStore } from './machine-store.js';
import type { MachineRegistry } from './registry.js';

export abstract class StoredMachines<P extends MachineDefinition['provider'], M extends Machine> {
  readonly store: MachineStore;
  private failure: OnggiError | undefined;
  private readonly machines = new Map<string, M>();

  protected constructor(
    dataDir: string,
    facts: PlatformFacts,
    protected readonly registry: MachineRegistry,
  ) {
    this.store = new MachineStore(dataDir, facts);
  }

  /** Why the stored machines could not be loaded (the file is left as it is). */
  get loadError(): OnggiError | undefined {
    return this.failure;
  }

  get(name: string): M | undefined {
    return this.machines.get(name);
  }

  list(): M[] {
    return [...this.machines.values()];
  }

  /** Makes a machine of each stored definition of this provider (called once the subclass can make them). */
  protected loadStored(provider: P, make: (definition: Extract<MachineDefinition, { provider: P }>) => M): void {
    const { machines, error } = this.store.loadSyncOrError();
    for (const definition of machines) {
      if (definition.provider === provider) this.keep(make(definition as Extract<MachineDefinition, { provider: P }>));
    }
    this.failure = error;
  }

  /** Throws why the store could not be loaded: nothing may be added to or removed from it then. */
  protected writable(): void {
    if (this.failure) throw this.failure;
  }

  /** The machine by name, or a not-found error that says what kind was looked for. */
  protected known(name: string, kind: string): M {
    const machine = this.machines.get(name);
    if (!machine) throw new OnggiError(ErrorCode.NotFound, 'not_found', `no ${kind} named "${name}"`, 'params.machine');
    return machine;
  }

  /** A new or loaded machine joins the provider and the registry. */
  protected keep(machine: M): M {
    this.registry.add(machine);
    this.machines.set(machine.name, machine);
    return machine;
  }

  /** Removes the machine from the store, the provider and the registry; false when the store had no such machine. */
  protected async forget(name: string): Promise<boolean> {
    const removed = await this.store.remove(name);
    if (this.machines.delete(name)) this.registry.remove(name);
    return removed;
  }

  /** A machine's changed definition (shared folders, a new address), written back to the store. */
  protected readonly storeDefinition = async (changed: MachineDefinition): Promise<void> => {
    if (!(await this.store.replace(changed)))
      throw new OnggiError(ErrorCode.NotFound, 'not_found', `no machine named "${changed.name}" is stored`, 'params.machine');
  };
}
