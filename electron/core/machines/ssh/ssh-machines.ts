// The remote machines the user added: loaded from the machine store when the host core starts,
// added (after one real connection that checks the host key and the credentials) and removed.
// Also the source of the events a front end answers or shows: host-key and secret questions,
// deploy progress.
import type { MachineClock } from '../../../../shared/clock.js';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { OnggiError, parseOrThrow } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import {
  MachineAddSshParams,
  SshMachineDefinition,
  SshUser,
  type DeployProgress,
  type JumpHost,
  type PortForwardState,
  type PromptAnswerParams,
  type SshConfigHostView,
  type SshMachineDefinitionInput,
  type SshMachineView,
} from '../../../../shared/machines.js';
import type { AgentEventListener, StateListener } from '../machine.js';
import type { MachineRegistry } from '../registry.js';
import { StoredMachines } from '../stored-machines.js';
import type { PassphraseCache } from './keys.js';
import { accountName, currentFacts, expandHome, sshAgentCandidates, type PlatformFacts } from '../../platform/platform.js';
import { PromptBroker, type MachinePrompts, type PromptEvent } from './prompts.js';
import { RememberedPassphrases, rememberNotAvailable, type SecretVault } from './remembered-passphrases.js';
import { listSshConfigHosts, resolveSshConfig, type SshConfigContext } from './ssh-config.js';
import { connectSsh, endpointLabel, type HostKeyPolicy } from './ssh-connection.js';
import { SshMachine, endpointsFor, knownHostsFor, sshMachineView } from './ssh-machine.js';
import type { RuntimeStager } from '../../deploy/runtime-staging.js';

export type RemoteMachineEvent =
  PromptEvent | ({ type: 'machine.deploy' } & DeployProgress) | { type: 'machine.clock'; machine: string; clock: MachineClock };

export interface SshMachinesOptions {
  /** The desktop's facts (default: this process's). */
  facts?: PlatformFacts;
  dataDir: string;
  agentDir: string;
  bundlesDir: string;
  stageRuntime?: RuntimeStager;
  registry: MachineRegistry;
  onState: StateListener;
  onAgentEvent: AgentEventListener;
  /** Answers questions in-process (the CLI); without it they go out as events (see onEvent/answer). */
  prompts?: MachinePrompts;
  /** known_hosts files read besides Onggi's own (default ~/.ssh/known_hosts). */
  userKnownHosts?: string[];
  /** ~/.ssh/config and the home it is relative to (tests). */
  sshConfig?: { file?: string; home?: string };
  /** Tests: the one ssh-agent socket to try ('' for none) instead of the platform layer's candidates. */
  agentSocket?: string;
  /** Forward running containers' published ports to this computer (see SshMachineOptions.onPortForward). */
  onPortForward?: (state: PortForwardState) => void;
  /** The OS keychain (Electron's safeStorage): key passphrases answered with `remember: true` are kept there. */
  secretVault?: SecretVault;
}

export interface AddedMachine {
  view: SshMachineView;
  definition: SshMachineDefinition;
}

export class SshMachines extends StoredMachines<'ssh', SshMachine> {
  private readonly listeners = new Set<(event: RemoteMachineEvent) => void>();
  private readonly broker: PromptBroker;
  private readonly prompts: MachinePrompts;
  /** Passphrases the user opted to keep in the OS keychain. */
  readonly remembered: RememberedPassphrases;
  /** Open key-passphrase questions (by request id), and what the last answer for a machine's key asked. */
  private readonly passphraseQuestions = new Map<string, { machine: string; keyFile: string }>();
  private readonly rememberWanted = new Set<string>();

  private readonly facts: PlatformFacts;

  constructor(private readonly options: SshMachinesOptions) {
    const facts = options.facts ?? currentFacts();
    super(options.dataDir, facts, options.registry);
    this.facts = facts;
    this.remembered = new RememberedPassphrases(options.dataDir, options.secretVault, this.facts);
    this.broker = new PromptBroker((event) => {
      if (event.type === 'machine.secretPrompt' && event.kind === 'key-passphrase') {
        this.passphraseQuestions.set(event.requestId, { machine: event.machine, keyFile: event.subject });
      }
      this.emit(event);
    });
    this.prompts = options.prompts ?? this.broker;
    this.loadStored('ssh', (definition) => this.make(definition));
  }

  onEvent(listener: (event: RemoteMachineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The user's answer to a host-key or secret question sent as an event. */
  answer(params: PromptAnswerParams): void {
    const question = this.passphraseQuestions.get(params.requestId);
    if ('secret' in params && params.remember === true) {
      // Never in plain text: without the OS keychain, or for anything but a key passphrase, refused.
      if (!this.remembered.available) throw rememberNotAvailable();
      if (!question) {
        throw new OnggiError(
          ErrorCode.InvalidParams,
          'invalid_params',
          'only a key passphrase can be remembered (or the question is no longer waiting)',
          'params.remember',
        );
      }
    }
    this.broker.answer(params);
    if (!question) return;
    this.passphraseQuestions.delete(params.requestId);
    const key = rememberKey(question.machine, question.keyFile);
    if ('secret' in params && params.remember === true && params.secret !== null) this.rememberWanted.add(key);
    else this.rememberWanted.delete(key);
  }

  /** Where questions go (in-process answers, or events answered by request id): other providers ask through it too. */
  get questions(): MachinePrompts {
    return this.prompts;
  }

  views(): SshMachineView[] {
    return this.list().map((machine) => sshMachineView(machine.definition));
  }

  /**
   * Adds an SSH machine: resolves it (from ~/.ssh/config when asked), connects once — the host key
   * is checked (asked about, or accepted when `acceptNewHostKey`), the credentials must work —
   * then stores it. Nothing is deployed yet: that happens on first use.
   */
  async add(input: unknown): Promise<AddedMachine> {
    this.writable();
    const params = parseOrThrow(MachineAddSshParams, input, 'params');
    this.registry.checkNewName(params.name);
    const definition = await this.definitionFrom(params);
    const policy: HostKeyPolicy = params.acceptNewHostKey ? 'accept-new' : 'ask';
    const { target, jumps } = endpointsFor(definition, this.agents());
    const passphrases = this.passphraseCache(definition.name);
    try {
      const connection = await connectSsh({
        target,
        jumps,
        knownHosts: knownHostsFor(this.options.dataDir, this.options.userKnownHosts, this.facts),
        hostKeyPolicy: policy,
        askHostKey: (question) => this.prompts.hostKey({ machine: definition.name, ...question }),
        askPassphrase: (file, attempt) => this.prompts.secret({ machine: definition.name, kind: 'key-passphrase', subject: file, attempt }),
        passphraseCache: passphrases,
        facts: this.facts,
      });
      connection.close();
      await this.store.add(definition);
    } catch (error) {
      // Not added: nothing of it stays in the keychain file either.
      await this.remembered.forget(definition.name).catch(() => undefined);
      throw error;
    }
    // The passphrase just given stays with the machine (in memory, or the keychain) for its first use.
    this.keep(this.make(definition, passphrases));
    return { view: sshMachineView(definition), definition };
  }

  /** The concrete Host entries of ~/.ssh/config, each resolved as `add` with `fromSshConfig` would. */
  async configHosts(): Promise<SshConfigHostView[]> {
    const context = this.sshConfigContext();
    const views: SshConfigHostView[] = [];
    for (const alias of await listSshConfigHosts(context)) {
      const resolved = await resolveSshConfig(alias, context);
      views.push({
        alias,
        hostName: resolved.hostName,
        port: resolved.port,
        user: resolved.user,
        identityFiles: resolved.identityFilesExplicit ? resolved.identityFiles.map((file) => basename(file)) : [],
        // The hops as the config names them (an alias is resolved only when the machine is added).
        via: resolved.proxyJump.map((jump) => endpointLabel({ ...jump, port: jump.port ?? 22 })),
      });
    }
    return views;
  }

  /** Forgets a machine (its agent keeps running there; containers are not touched). */
  async remove(name: string): Promise<void> {
    this.writable();
    const machine = this.get(name);
    await machine?.close();
    // One only in the store is removed too: another process (the CLI beside the window) may have added it since this one loaded.
    if (!(await this.forget(name)) && !machine) {
      throw new OnggiError(ErrorCode.NotFound, 'not_found', `no machine named "${name}" was added`, 'params.machine');
    }
    await this.remembered.forget(name);
  }

  /** A machine's key passphrases: memory, plus the keychain for those the user asked to remember. */
  passphraseCache(machine: string): PassphraseCache {
    return this.remembered.cacheFor(machine, (keyFile) => this.rememberWanted.delete(rememberKey(machine, keyFile)));
  }

  async close(): Promise<void> {
    this.broker.cancelAll();
    this.passphraseQuestions.clear();
  }

  private make(definition: SshMachineDefinition, passphrases = this.passphraseCache(definition.name)): SshMachine {
    return new SshMachine(
      {
        definition,
        dataDir: this.options.dataDir,
        agentDir: this.options.agentDir,
        bundlesDir: this.options.bundlesDir,
        ...(this.options.stageRuntime ? { stageRuntime: this.options.stageRuntime } : {}),
        prompts: this.prompts,
        passphrases,
        ...(this.options.userKnownHosts ? { userKnownHosts: this.options.userKnownHosts } : {}),
        facts: this.facts,
        agents: this.agents(),
        onDeploy: (progress) => this.emit({ type: 'machine.deploy', ...progress }),
        onClock: (machine, clock) => this.emit({ type: 'machine.clock', machine, clock }),
        ...(this.options.onPortForward ? { onPortForward: this.options.onPortForward } : {}),
        onDefinition: this.storeDefinition,
      },
      this.options.onState,
      this.options.onAgentEvent,
    );
  }

  /** The ssh-agents to try, in order: the platform layer's, or the one a test names. */
  private agents(): string[] {
    const socket = this.options.agentSocket;
    if (socket !== undefined) return socket === '' ? [] : [socket];
    return sshAgentCandidates(this.facts);
  }

  /** A `~` path as the desktop spells it (`~\\.ssh\\key` on Windows too), against the configured home. */
  private expandHome(path: string): string {
    return expandHome(path, { os: this.facts.os, homedir: this.options.sshConfig?.home ?? this.facts.homedir });
  }

  private emit(event: RemoteMachineEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /**
   * The user to log in as when the user gave none: OpenSSH's default (the config's User, else the
   * account name). A Windows account name such as `John Doe` is no Linux user name: then the user
   * must be given, and the message says so rather than rejecting a name they never typed.
   */
  private defaultUser(name: string | undefined): string {
    if (name !== undefined && SshUser.safeParse(name).success) return name;
    throw new OnggiError(
      ErrorCode.InvalidParams,
      'user_required',
      name === undefined
        ? 'params.user: give the user to log in as on the machine (--user); your account name is unknown here'
        : `params.user: give the user to log in as on the machine (--user); the default, your account name "${name}", is not a user name Linux accepts (letters, digits, . _ - @)`,
      'params.user',
    );
  }

  private sshConfigContext(): SshConfigContext {
    const localUser = accountName(this.facts);
    return {
      ...(localUser !== undefined ? { localUser } : {}),
      ...(this.options.sshConfig?.file ? { file: this.options.sshConfig.file } : {}),
      ...(this.options.sshConfig?.home ? { home: this.options.sshConfig.home } : {}),
    };
  }

  private async definitionFrom(params: MachineAddSshParams): Promise<SshMachineDefinition> {
    const remote = { ...(params.remote ? { remote: params.remote } : {}), ...(params.clock ? { clock: params.clock } : {}) };
    if (params.fromSshConfig === undefined) {
      const input: SshMachineDefinitionInput = {
        provider: 'ssh',
        name: params.name,
        host: params.host ?? '',
        ...(params.port !== undefined ? { port: params.port } : {}),
        user: params.user ?? this.defaultUser(accountName(this.facts)),
        ...(params.identityFile ? { identityFile: this.expandHome(params.identityFile) } : {}),
        ...remote,
      };
      return parseOrThrow(SshMachineDefinition, input, 'params');
    }
    const context = this.sshConfigContext();
    const resolved = await resolveSshConfig(params.fromSshConfig, context);
    const firstKey = (files: string[], explicit: boolean): string | undefined =>
      explicit ? (files.find((file) => existsSync(file)) ?? files[0]) : undefined;
    const proxyJump: JumpHost[] = [];
    for (const jump of resolved.proxyJump) {
      const hop = await resolveSshConfig(jump.host, context);
      const key = firstKey(hop.identityFiles, hop.identityFilesExplicit);
      proxyJump.push({
        host: hop.hostName,
        port: jump.port ?? hop.port,
        user: jump.user ?? hop.user,
        ...(key ? { identityFile: key } : {}),
      });
    }
    const key = params.identityFile
      ? this.expandHome(params.identityFile)
      : firstKey(resolved.identityFiles, resolved.identityFilesExplicit);
    const input: SshMachineDefinitionInput = {
      provider: 'ssh',
      name: params.name,
      host: params.host ?? resolved.hostName,
      port: params.port ?? resolved.port,
      user: params.user ?? this.defaultUser(resolved.user),
      ...(key ? { identityFile: key } : {}),
      ...(resolved.identityAgent === 'none' ? { agent: false } : resolved.identityAgent ? { agent: resolved.identityAgent } : {}),
      proxyJump,
      sshConfigHost: params.fromSshConfig,
      ...remote,
    };
    return parseOrThrow(SshMachineDefinition, input, 'params');
  }
}

function rememberKey(machine: string, keyFile: string): string {
  return `${machine}\n${keyFile}`;
}
