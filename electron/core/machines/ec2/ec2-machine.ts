// An EC2 instance as a machine: an SSH machine (deploy, agent link, terminals, forwards) whose
// address, user and host key come from EC2. Every connect looks the instance up first
// (DescribeInstances), so the address follows it across stop/start; a host key is trusted only
// when the instance printed its fingerprint on its console (GetConsoleOutput) or proved it before
// (this machine's own known_hosts). Start and stop act on the instance.
import { join } from 'node:path';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import type { MachineState, MachineSummary } from '../../../../shared/host-api.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import type { DeployProgress, DeployReport, Ec2MachineDefinition, Ec2MachineView, PortForwardState } from '../../../../shared/machines.js';
import type { SharedFolder } from '../../../../shared/shares.js';
import type { AgentLink } from '../../agent/agent-link.js';
import type { RuntimeStager } from '../../deploy/runtime-staging.js';
import { currentFacts, type PlatformFacts } from '../../platform/platform.js';
import type { AgentEventListener, Machine, StateListener, Terminal, TerminalOptions } from '../machine.js';
import { KnownHosts, fingerprint, keyTypeLabel, keyTypeOf } from '../ssh/known-hosts.js';
import type { MachinePrompts } from '../ssh/prompts.js';
import { SshMachine, type SshMachineOptions } from '../ssh/ssh-machine.js';
import { SshBackedMachine } from '../ssh/ssh-backed-machine.js';
import type { AwsClients, AwsTarget } from './aws-clients.js';
import { ec2Sdk } from './aws-sdk.js';
import { parseConsoleFingerprints } from './console-fingerprints.js';
import type { InstanceFacts } from './ec2-instances.js';
import { desktopPublicAddress } from './public-address.js';

export interface Ec2MachineOptions {
  definition: Ec2MachineDefinition;
  /** The app's data dir: the machine's own known_hosts is in <dataDir>/ec2/<name>. */
  dataDir: string;
  agentDir: string;
  bundlesDir: string;
  stageRuntime?: RuntimeStager;
  prompts: MachinePrompts;
  facts?: PlatformFacts;
  /** Makes the AWS clients for a region and profile (default: the SDK's, see aws-clients.ts). */
  clients?: (target: AwsTarget) => AwsClients;
  /** Tests: where an instance's address is reached (the loopback sshd); default: the address on the definition's port. */
  reach?: (address: string) => { host: string; port: number };
  /** Environment read for ONGGI_PUBLIC_IP (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** The definition changed (a new SSH rule): store it. */
  onDefinition: (definition: Ec2MachineDefinition) => Promise<void>;
  onProgress?: (step: string) => void;
  onDeploy?: (progress: DeployProgress) => void;
  onPortForward?: (state: PortForwardState) => void;
  onClock?: SshMachineOptions['onClock'];
}

export function ec2MachineDir(dataDir: string, name: string): string {
  return join(dataDir, 'ec2', name);
}

export class Ec2Machine extends SshBackedMachine implements Machine {
  readonly provider = 'ec2' as const;
  readonly name: string;
  readonly dir: string;
  /** The AWS clients, made (with the SDK loaded) on first use. */
  private clientsMade: Promise<AwsClients> | undefined;
  private definitionNow: Ec2MachineDefinition;
  private instance: InstanceFacts | undefined;
  private ruleOutdated: { rule: string; now: string } | undefined;
  private lookupError: string | undefined;
  private state: MachineState = 'stopped';
  private ssh: { machine: SshMachine; address: string } | undefined;
  private attaching: Promise<SshMachine> | undefined;
  /** The link the idle timeout was last given to. */
  private idleSetOn: AgentLink | undefined;
  private readonly facts: PlatformFacts;
  private readonly knownHosts: KnownHosts;

  constructor(
    private readonly options: Ec2MachineOptions,
    private readonly onState: StateListener,
    private readonly onAgentEvent: AgentEventListener,
  ) {
    super();
    this.definitionNow = options.definition;
    this.name = options.definition.name;
    this.dir = ec2MachineDir(options.dataDir, this.name);
    this.facts = options.facts ?? currentFacts();
    this.knownHosts = new KnownHosts({ own: join(this.dir, 'known_hosts'), readOnly: [] });
  }

  private clients(): Promise<AwsClients> {
    const target = { region: this.options.definition.region, profile: this.options.definition.profile };
    this.clientsMade ??= this.options.clients
      ? Promise.resolve(this.options.clients(target))
      : ec2Sdk().then((sdk) => sdk.awsClients(target));
    return this.clientsMade;
  }

  get definition(): Ec2MachineDefinition {
    return this.definitionNow;
  }

  sharedFolders(): SharedFolder[] {
    return this.definitionNow.shares;
  }

  protected async storeShares(shares: SharedFolder[]): Promise<void> {
    const definition = { ...this.definitionNow, shares };
    await this.options.onDefinition(definition);
    this.definitionNow = definition;
  }

  /** The SSH machine the instance is driven as, while attached. */
  get sshMachine(): SshMachine | undefined {
    return this.ssh?.machine;
  }

  summary(): MachineSummary {
    const inner = this.ssh?.machine.summary();
    if (inner && inner.state !== 'stopped') return { ...inner, name: this.name, provider: this.provider };
    return { name: this.name, provider: this.provider, state: this.state, ...(this.lookupError ? { error: this.lookupError } : {}) };
  }

  view(): Ec2MachineView {
    const { name, region, profile, instanceId, made, user, idleMinutes } = this.definitionNow;
    const instance = this.instance;
    return {
      name,
      provider: 'ec2',
      region,
      ...(profile ? { profile } : {}),
      instanceId,
      launched: made !== undefined,
      user,
      idleMinutes,
      ...(instance ? { instanceState: instance.state } : {}),
      ...(instance?.instanceType ? { instanceType: instance.instanceType } : {}),
      ...(instance?.address ? { address: instance.address } : {}),
      ...(this.ruleOutdated ? { ruleOutdated: this.ruleOutdated } : {}),
      ...(this.lookupError ? { error: this.lookupError } : {}),
    };
  }

  /** Looks the instance up now (state, type, address) and whether the SSH rule still admits this desktop. */
  async refresh(): Promise<void> {
    try {
      this.instance = await (await ec2Sdk()).describeInstance(await this.clients(), this.definitionNow.instanceId);
      this.lookupError = undefined;
    } catch (error) {
      this.lookupError = errorMessage(error);
    }
    const made = this.definitionNow.made;
    if (!made) return;
    // The rule is ours only on a launched instance; an unknown address leaves the last word standing.
    const now = await desktopPublicAddress(this.options.env).catch(() => undefined);
    if (now !== undefined) this.ruleOutdated = `${now}/32` === made.ruleCidr ? undefined : { rule: made.ruleCidr, now: `${now}/32` };
  }

  /** Authorizes SSH from this desktop's public address now and revokes the old /32. */
  updateRule(): Promise<string> {
    return this.serial(async () => {
      const made = this.definitionNow.made;
      if (!made) {
        throw new OnggiError(
          ErrorCode.InvalidParams,
          'not_ours',
          `${this.name} is an adopted instance: its security groups are yours to change, not Onggi's`,
          'params.machine',
        );
      }
      const cidr = `${await desktopPublicAddress(this.options.env)}/32`;
      if (cidr !== made.ruleCidr) {
        await (await ec2Sdk()).replaceSshRule(await this.clients(), this.name, made, cidr);
        const definition = { ...this.definitionNow, made: { ...made, ruleCidr: cidr } };
        await this.options.onDefinition(definition);
        this.definitionNow = definition;
      }
      this.ruleOutdated = undefined;
      return cidr;
    });
  }

  /** StartInstances, then waits until it runs; the next use connects to its new address. */
  start(): Promise<{ state: string }> {
    return this.starting(async () => {
      await this.detach();
      this.progress(`starting ${this.definitionNow.instanceId}`);
      await (await ec2Sdk()).startInstance(await this.clients(), this.definitionNow.instanceId);
      this.instance = await (await ec2Sdk()).describeInstance(await this.clients(), this.definitionNow.instanceId);
      this.setState('stopped');
      return { state: this.instance.state };
    });
  }

  /** StopInstances, then waits until it is stopped (its containers stop with it; its disk stays). */
  stop(): Promise<void> {
    return this.serial(async () => {
      await this.detach();
      this.progress(`stopping ${this.definitionNow.instanceId}`);
      await (await ec2Sdk()).stopInstance(await this.clients(), this.definitionNow.instanceId);
      this.instance = {
        ...(this.instance ?? { instanceId: this.definitionNow.instanceId, instanceType: undefined }),
        state: 'stopped',
        address: undefined,
      };
      this.setState('stopped');
    });
  }

  /**
   * What `rm` does on AWS: a launched instance is terminated and its security group and key pair
   * deleted; an adopted one is left alone unless `terminate`.
   */
  destroy(options: { terminate?: boolean | undefined }): Promise<void> {
    return this.serial(async () => {
      await this.detach();
      const made = this.definitionNow.made;
      if (made || options.terminate) {
        this.progress(`terminating ${this.definitionNow.instanceId}`);
        await (await ec2Sdk()).terminateInstance(await this.clients(), this.definitionNow.instanceId);
      }
      if (made) {
        this.progress('deleting its security group and key pair');
        await (await ec2Sdk()).deleteMade(await this.clients(), made);
      }
    });
  }

  /** The agent link; each new link is told the idle timeout first (the instance stops itself: auto-stop). */
  override async agent(): Promise<AgentLink> {
    const link = await super.agent();
    if (this.idleSetOn !== link) {
      await link.call('system.idleStop', { minutes: this.definitionNow.idleMinutes });
      this.idleSetOn = link;
    }
    return link;
  }

  override async openTerminal(options: TerminalOptions): Promise<Terminal> {
    if (options.container !== undefined) await this.agent(); // a container's terminal deploys: the agent learns the timeout first
    return super.openTerminal(options);
  }

  override async deploy(): Promise<Omit<DeployReport, 'machine'>> {
    await this.agent();
    return super.deploy();
  }

  protected get attached(): SshMachine | undefined {
    return this.ssh?.machine;
  }

  /**
   * Vouches for a host key the machine's known_hosts does not list at this address: one this
   * instance proved before (at another address), or one it printed on its console.
   */
  private async vouch(key: Buffer, address: string): Promise<void> {
    const known = await this.knownHosts.entries();
    if (known.some((entry) => entry.key.equals(key))) return;
    const { instanceId } = this.definitionNow;
    const offered = `${keyTypeLabel(keyTypeOf(key))} ${fingerprint(key)}`;
    const printed = parseConsoleFingerprints(await (await ec2Sdk()).consoleText(await this.clients(), instanceId));
    if (printed.length === 0) {
      throw new OnggiError(
        ErrorCode.Unavailable,
        'host_key_unverified',
        `${instanceId} has not printed its SSH host key fingerprints on its console yet (EC2 shows the console a few minutes after boot): try again shortly. Not trusting ${offered} at ${address} unseen.`,
      );
    }
    if (!printed.some((line) => line.fingerprint === fingerprint(key))) {
      throw new OnggiError(
        ErrorCode.Forbidden,
        'host_key_mismatch',
        `the host key at ${address} (${offered}) is none of those ${instanceId} printed on its console (${printed.map((line) => `${line.type} ${line.fingerprint}`).join(', ')}): refusing to connect. Someone may be intercepting the connection, or the address now belongs to another machine.`,
      );
    }
  }

  /** The SSH machine at the instance's current address; a stopped instance is reported, not started behind the user's back. */
  protected attach(): Promise<SshMachine> {
    this.attaching ??= (async () => {
      const { instanceId } = this.definitionNow;
      const instance = await (await ec2Sdk()).describeInstance(await this.clients(), instanceId);
      this.instance = instance;
      if (instance.state !== 'running' || !instance.address) {
        throw new OnggiError(
          ErrorCode.Unavailable,
          'machine_stopped',
          `the EC2 instance ${instanceId} of "${this.name}" is ${instance.state}${instance.state === 'running' ? ' without an address' : ''}: start it with \`onggi machine start ${this.name}\``,
          'params.machine',
        );
      }
      if (this.ssh?.address === instance.address) return this.ssh.machine;
      // A new address (stop/start): the old connection goes, the new one is checked from scratch.
      await this.detach();
      const address = instance.address;
      const reached = this.options.reach?.(address) ?? { host: address, port: this.definitionNow.port };
      const ssh = new SshMachine(
        {
          definition: {
            provider: 'ssh',
            name: this.name,
            host: reached.host,
            port: reached.port,
            user: this.definitionNow.user,
            identityFile: this.definitionNow.identityFile,
            agent: false,
            shares: this.definitionNow.shares,
            proxyJump: [],
            // EC2 instances keep time themselves (Amazon Time Sync): only shown.
            clock: 'report',
            ...(this.definitionNow.remote ? { remote: this.definitionNow.remote } : {}),
          },
          facts: this.facts,
          dataDir: this.dir,
          agentDir: this.options.agentDir,
          bundlesDir: this.options.bundlesDir,
          ...(this.options.stageRuntime ? { stageRuntime: this.options.stageRuntime } : {}),
          prompts: this.options.prompts,
          userKnownHosts: [],
          hostKeyPolicy: 'refuse-new',
          vouchHostKey: (key) => this.vouch(key, address),
          ...(this.options.onDeploy ? { onDeploy: this.options.onDeploy } : {}),
          ...(this.options.onPortForward ? { onPortForward: this.options.onPortForward } : {}),
          ...(this.options.onClock ? { onClock: this.options.onClock } : {}),
        },
        this.onState,
        this.onAgentEvent,
      );
      this.ssh = { machine: ssh, address };
      return ssh;
    })().finally(() => {
      this.attaching = undefined;
    });
    return this.attaching;
  }

  private async detach(): Promise<void> {
    const ssh = this.ssh;
    this.ssh = undefined;
    await ssh?.machine.close();
  }

  private progress(step: string): void {
    this.options.onProgress?.(step);
  }

  protected setState(state: MachineState, error?: string): void {
    this.state = state;
    this.onState(this.name, state, error);
  }
}
