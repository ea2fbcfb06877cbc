// The Vagrant machines the user added: loaded from the machine store with the others, added
// (definition checked, directory written, nothing started), started, stopped and removed.
import { parseOrThrow } from '../../../../shared/errors.js';
import {
  MachineAddVagrantParams,
  type DeployProgress,
  type PortForwardState,
  VagrantMachineDefinition,
  type VagrantProgress,
} from '../../../../shared/machines.js';
import { currentFacts, findHypervisors, vagrantDefaults, type PlatformFacts, type VagrantDefaults } from '../../platform/platform.js';
import type { AgentEventListener, StateListener } from '../machine.js';
import type { MachineRegistry } from '../registry.js';
import { StoredMachines } from '../stored-machines.js';
import type { MachinePrompts } from '../ssh/prompts.js';
import type { VagrantCli } from './vagrant-cli.js';
import { VagrantMachine, type VagrantMachineOptions } from './vagrant-machine.js';
import type { RuntimeStager } from '../../deploy/runtime-staging.js';

export interface VagrantMachinesOptions {
  /** The desktop's facts (default: this process's): the default box and provider, where vagrant is. */
  facts?: PlatformFacts;
  dataDir: string;
  templateDir: string;
  agentDir: string;
  bundlesDir: string;
  stageRuntime?: RuntimeStager;
  registry: MachineRegistry;
  prompts: MachinePrompts;
  onState: StateListener;
  onAgentEvent: AgentEventListener;
  onProgress: (progress: VagrantProgress) => void;
  onDeploy: (progress: DeployProgress) => void;
  cli?: VagrantCli;
  onPortForward?: (state: PortForwardState) => void;
  onClock?: VagrantMachineOptions['onClock'];
}

export class VagrantMachines extends StoredMachines<'vagrant', VagrantMachine> {
  private readonly facts: PlatformFacts;

  constructor(private readonly options: VagrantMachinesOptions) {
    const facts = options.facts ?? currentFacts();
    super(options.dataDir, facts, options.registry);
    this.facts = facts;
    this.loadStored('vagrant', (definition) => this.make(definition));
  }

  /** Stores the machine and writes its directory; the VM is created by the first start. */
  async add(input: unknown): Promise<VagrantMachine> {
    this.writable();
    const params = parseOrThrow(MachineAddVagrantParams, input, 'params');
    const chosen = this.defaults(params);
    const definition = VagrantMachineDefinition.parse({
      box: chosen.box,
      vagrantProvider: chosen.provider,
      ...(chosen.boxArchitecture ? { boxArchitecture: chosen.boxArchitecture } : {}),
      ...withoutUndefined(params),
    });
    this.registry.checkNewName(definition.name);
    await this.store.add(definition);
    const machine = this.keep(this.make(definition));
    await machine.writeFiles();
    return machine;
  }

  /** Destroys the VM (when it was created) and forgets the machine and its directory. */
  async remove(name: string): Promise<void> {
    this.writable();
    const machine = this.known(name, 'Vagrant machine');
    await machine.destroy({ removeDir: true });
    await machine.close();
    await this.forget(name);
  }

  /** What a new machine gets for what the user left out: this desktop's box, provider and architecture. */
  defaults(params: { box?: string | undefined; vagrantProvider?: string | undefined } = {}): VagrantDefaults {
    const chosen = vagrantDefaults(this.facts, findHypervisors(this.facts));
    // A box the user named is theirs: its architecture is not ours to guess.
    if (params.box !== undefined && params.box !== chosen.box) return { ...chosen, box: params.box, boxArchitecture: undefined };
    return chosen;
  }

  private make(definition: VagrantMachineDefinition): VagrantMachine {
    return new VagrantMachine(
      {
        definition,
        dataDir: this.options.dataDir,
        facts: this.facts,
        templateDir: this.options.templateDir,
        agentDir: this.options.agentDir,
        bundlesDir: this.options.bundlesDir,
        ...(this.options.stageRuntime ? { stageRuntime: this.options.stageRuntime } : {}),
        prompts: this.options.prompts,
        onProgress: this.options.onProgress,
        onDeploy: this.options.onDeploy,
        ...(this.options.cli ? { cli: this.options.cli } : {}),
        ...(this.options.onPortForward ? { onPortForward: this.options.onPortForward } : {}),
        ...(this.options.onClock ? { onClock: this.options.onClock } : {}),
        onDefinition: this.storeDefinition,
      },
      this.options.onState,
      this.options.onAgentEvent,
    );
  }
}

/** The fields the user gave (an explicit undefined must not hide a default). */
function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
