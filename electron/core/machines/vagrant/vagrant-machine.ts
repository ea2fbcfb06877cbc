// A Vagrant VM as a machine. Its directory in the app's data dir holds the Vagrantfile (the
// template from vm-assets/vagrant), provision.sh and onggi-machine.json (the settings the template
// reads), so the user can also `cd` there and `vagrant ssh`. Lifecycle goes through the `vagrant`
// CLI; once the VM runs, `vagrant ssh-config` says how to reach it and the machine is driven as an
// ssh machine (deploy, agent link, terminals, port forwards) with that host, port, user and key.
import { copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { MachineState, MachineSummary } from '../../../../shared/host-api.js';
import { OnggiError } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import type {
  DeployProgress,
  PortForwardState,
  SshMachineDefinition,
  VagrantMachineDefinition,
  VagrantMachineView,
  VagrantProgress,
} from '../../../../shared/machines.js';
import type { SharedFolder } from '../../../../shared/shares.js';
import { writeJsonAtomic } from '../../atomic-write.js';
import { currentFacts, type PlatformFacts } from '../../platform/platform.js';
import type { AgentEventListener, Machine, StateListener } from '../machine.js';
import type { MachinePrompts } from '../ssh/prompts.js';
import { resolveSshConfig } from '../ssh/ssh-config.js';
import { SshMachine, type SshMachineOptions } from '../ssh/ssh-machine.js';
import { SshBackedMachine } from '../ssh/ssh-backed-machine.js';
import type { RuntimeStager } from '../../deploy/runtime-staging.js';
import {
  isRunning,
  runVagrant,
  statusFromRows,
  vagrantFailure,
  type MachineReadableRow,
  type VagrantCli,
  type VagrantStatus,
} from './vagrant-cli.js';

export const SETTINGS_FILE = 'onggi-machine.json';
const TEMPLATE_FILES = ['Vagrantfile', 'provision.sh'] as const;

export interface VagrantMachineOptions {
  definition: VagrantMachineDefinition;
  /** The desktop's facts (default: this process's). */
  facts?: PlatformFacts;
  /** The app's data dir: the machine's directory is <dataDir>/vagrant/<name>. */
  dataDir: string;
  /** vm-assets/vagrant (the Vagrantfile template and provisioning). */
  templateDir: string;
  agentDir: string;
  bundlesDir: string;
  stageRuntime?: RuntimeStager;
  prompts: MachinePrompts;
  cli?: VagrantCli;
  onProgress?: (progress: VagrantProgress) => void;
  onDeploy?: (progress: DeployProgress) => void;
  /** Forward running containers' published ports to this computer (see SshMachineOptions.onPortForward). */
  onPortForward?: (state: PortForwardState) => void;
  onClock?: SshMachineOptions['onClock'];
  /** The definition changed (new shares): store it. */
  onDefinition: (definition: VagrantMachineDefinition) => Promise<void>;
}

/** What the template reads: the definition's resources, plus the VM's host name. */
export function vagrantSettings(definition: VagrantMachineDefinition): Record<string, unknown> {
  const { provider: _provider, remote: _remote, shares: _shares, vagrantProvider, ...resources } = definition;
  return { ...resources, provider: vagrantProvider, hostname: `onggi-${definition.name}`.slice(0, 63) };
}

export function machineDir(dataDir: string, name: string): string {
  return join(dataDir, 'vagrant', name);
}

/** Writes the machine's Vagrantfile, provision.sh and settings (each atomically). */
export async function writeVagrantDir(
  dir: string,
  templateDir: string,
  definition: VagrantMachineDefinition,
  facts?: PlatformFacts,
): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const file of TEMPLATE_FILES) {
    const temp = join(dir, `.${file}.${process.pid}.tmp`);
    await copyFile(join(templateDir, file), temp);
    await rename(temp, join(dir, file));
  }
  await writeJsonAtomic(join(dir, SETTINGS_FILE), vagrantSettings(definition), facts ? { facts } : {});
}

export class VagrantMachine extends SshBackedMachine implements Machine {
  readonly provider = 'vagrant' as const;
  readonly name: string;
  readonly dir: string;
  private state: MachineState = 'stopped';
  private lastError: string | undefined;
  private ssh: SshMachine | undefined;
  private attaching: Promise<SshMachine> | undefined;

  private readonly facts: PlatformFacts;

  constructor(
    private readonly options: VagrantMachineOptions,
    private readonly onState: StateListener,
    private readonly onAgentEvent: AgentEventListener,
  ) {
    super();
    this.facts = options.facts ?? currentFacts();
    this.name = options.definition.name;
    this.dir = machineDir(options.dataDir, this.name);
  }

  get definition(): VagrantMachineDefinition {
    return this.options.definition;
  }

  sharedFolders(): SharedFolder[] {
    return this.options.definition.shares;
  }

  protected async storeShares(shares: SharedFolder[]): Promise<void> {
    const definition = { ...this.options.definition, shares };
    await this.options.onDefinition(definition);
    this.options.definition = definition;
  }

  /** The ssh machine the VM is driven as, once it runs. */
  get sshMachine(): SshMachine | undefined {
    return this.ssh;
  }

  summary(): MachineSummary {
    // Once the VM runs and its SSH link is in use, the link's state is the machine's.
    const inner = this.ssh?.summary();
    const useInner = inner !== undefined && this.state === 'ready' && inner.state !== 'stopped';
    const state = useInner ? inner.state : this.state;
    const error = useInner ? inner.error : this.lastError;
    const retryAt = useInner ? inner.retryAt : undefined;
    return { name: this.name, provider: this.provider, state, ...(error ? { error } : {}), ...(retryAt !== undefined ? { retryAt } : {}) };
  }

  /** Writes the machine's directory (Vagrantfile, provisioning, settings) from the template. */
  writeFiles(): Promise<void> {
    return writeVagrantDir(this.dir, this.options.templateDir, this.options.definition, this.facts);
  }

  async status(): Promise<VagrantStatus> {
    await this.writeFiles();
    const run = await this.vagrant(['status', '--machine-readable']);
    if (run.code !== 0) throw vagrantFailure('status', run, this.options.definition.vagrantProvider, this.facts);
    return statusFromRows(run.rows);
  }

  /** `vagrant up` (creating the VM the first time, provisioning it), streamed as progress; then connects. */
  start(): Promise<VagrantStatus> {
    return this.starting(async () => {
      await this.writeFiles();
      const run = await this.vagrant(['up', `--provider=${this.options.definition.vagrantProvider}`, '--machine-readable'], 'up');
      if (run.code !== 0) throw vagrantFailure('up', run, this.options.definition.vagrantProvider, this.facts);
      await this.detach();
      // A new or rebooted VM: whatever host key was seen before does not hold for it.
      await rm(join(this.dir, 'known_hosts'), { force: true });
      const status = await this.status();
      this.setState('ready');
      return status;
    });
  }

  /** `vagrant halt`: the VM shuts down (its containers stop with it). */
  stop(): Promise<void> {
    return this.serial(async () => {
      await this.detach();
      await this.writeFiles();
      const run = await this.vagrant(['halt', '--machine-readable'], 'halt');
      if (run.code !== 0) throw vagrantFailure('halt', run, this.options.definition.vagrantProvider, this.facts);
      this.setState('stopped');
    });
  }

  /**
   * `vagrant destroy -f`: the VM and its disk are gone; the directory stays unless `removeDir`.
   * A VM no provider ever made has nothing to destroy, and `vagrant destroy` would fail on the
   * very thing that kept it from being made (no VirtualBox, no libvirtd): the user could never
   * remove a machine whose first start failed.
   */
  destroy(options: { removeDir?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      await this.detach();
      if (await vagrantMadeVm(this.dir)) {
        await this.writeFiles();
        const run = await this.vagrant(['destroy', '--force', '--machine-readable'], 'destroy');
        if (run.code !== 0) throw vagrantFailure('destroy', run, this.options.definition.vagrantProvider, this.facts);
      }
      this.setState('stopped');
      if (options.removeDir) await rm(this.dir, { recursive: true, force: true });
    });
  }

  /** Where `vagrant ssh` goes: host, port, user and key, from `vagrant ssh-config`. */
  async sshDefinition(): Promise<SshMachineDefinition> {
    const run = await this.vagrant(['ssh-config']);
    if (run.code !== 0) throw vagrantFailure('ssh-config', run, this.options.definition.vagrantProvider, this.facts);
    const file = join(this.dir, 'ssh-config');
    await writeFile(file, run.stdout, { mode: 0o600 });
    const host = await resolveSshConfig('default', { file, home: this.dir });
    const definition: SshMachineDefinition = {
      provider: 'ssh',
      name: this.name,
      host: host.hostName,
      port: host.port,
      user: host.user,
      agent: false,
      proxyJump: [],
      // Onggi runs this VM: a laptop's sleep pauses it and its clock then lags (clock-watch.ts).
      clock: 'correct',
      shares: this.options.definition.shares,
      ...(host.identityFiles[0] ? { identityFile: host.identityFiles[0] } : {}),
      ...(this.options.definition.remote ? { remote: this.options.definition.remote } : {}),
    };
    return definition;
  }

  view(): VagrantMachineView {
    const { name, box, cpus, memoryMb, vagrantProvider, boxArchitecture } = this.options.definition;
    return { name, provider: 'vagrant', box, cpus, memoryMb, vagrantProvider, ...(boxArchitecture ? { boxArchitecture } : {}) };
  }

  protected get attached(): SshMachine | undefined {
    return this.ssh;
  }

  /** The ssh machine for the running VM; a stopped VM is reported, not started behind the user's back. */
  protected attach(): Promise<SshMachine> {
    if (this.ssh) return Promise.resolve(this.ssh);
    this.attaching ??= (async () => {
      const status = await this.status();
      if (!isRunning(status.state)) {
        throw new OnggiError(
          ErrorCode.Unavailable,
          'machine_stopped',
          `the Vagrant machine "${this.name}" is ${status.state.replaceAll('_', ' ')}: start it with \`onggi machine start ${this.name}\``,
          'params.machine',
        );
      }
      const definition = await this.sshDefinition();
      const ssh = new SshMachine(
        {
          definition,
          facts: this.facts,
          dataDir: this.dir,
          agentDir: this.options.agentDir,
          bundlesDir: this.options.bundlesDir,
          ...(this.options.stageRuntime ? { stageRuntime: this.options.stageRuntime } : {}),
          prompts: this.options.prompts,
          // Vagrant made the VM and told us its address: trust its key on first sight, like `vagrant ssh`.
          userKnownHosts: [],
          hostKeyPolicy: 'accept-new',
          ...(this.options.onDeploy ? { onDeploy: this.options.onDeploy } : {}),
          ...(this.options.onPortForward ? { onPortForward: this.options.onPortForward } : {}),
          ...(this.options.onClock ? { onClock: this.options.onClock } : {}),
        },
        (machine, state, error, retryAt) => {
          this.state = 'ready';
          this.onState(machine, state, error, retryAt);
        },
        this.onAgentEvent,
      );
      this.ssh = ssh;
      this.state = 'ready';
      return ssh;
    })().finally(() => {
      this.attaching = undefined;
    });
    return this.attaching;
  }

  private async detach(): Promise<void> {
    const ssh = this.ssh;
    this.ssh = undefined;
    await ssh?.close();
  }

  private vagrant(args: string[], action?: VagrantProgress['action']) {
    const onProgress = this.options.onProgress;
    const onRow =
      action && onProgress
        ? (row: MachineReadableRow) => {
            const progress = progressFromRow(this.name, action, row);
            if (progress) onProgress(progress);
          }
        : undefined;
    const { diskGb, vagrantProvider } = this.options.definition;
    return runVagrant(args, {
      cwd: this.dir,
      facts: this.facts,
      experimentalDisks: diskGb !== undefined && vagrantProvider === 'virtualbox',
      ...(this.options.cli ? { cli: this.options.cli } : {}),
      ...(onRow ? { onRow } : {}),
    });
  }

  protected setState(state: MachineState, error?: string): void {
    this.state = state;
    this.lastError = error;
    this.onState(this.name, state, error);
  }
}

/** A progress event from a machine-readable row: ui lines and action markers; the rest is noise. */
export function progressFromRow(machine: string, action: VagrantProgress['action'], row: MachineReadableRow): VagrantProgress | undefined {
  if (row.type === 'ui') {
    const [kind = 'info', text = ''] = row.data;
    return { machine, action, kind: kind.slice(0, 32), text: text.slice(0, 16_384) };
  }
  if (row.type === 'action') return { machine, action, kind: 'action', text: row.data.join(' ').slice(0, 16_384) };
  return undefined;
}

/** Vagrant writes `.vagrant/machines/<vm>/<provider>/id` once a provider has made the VM. */
export async function vagrantMadeVm(dir: string): Promise<boolean> {
  // probe: no .vagrant folder means vagrant made no VM here
  const entries = await readdir(join(dir, '.vagrant', 'machines'), { recursive: true }).catch(() => []);
  return entries.some((entry) => {
    const parts = entry.split(sep);
    return parts.length === 3 && parts[2] === 'id';
  });
}
