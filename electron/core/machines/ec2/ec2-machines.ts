// The EC2 machines the user added: loaded from the machine store with the others; added by
// adopting an instance or launching one (credentials checked first, nothing stored until AWS said
// yes); removed (terminating what Onggi launched); their SSH rule moved to a new public address.
import { readFile, rm } from 'node:fs/promises';
import { OnggiError, parseOrThrow } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import { Ec2MachineDefinition, MachineAddEc2Params, type DeployProgress, type PortForwardState } from '../../../../shared/machines.js';
import type { RuntimeStager } from '../../deploy/runtime-staging.js';
import { currentFacts, desktopPath, expandHome, type PlatformFacts } from '../../platform/platform.js';
import type { AgentEventListener, StateListener } from '../machine.js';
import type { MachineRegistry } from '../registry.js';
import { StoredMachines } from '../stored-machines.js';
import type { MachinePrompts } from '../ssh/prompts.js';
import type { AwsClients, AwsTarget } from './aws-clients.js';
import { ec2Sdk } from './aws-sdk.js';
import { defaultInstanceType, imageUser } from './ec2-images.js';
import { Ec2Machine, ec2MachineDir, type Ec2MachineOptions } from './ec2-machine.js';
import { desktopPublicAddress } from './public-address.js';

export interface Ec2MachinesOptions {
  facts?: PlatformFacts;
  dataDir: string;
  agentDir: string;
  bundlesDir: string;
  stageRuntime?: RuntimeStager;
  registry: MachineRegistry;
  prompts: MachinePrompts;
  onState: StateListener;
  onAgentEvent: AgentEventListener;
  onProgress: (machine: string, step: string) => void;
  onDeploy?: (progress: DeployProgress) => void;
  onPortForward?: (state: PortForwardState) => void;
  onClock?: Ec2MachineOptions['onClock'];
  /** Tests: the AWS clients (mocked at the SDK boundary they are the SDK's own anyway). */
  clients?: (target: AwsTarget) => AwsClients;
  /** Tests: where an instance's address is reached (see Ec2MachineOptions.reach). */
  reach?: Ec2MachineOptions['reach'];
  env?: NodeJS.ProcessEnv;
}

export class Ec2Machines extends StoredMachines<'ec2', Ec2Machine> {
  private readonly facts: PlatformFacts;

  constructor(private readonly options: Ec2MachinesOptions) {
    const facts = options.facts ?? currentFacts();
    super(options.dataDir, facts, options.registry);
    this.facts = facts;
    this.loadStored('ec2', (definition) => this.make(definition));
  }

  /** Adopts or launches the instance, then stores the machine; nothing is stored when AWS refused. */
  async add(input: unknown): Promise<Ec2Machine> {
    this.writable();
    const params = parseOrThrow(MachineAddEc2Params, input, 'params');
    this.registry.checkNewName(params.name);
    const { identityFile, publicKey } = await this.userKey(params.identityFile);
    const sdk = await ec2Sdk();
    const clients = (this.options.clients ?? sdk.awsClients)({ region: params.region, profile: params.profile });
    await clients.checkCredentials();
    const progress = (step: string): void => this.options.onProgress(params.name, step);
    let definition: Ec2MachineDefinition;
    const common = {
      provider: 'ec2' as const,
      name: params.name,
      region: params.region,
      ...(params.profile ? { profile: params.profile } : {}),
      identityFile,
      ...(params.idleMinutes !== undefined ? { idleMinutes: params.idleMinutes } : {}),
    };
    if (params.instance !== undefined) {
      progress(`looking up ${params.instance}`);
      await sdk.describeInstance(clients, params.instance); // it exists, and these credentials see it
      // Auto-stop shuts the instance down: on one set to terminate at shutdown that would destroy it.
      const terminates = (await sdk.shutdownBehavior(clients, params.instance)) === 'terminate';
      if (terminates && (params.idleMinutes ?? 0) > 0) {
        throw new OnggiError(
          ErrorCode.InvalidParams,
          'terminates_on_shutdown',
          `${params.instance} is terminated when it shuts down, so auto-stop would destroy it: make it stop instead (\`aws ec2 modify-instance-attribute --region ${params.region} --instance-id ${params.instance} --instance-initiated-shutdown-behavior stop\`) or give an idle timeout of 0`,
          'params.idleMinutes',
        );
      }
      definition = Ec2MachineDefinition.parse({
        ...common,
        instanceId: params.instance,
        user: params.user ?? 'ec2-user',
        ...(terminates ? { idleMinutes: 0 } : {}),
      });
    } else {
      const launch = params.launch;
      if (!launch) throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'give either instance or launch', 'params.instance');
      const address = await desktopPublicAddress(this.options.env);
      const { instanceId, made } = await sdk.launchInstance(
        clients,
        {
          name: params.name,
          image: launch.image,
          arch: launch.arch,
          instanceType: launch.instanceType ?? defaultInstanceType(launch.arch),
          diskGb: launch.diskGb,
          publicKey,
          cidr: `${address}/32`,
        },
        progress,
      );
      definition = Ec2MachineDefinition.parse({
        ...common,
        instanceId,
        user: imageUser(launch.image),
        made,
        image: launch.image,
        arch: launch.arch,
      });
    }
    await this.store.add(definition);
    const machine = this.keep(this.make(definition));
    await machine.refresh();
    return machine;
  }

  /** Terminates what Onggi launched (or, with `terminate`, an adopted instance too), then forgets the machine. */
  async remove(name: string, terminate: boolean | undefined): Promise<void> {
    this.writable();
    const machine = this.known(name, 'EC2 machine');
    await machine.destroy({ terminate });
    await machine.close();
    await this.forget(name);
    await rm(ec2MachineDir(this.options.dataDir, name), { recursive: true, force: true });
  }

  /** The private key (default ~/.ssh/id_ed25519, then ~/.ssh/id_rsa) and its public half (the .pub beside it). */
  private async userKey(given: string | undefined): Promise<{ identityFile: string; publicKey: string }> {
    const home = (file: string): string => desktopPath(this.facts).join(this.facts.homedir, '.ssh', file);
    const candidates = given !== undefined ? [expandHome(given, this.facts)] : [home('id_ed25519'), home('id_rsa')];
    for (const identityFile of candidates) {
      // a default key that is not there: try the next
      const publicKey = await readFile(`${identityFile}.pub`, 'utf8').catch(() => undefined);
      if (publicKey !== undefined) {
        if (!/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/]+={0,2}/.test(publicKey.trim()))
          throw new OnggiError(
            ErrorCode.InvalidParams,
            'invalid_params',
            `${identityFile}.pub is not an SSH public key`,
            'params.identityFile',
          );
        return { identityFile, publicKey: publicKey.trim() };
      }
    }
    throw new OnggiError(
      ErrorCode.InvalidParams,
      'invalid_params',
      given !== undefined
        ? `no public key ${candidates[0]}.pub beside the private key: make it with \`ssh-keygen -y -f ${candidates[0]} > ${candidates[0]}.pub\``
        : `no SSH key in ~/.ssh (id_ed25519 or id_rsa with its .pub): make one with \`ssh-keygen -t ed25519\`, or give --key`,
      'params.identityFile',
    );
  }

  private make(definition: Ec2MachineDefinition): Ec2Machine {
    return new Ec2Machine(
      {
        definition,
        dataDir: this.options.dataDir,
        agentDir: this.options.agentDir,
        bundlesDir: this.options.bundlesDir,
        ...(this.options.stageRuntime ? { stageRuntime: this.options.stageRuntime } : {}),
        prompts: this.options.prompts,
        facts: this.facts,
        ...(this.options.clients ? { clients: this.options.clients } : {}),
        ...(this.options.reach ? { reach: this.options.reach } : {}),
        ...(this.options.env ? { env: this.options.env } : {}),
        onDefinition: this.storeDefinition,
        onProgress: (step) => this.options.onProgress(definition.name, step),
        ...(this.options.onDeploy ? { onDeploy: this.options.onDeploy } : {}),
        ...(this.options.onPortForward ? { onPortForward: this.options.onPortForward } : {}),
        ...(this.options.onClock ? { onClock: this.options.onClock } : {}),
      },
      this.options.onState,
      this.options.onAgentEvent,
    );
  }
}
