import type { Duplex } from 'node:stream';
import { dockerSocketBeside } from '../../../../shared/docker-api.js';
// The `ssh` provider: any Linux host reachable over SSH (EC2 and the like). One SSH connection
// per machine carries everything: the agent link (the init helper's `dial` on an exec channel), terminals,
// SFTP for deploy, port forwards. Opened on demand; after the link drops the link keeper says `lost`
// and redials with backoff; dialling here redeploys only if the machine lost our agent. In-flight calls
// fail with the link and are never replayed, so nothing runs twice.
import type { MachineClock } from '../../../../shared/clock.js';
import { join } from 'node:path';
import { OnggiError } from '../../../../shared/errors.js';
import type { MachineSummary } from '../../../../shared/host-api.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import {
  RemoteLayout,
  type DeployProgress,
  type DeployReport,
  type PortForwardState,
  type SshMachineDefinition,
  type SshMachineView,
} from '../../../../shared/machines.js';
import type { AgentLink } from '../../agent/agent-link.js';
import { currentFacts, desktopPath, sshAgentCandidates, type PlatformFacts } from '../../platform/platform.js';
import { agentExecCommand, agentHoldArgs, deployAgent, type DeployResult, type RemotePaths } from '../../deploy/deploy.js';
import { agentContainerArgs } from '../agent-container-command.js';
import { openHeldTerminal, type HeldTerminal } from './held-terminal.js';
import { shellCommand } from './quote.js';
import { randomBytes } from 'node:crypto';
import type { RuntimeStager } from '../../deploy/runtime-staging.js';
import { knownSudoPassword, readsSudoPassword, sudoInput } from '../../deploy/sudo.js';
import { LinkKeeper, VERIFY_TIMEOUT_MS, type DialContext } from '../link-keeper.js';
import type { AgentEventListener, Machine, StateListener, Terminal, TerminalOptions } from '../machine.js';
import { KnownHosts } from './known-hosts.js';
import { forwardPort, type PortForward, type PortForwardSpec } from './port-forward.js';
import type { PassphraseCache } from './keys.js';
import type { MachinePrompts } from './prompts.js';
import { PublishedPorts } from './published-ports.js';
import { connectSsh, endpointLabel, type HostKeyPolicy, type SshConnection, type SshEndpoint } from './ssh-connection.js';
import { openCommandTerminal, openMachineTerminal } from './ssh-terminal.js';
import { downloadFile, uploadFile, type UploadedFile } from './upload.js';
import type { SharedFolder, ShareResolution } from '../../../../shared/shares.js';
import { ShareServing } from '../../shares/share-mount.js';
import { ShareEvents } from '../../shares/share-events.js';
import { shareRemovals } from '../../shares/machine-removals.js';
import { notShared, shareHolding } from '../../shares/shared-folders.js';

const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];

export interface SshMachineOptions {
  definition: SshMachineDefinition;
  /** The app's data dir: Onggi's own known_hosts lives there. */
  dataDir: string;
  agentDir: string;
  bundlesDir: string;
  /** Stages a runtime the deploy finds missing (a checkout's first deploy). */
  stageRuntime?: RuntimeStager;
  prompts: MachinePrompts;
  /** known_hosts files read besides Onggi's own (default ~/.ssh/known_hosts). */
  userKnownHosts?: string[];
  /** How an unknown host key is treated (default: ask). */
  hostKeyPolicy?: HostKeyPolicy;
  /** Vouches for (or refuses) a host key known_hosts does not list, instead of the policy (see SshConnectOptions). */
  vouchHostKey?: (key: Buffer) => Promise<void>;
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
  /** The machine's clock was measured or stepped (see clock-watch.ts; the definition's `clock` says which). */
  onClock?: (machine: string, clock: MachineClock) => void;
  /**
   * Stores a changed definition (new shares). Absent where another machine owns the stored
   * definition (a Vagrant VM's or EC2 instance's SSH machine: SshBackedMachine stores it).
   */
  onDefinition?: (definition: SshMachineDefinition) => Promise<void>;
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

/** What a deploy did, as the host API reports it (no link, no paths). */
export function deployReport(deployed: DeployResult): Omit<DeployReport, 'machine'> {
  const { arch, buildId, runtimeId, agentId, uploaded, uploadedBytes, restarted, removed, durationMs, timings } = deployed;
  return { arch, buildId, runtimeId, agentId, uploaded, uploadedBytes, restarted, removed, deployMs: Math.round(durationMs), timings };
}

export class SshMachine implements Machine {
  readonly provider = 'ssh' as const;
  readonly name: string;
  private readonly link: LinkKeeper;
  private connection: SshConnection | undefined;
  private sshConnecting: Promise<SshConnection> | undefined;
  private closed = false;
  private readonly passphrases: PassphraseCache;
  private readonly knownHosts: KnownHosts;
  private readonly forwards = new Set<PortForward>();
  private readonly published: PublishedPorts | undefined;
  private readonly facts: PlatformFacts;
  /** Terminals kept by the machine's holder: reattached whenever the link is back. */
  private readonly held = new Set<HeldTerminal>();
  /** The last deploy: where the agent is on the machine, what it cost. */
  lastDeploy: DeployResult | undefined;
  /** The desktop folders shared with this machine, served on each of its connections. */
  private readonly shares: ShareServing;
  /** The shares being served on the current connection (settles, never fails: see ShareServing.serve). */
  private serving: Promise<void> = Promise.resolve();
  /** Desktop file events of the shares mounted by this process, forwarded to the machine. */
  readonly shareEvents: ShareEvents;

  constructor(
    private readonly options: SshMachineOptions,
    onState: StateListener,
    onAgentEvent: AgentEventListener,
  ) {
    this.name = options.definition.name;
    this.facts = options.facts ?? currentFacts();
    this.passphrases = options.passphrases ?? new Map<string, string>();
    // One machine's notes of removals, for its share servers and its change events alike.
    const removals = shareRemovals();
    this.shares = new ShareServing(this.name, removals);
    this.shareEvents = new ShareEvents(this.facts, removals);
    this.knownHosts = knownHostsFor(options.dataDir, options.userKnownHosts, this.facts);
    const onPortForward = options.onPortForward;
    const published = onPortForward ? new PublishedPorts(this, onPortForward) : undefined;
    this.published = published;
    this.link = new LinkKeeper({
      machine: this.name,
      dial: (context) => this.dial(context),
      onState,
      onAgentEvent,
      clock: { policy: options.definition.clock, onChange: options.onClock ?? (() => undefined) },
      ...(published
        ? {
            onLink: (link: AgentLink) =>
              link.onEvent((event) => {
                // sync() reports its own failures (published-ports.ts); this only triggers it
                if (event.type === 'container.state') published.sync().catch(() => undefined);
              }),
          }
        : {}),
      onReady: () => {
        // sync() reports its own failures (published-ports.ts)
        published?.sync().catch(() => undefined);
        this.reattachTerminals();
      },
    });
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
    return { name: this.name, provider: this.provider, ...this.link.status() };
  }

  agent(): Promise<AgentLink> {
    return this.link.ensure();
  }

  clock(): Promise<MachineClock | undefined> {
    return this.link.clock();
  }

  async verifyLink(): Promise<void> {
    // Lost already: the sign of life that made us check is a reason to dial now, not at retryAt.
    this.link.retryNow();
    const connection = this.connection;
    // Dropping the SSH connection closes the agent's channel on it: the keeper sees the loss and redials.
    if (!(await this.link.verify()) && connection && this.connection === connection) {
      connection.abandon(
        new OnggiError(
          ErrorCode.Unavailable,
          'agent_unreachable',
          `${connection.label} did not answer within ${VERIFY_TIMEOUT_MS / 1000} s (this computer's network changed, or it woke from sleep)`,
        ),
      );
    }
  }

  view(): SshMachineView {
    return sshMachineView(this.options.definition);
  }

  /** Connects, deploys when the machine lacks this build's agent, and says what that took. */
  async deploy(): Promise<Omit<DeployReport, 'machine'>> {
    await this.agent();
    const deployed = this.lastDeploy;
    if (!deployed) throw new OnggiError(ErrorCode.Unavailable, 'agent_unreachable', `the agent on ${this.name} is not deployed`);
    return deployReport(deployed);
  }

  async upload(file: string, onProgress: (bytes: number, total: number) => void): Promise<UploadedFile> {
    return uploadFile(await this.ssh(), file, onProgress);
  }

  async download(localPath: string, produce: (remotePath: string) => Promise<unknown>): Promise<void> {
    await downloadFile(await this.ssh(), localPath, produce);
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
      if (!options.attach && (!options.command || options.command.length === 0)) {
        throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'a command is needed to run in a container', 'params.command');
      }
      await this.agent(); // deployed, current, and we know where it is
      const deployed = this.lastDeploy;
      if (!deployed) throw new OnggiError(ErrorCode.Unavailable, 'agent_unreachable', `the agent on ${this.name} is not deployed`);
      const connection = await this.ssh();
      const containerArgs = agentContainerArgs(deployed.paths.socket, options.container, options.command ?? [], {
        tty: options.tty,
        ...(options.attach ? { attach: options.attach } : {}),
      });
      const command = agentExecCommand(deployed.paths, options.container, options.command ?? [], {
        tty: options.tty,
        ...(options.attach ? { attach: options.attach } : {}),
      });
      if (!readsSudoPassword(deployed.paths.privilege)) {
        // A command with a terminal outlives the link (an attach already does: the console is the container's).
        if (options.tty && options.keep && !options.attach) {
          return this.holdTerminal(deployed.paths, options, [deployed.paths.node, deployed.paths.agent, ...containerArgs]);
        }
        return openCommandTerminal(connection, command, options);
      }
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
    if (options.tty && options.keep) {
      // The machine's own shell is kept by the agent (as the login user, no privilege) when it can
      // be reached; a machine whose agent cannot be deployed still gets a plain SSH shell.
      const deployed = await this.agent().then(
        () => this.lastDeploy,
        () => undefined,
      );
      if (deployed) return this.holdTerminal({ ...deployed.paths, privilege: [] }, options, [...(options.command ?? [])]);
    }
    return openMachineTerminal(await this.ssh(), options);
  }

  /** A terminal whose command the agent's holder keeps across links (held-terminal.ts). */
  private async holdTerminal(paths: RemotePaths, options: TerminalOptions, command: readonly string[]): Promise<Terminal> {
    const id = `term-${randomBytes(9).toString('hex')}`;
    const cols = options.cols ?? 80;
    const rows = options.rows ?? 24;
    const open = async (from: number, reattach: boolean) =>
      (await this.ssh()).execChannel(shellCommand(agentHoldArgs(paths, id, { from, reattach, cols, rows, command })));
    const terminal = await openHeldTerminal(open, { cols, rows }, (detached) => {
      // The channel closed under a link that still answers (its process ended): attach again now;
      // after a lost link, onReady does it (a failure here waits for that).
      if (this.link.current) detached.reattach().catch(() => undefined);
    });
    this.held.add(terminal);
    void terminal.exit.then(() => this.held.delete(terminal));
    return terminal;
  }

  private reattachTerminals(): void {
    // A session the machine no longer has ends with its own message (held-terminal.ts).
    for (const terminal of this.held) if (!terminal.attached) terminal.reattach().catch(() => undefined);
  }

  /** Where the agent's run dir is on the machine (shares are mounted under it). */
  private runDir(): string {
    return RemoteLayout.parse(this.options.definition.remote ?? {}).runDir;
  }

  sharedFolders(): SharedFolder[] {
    return this.options.definition.shares;
  }

  /**
   * Takes a new list of shared folders (stored first, see `onDefinition`): serves the added ones on
   * the live connection; unmounts the removed ones on the machine (lazily: a container using one sees it go).
   */
  async setShares(shares: SharedFolder[]): Promise<void> {
    const before = this.options.definition.shares;
    const definition = { ...this.options.definition, shares };
    await this.options.onDefinition?.(definition);
    this.options.definition = definition;
    const connection = this.connection;
    if (!connection || connection.closed) return;
    await this.shares.serve(connection, this.runDir(), shares);
    const removed = before.filter((old) => !shares.some((share) => share.path === old.path));
    const deployed = this.lastDeploy;
    for (const share of removed) {
      this.shareEvents.unwatch(share.path);
      if (deployed)
        await this.shares.unmount(
          { connection, paths: deployed.paths, runDir: this.runDir(), user: this.options.definition.user },
          share.path,
        );
      else await this.shares.stop(connection, this.runDir(), share.path);
    }
  }

  /**
   * Where the machine sees a desktop path: the shared folder holding it is mounted there (once; a
   * mount made earlier, even by another Onggi process, is reused). A path in no shared folder is
   * refused with the command that would share it.
   */
  async resolveShare(desktopPath: string): Promise<ShareResolution> {
    const holding = shareHolding(this.options.definition.shares, desktopPath, this.facts);
    if (!holding) throw notShared(this.name, desktopPath, this.facts);
    await this.agent(); // deployed: the mount's `dial` is the init helper's, beside the agent
    const deployed = this.lastDeploy;
    if (!deployed) throw new OnggiError(ErrorCode.Unavailable, 'agent_unreachable', `the agent on ${this.name} is not deployed`);
    const connection = await this.ssh();
    await this.serving;
    const target = { connection, paths: deployed.paths, runDir: this.runDir(), user: this.options.definition.user };
    const mountpoint = await this.shares.mount(target, holding.share);
    this.shareEvents.watch(holding.share, mountpoint, target);
    return { desktopPath: holding.path, share: holding.share, machinePath: [mountpoint, ...holding.parts].join('/') };
  }

  /** The helper's `dial` to the Docker API socket, over an exec channel of this machine's connection (sudo as the agent's). */
  async dialDocker(): Promise<Duplex> {
    await this.agent(); // deployed, current, and we know where it is
    const deployed = this.lastDeploy;
    if (!deployed) throw new OnggiError(ErrorCode.Unavailable, 'agent_unreachable', `the agent on ${this.name} is not deployed`);
    const connection = await this.ssh();
    const { paths } = deployed;
    const channel = await connection.execChannel(
      shellCommand([...paths.privilege, paths.helper, 'dial', dockerSocketBeside(paths.socket)]),
    );
    if (readsSudoPassword(paths.privilege)) {
      const password = knownSudoPassword(connection);
      if (password === undefined)
        throw new OnggiError(
          ErrorCode.Forbidden,
          'sudo_password_required',
          `${this.name}: the Docker API needs the sudo password the agent link was opened with`,
        );
      channel.write(sudoInput(password));
    }
    return channel;
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
    this.shareEvents.close();
    this.link.close();
    await this.published?.close();
    await Promise.all([...this.forwards].map((forward) => forward.close()));
    this.connection?.close();
  }

  private async openSsh(): Promise<SshConnection> {
    const { target, jumps } = endpointsFor(this.options.definition, this.options.agents ?? sshAgentCandidates(this.facts));
    const connection = await connectSsh({
      target,
      jumps,
      knownHosts: this.knownHosts,
      hostKeyPolicy: this.options.hostKeyPolicy ?? 'ask',
      ...(this.options.vouchHostKey ? { vouchHostKey: this.options.vouchHostKey } : {}),
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
    // The agent link rides on this connection; its close reports the loss to the link keeper.
    connection.onClose(() => {
      if (this.connection === connection) this.connection = undefined;
    });
    // The shares' mounts on the machine reconnect through this connection from now on (share-mount.ts);
    // a share that cannot be served is reported when a container asks for it.
    this.serving = this.shares.serve(connection, this.runDir(), this.options.definition.shares);
    if (this.lastDeploy)
      this.shareEvents.retarget({ connection, paths: this.lastDeploy.paths, runDir: this.runDir(), user: this.options.definition.user });
    return connection;
  }

  /** How the link keeper dials: the SSH connection, deploy (uploading only what is missing), the helper's `dial`. */
  private async dial({ replaceOtherBuild, progress }: DialContext): Promise<AgentLink> {
    const connection = await this.ssh();
    progress('deploying');
    const deployed = await deployAgent({
      connection,
      machine: this.name,
      layout: RemoteLayout.parse(this.options.definition.remote ?? {}),
      agentDir: this.options.agentDir,
      bundlesDir: this.options.bundlesDir,
      ...(this.options.stageRuntime ? { stageRuntime: this.options.stageRuntime } : {}),
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
    this.lastDeploy = deployed;
    return deployed.link;
  }
}
