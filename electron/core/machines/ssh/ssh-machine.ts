// The `ssh` provider: any Linux host reachable over SSH (EC2 and the like). One SSH connection
// per machine carries everything: the agent link (`agent dial` on an exec channel), terminals,
// SFTP for deploy, port forwards. Opened on demand; after the link drops the machine says `lost`
// and reconnects with backoff, redeploying only if the machine lost our agent. In-flight calls
// fail with the link and are never replayed, so nothing runs twice.
import { join } from 'node:path';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import type { MachineState, MachineSummary } from '../../../../shared/host-api.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import {
  RemoteLayout,
  type DeployProgress,
  type PortForwardState,
  type SshMachineDefinition,
  type SshMachineView,
} from '../../../../shared/machines.js';
import type { AgentLink } from '../../agent/agent-link.js';
import { currentFacts, desktopPath, sshAgentCandidates, type PlatformFacts } from '../../platform/platform.js';
import { agentExecCommand, deployAgent, type DeployResult } from '../../deploy/deploy.js';
import { knownSudoPassword, readsSudoPassword, sudoInput } from '../../deploy/sudo.js';
import type { AgentEventListener, Machine, StateListener, Terminal, TerminalOptions } from '../machine.js';
import { KnownHosts } from './known-hosts.js';
import { forwardPort, type PortForward, type PortForwardSpec } from './port-forward.js';
import type { PassphraseCache } from './keys.js';
import type { MachinePrompts } from './prompts.js';
import { PublishedPorts } from './published-ports.js';
import { connectSsh, endpointLabel, type HostKeyPolicy, type SshConnection, type SshEndpoint } from './ssh-connection.js';
import { openCommandTerminal, openMachineTerminal } from './ssh-terminal.js';

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];
/** Failures a retry cannot fix until the user acts. */
const FINAL_KINDS = new Set([
  'host_key_changed',
  'host_key_revoked',
  'host_key_unknown',
  'ssh_auth_failed',
  'ssh_no_credentials',
  'wrong_passphrase',
  'passphrase_cancelled',
  'key_unreadable',
  'key_invalid',
  'other_build',
  'unsupported_target',
  'sudo_password_required',
  'sudo_password_cancelled',
  'sudo_wrong_password',
  'sudo_refused',
  'sudo_absent',
  'runtime_bundle_missing',
  'agent_bundle_missing',
]);

const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];

export interface SshMachineOptions {
  definition: SshMachineDefinition;
  /** The app's data dir: Onggi's own known_hosts lives there. */
  dataDir: string;
  agentDir: string;
  bundlesDir: string;
  prompts: MachinePrompts;
  /** known_hosts files read besides Onggi's own (default ~/.ssh/known_hosts). */
  userKnownHosts?: string[];
  /** How an unknown host key is treated (default: ask). */
  hostKeyPolicy?: HostKeyPolicy;
  /** The ssh-agents tried when the definition says `agent: true` (default: the platform layer's candidates). */
  agents?: string[];
  /** The desktop's facts (default: this process's). */
  facts?: PlatformFacts;
  onDeploy?: (progress: DeployProgress) => void;
  keepaliveIntervalMs?: number;
  /**
   * Forward running containers' published ports to this computer's 127.0.0.1, following their
   * state (the app and browser mode; not a one-shot CLI command, whose forwards would die with it).
   */
  onPortForward?: (state: PortForwardState) => void;
  /** Where the passphrases the user gives are kept (default: memory only). */
  passphrases?: PassphraseCache;
}

export function knownHostsFor(dataDir: string, userKnownHosts: string[] | undefined, facts: PlatformFacts): KnownHosts {
  return new KnownHosts({
    own: join(dataDir, 'known_hosts'),
    readOnly: userKnownHosts ?? [desktopPath(facts).join(facts.homedir, '.ssh', 'known_hosts')],
  });
}

/** The endpoints to connect through, from a stored definition. */
export function endpointsFor(definition: SshMachineDefinition, agentCandidates: string[]): { target: SshEndpoint; jumps: SshEndpoint[] } {
  const agents = definition.agent === true ? agentCandidates : definition.agent === false ? [] : [definition.agent];
  const keys = (file: string | undefined): Pick<SshEndpoint, 'identityFiles' | 'identityFilesRequired'> =>
    file ? { identityFiles: [file], identityFilesRequired: true } : { identityFiles: DEFAULT_IDENTITY_FILES, identityFilesRequired: false };
  return {
    target: {
      host: definition.host,
      port: definition.port,
      user: definition.user,
      ...keys(definition.identityFile),
      ...(agents.length > 0 ? { agents } : {}),
    },
    jumps: definition.proxyJump.map((jump) => ({
      host: jump.host,
      port: jump.port,
      user: jump.user,
      ...keys(jump.identityFile ?? definition.identityFile),
      ...(agents.length > 0 ? { agents } : {}),
    })),
  };
}

export function sshMachineView(definition: SshMachineDefinition): SshMachineView {
  return {
    name: definition.name,
    provider: 'ssh',
    host: definition.host,
    port: definition.port,
    user: definition.user,
    via: definition.proxyJump.map((jump) => endpointLabel(jump)),
    ...(definition.sshConfigHost ? { sshConfigHost: definition.sshConfigHost } : {}),
  };
}

export class SshMachine implements Machine {
  readonly provider = 'ssh' as const;
  readonly name: string;
  private state: MachineState = 'stopped';
  private lastError: string | undefined;
  /** When the scheduled reconnect fires (epoch ms); undefined when none is scheduled. */
  private retryAt: number | undefined;
  private link: AgentLink | undefined;
  private connecting: Promise<AgentLink> | undefined;
  private connection: SshConnection | undefined;
  private sshConnecting: Promise<SshConnection> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private closed = false;
  private readonly passphrases: PassphraseCache;
  private readonly knownHosts: KnownHosts;
  private readonly forwards = new Set<PortForward>();
  private readonly published: PublishedPorts | undefined;
  private readonly facts: PlatformFacts;
  /** The last deploy: where the agent is on the machine, what it cost. */
  lastDeploy: DeployResult | undefined;

  constructor(
    private readonly options: SshMachineOptions,
    private readonly onState: StateListener,
    private readonly onAgentEvent: AgentEventListener,
  ) {
    this.name = options.definition.name;
    this.facts = options.facts ?? currentFacts();
    this.passphrases = options.passphrases ?? new Map<string, string>();
    this.knownHosts = knownHostsFor(options.dataDir, options.userKnownHosts, this.facts);
    const onPortForward = options.onPortForward;
    this.published = onPortForward ? new PublishedPorts(this, onPortForward) : undefined;
  }

  /** The published ports forwarded to this computer now (when forwarding is on). */
  publishedPorts(): ReturnType<PublishedPorts['list']> {
    return this.published?.list() ?? [];
  }

  /** Reconciles the published-port forwards with the machine's running containers now. */
  syncPublishedPorts(): Promise<void> {
    return this.published?.sync() ?? Promise.resolve();
  }

  get definition(): SshMachineDefinition {
    return this.options.definition;
  }

  /** Keeps a passphrase the user gave (e.g. while adding the machine) for this machine's connections; memory only. */
  rememberPassphrase(keyFile: string, passphrase: string): void {
    // memory only: set() cannot fail in a way worth more than not remembering
    void Promise.resolve(this.passphrases.set(keyFile, passphrase)).catch(() => undefined);
  }

  summary(): MachineSummary {
    return {
      name: this.name,
      provider: this.provider,
      state: this.state,
      ...(this.lastError ? { error: this.lastError } : {}),
      ...(this.retryAt !== undefined ? { retryAt: this.retryAt } : {}),
    };
  }

  agent(): Promise<AgentLink> {
    return this.ensureLink(true);
  }

  /** The machine's SSH connection (for uploads and forwards), connecting when there is none. */
  sshConnection(): Promise<SshConnection> {
    return this.ssh();
  }

  /** The machine's SSH connection (connecting when there is none), without deploying. */
  ssh(): Promise<SshConnection> {
    if (this.connection && !this.connection.closed) return Promise.resolve(this.connection);
    this.sshConnecting ??= this.openSsh().finally(() => {
      this.sshConnecting = undefined;
    });
    return this.sshConnecting;
  }

  execCommand(): Promise<{ command: string; args: string[]; env: Record<string, string> }> {
    return Promise.reject(
      new OnggiError(
        ErrorCode.OperationFailed,
        'use_terminal',
        `${this.name} is reached over SSH: open a terminal (Machine.openTerminal) instead of a local process`,
      ),
    );
  }

  async openTerminal(options: TerminalOptions): Promise<Terminal> {
    if (options.container !== undefined) {
      if (!options.command || options.command.length === 0) {
        throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'a command is needed to run in a container', 'params.command');
      }
      await this.agent(); // deployed, current, and we know where it is
      const deployed = this.lastDeploy;
      if (!deployed) throw new OnggiError(ErrorCode.Unavailable, 'agent_unreachable', `the agent on ${this.name} is not deployed`);
      const connection = await this.ssh();
      const command = agentExecCommand(deployed.paths, options.container, options.command, { tty: options.tty });
      if (!readsSudoPassword(deployed.paths.privilege)) return openCommandTerminal(connection, command, options);
      // sudo -S: its password line first. Not into a PTY: the line discipline would echo it
      // before sudo turns echo off.
      const password = knownSudoPassword(connection);
      if (options.tty || password === undefined) {
        throw new OnggiError(
          ErrorCode.Forbidden,
          'sudo_password_required',
          `${this.name}: container terminals with a PTY need root without a password prompt (root login or passwordless sudo)`,
        );
      }
      const terminal = await openCommandTerminal(connection, command, options);
      terminal.stream.write(sudoInput(password));
      return terminal;
    }
    return openMachineTerminal(await this.ssh(), options);
  }

  /** Forwards 127.0.0.1:localPort here to remoteHost:remotePort on the machine, across reconnects. */
  async forwardPort(spec: PortForwardSpec): Promise<PortForward> {
    const forward = await forwardPort(
      () => this.ssh(),
      spec,
      () => this.forwards.delete(forward),
      this.facts,
    );
    this.forwards.add(forward);
    return forward;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.published?.close();
    await Promise.all([...this.forwards].map((forward) => forward.close()));
    this.link?.close();
    this.connection?.close();
  }

  private ensureLink(replaceOtherBuild: boolean): Promise<AgentLink> {
    if (this.link && !this.link.isClosed) return Promise.resolve(this.link);
    this.connecting ??= this.connect(replaceOtherBuild).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async openSsh(): Promise<SshConnection> {
    const { target, jumps } = endpointsFor(this.options.definition, this.options.agents ?? sshAgentCandidates(this.facts));
    const connection = await connectSsh({
      target,
      jumps,
      knownHosts: this.knownHosts,
      hostKeyPolicy: this.options.hostKeyPolicy ?? 'ask',
      askHostKey: (question) => this.options.prompts.hostKey({ machine: this.name, ...question }),
      askPassphrase: (file, attempt) => this.options.prompts.secret({ machine: this.name, kind: 'key-passphrase', subject: file, attempt }),
      passphraseCache: this.passphrases,
      facts: this.facts,
      ...(this.options.keepaliveIntervalMs !== undefined ? { keepaliveIntervalMs: this.options.keepaliveIntervalMs } : {}),
    });
    if (this.closed) {
      connection.close();
      throw new OnggiError(ErrorCode.Unavailable, 'closing', 'the host core is closing');
    }
    this.connection = connection;
    connection.onClose((error) => {
      if (this.connection === connection) this.connection = undefined;
      // The agent link rides on this connection; its close reports the loss.
      if (!this.link) return;
      if (error) this.lastError = errorMessage(error);
    });
    return connection;
  }

  private async connect(replaceOtherBuild: boolean): Promise<AgentLink> {
    clearTimeout(this.retryTimer);
    this.setState('connecting');
    try {
      const connection = await this.ssh();
      this.setState('deploying');
      const deployed = await deployAgent({
        connection,
        machine: this.name,
        layout: RemoteLayout.parse(this.options.definition.remote ?? {}),
        agentDir: this.options.agentDir,
        bundlesDir: this.options.bundlesDir,
        replaceOtherBuild,
        askSudoPassword: (attempt) =>
          this.options.prompts.secret({
            machine: this.name,
            kind: 'sudo-password',
            subject: `${this.options.definition.user}@${this.options.definition.host}`,
            attempt,
          }),
        ...(this.options.onDeploy ? { onProgress: this.options.onDeploy } : {}),
      });
      const link = deployed.link;
      if (this.closed) {
        link.close();
        throw new OnggiError(ErrorCode.Unavailable, 'closing', 'the host core is closing');
      }
      this.lastDeploy = deployed;
      this.link = link;
      this.attempts = 0;
      link.onClose((error) => this.lost(link, error));
      link.onEvent((event) => this.onAgentEvent(this.name, event));
      const published = this.published;
      if (published) {
        link.onEvent((event) => {
          // sync() reports its own failures (published-ports.ts); this only triggers it
          if (event.type === 'container.state') published.sync().catch(() => undefined);
        });
      }
      await link.call('events.subscribe', {});
      this.setState('ready');
      // Containers that run already (or started while the link was down) get their forwards.
      published?.sync().catch(() => undefined);
      return link;
    } catch (error) {
      this.setState('error', errorMessage(error));
      throw error;
    }
  }

  private lost(link: AgentLink, error: Error): void {
    if (this.link !== link) return;
    this.link = undefined;
    if (this.closed) return;
    this.lastError = errorMessage(error);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = BACKOFF_MS[Math.min(this.attempts, BACKOFF_MS.length - 1)] ?? 30_000;
    this.attempts += 1;
    // Between attempts the machine is lost (not in error: that is for what a retry cannot fix).
    this.setState('lost', this.lastError, Date.now() + delay);
    this.retryTimer = setTimeout(() => {
      this.ensureLink(false).catch((error: unknown) => {
        if (!this.closed && !(error instanceof OnggiError && FINAL_KINDS.has(error.kind))) this.scheduleReconnect();
      });
    }, delay);
    // A background retry must not keep a finished CLI command alive.
    this.retryTimer.unref();
  }

  private setState(state: MachineState, error?: string, retryAt?: number): void {
    this.state = state;
    this.lastError = error;
    this.retryAt = retryAt;
    this.onState(this.name, state, error, retryAt);
  }
}
