// The `local` provider: this Linux host's own kernel, no VM. The link to its agent is opened on
// demand, and reopened with backoff when it drops (daemon restarted, upgraded, killed).
import type { MachineState, MachineSummary } from '../../../../shared/host-api.js';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import type { AgentLink } from '../../agent/agent-link.js';
import type { AgentEventListener, Machine, StateListener, Terminal, TerminalOptions } from '../machine.js';
import { openLocalTerminal } from './local-terminal.js';
import { readAgentBundle } from '../../agent/agent-bundle.js';
import { connectLocalAgent, socketPathIn, type LocalDaemonOptions } from './local-daemon.js';

const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];

export class LocalMachine implements Machine {
  readonly name = 'local';
  readonly provider = 'local' as const;
  private state: MachineState = 'stopped';
  private lastError: string | undefined;
  private link: AgentLink | undefined;
  private connecting: Promise<AgentLink> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private closed = false;

  constructor(
    private readonly options: LocalDaemonOptions,
    private readonly onState: StateListener,
    private readonly onAgentEvent: AgentEventListener,
  ) {}

  summary(): MachineSummary {
    return { name: this.name, provider: this.provider, state: this.state, ...(this.lastError ? { error: this.lastError } : {}) };
  }

  agent(): Promise<AgentLink> {
    return this.ensureLink(true);
  }

  private ensureLink(replaceOtherBuild: boolean): Promise<AgentLink> {
    if (this.link && !this.link.isClosed) return Promise.resolve(this.link);
    this.connecting ??= this.connect(replaceOtherBuild).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async execCommand(container: string, command: readonly string[], options: { tty?: boolean } = {}) {
    await this.agent(); // the daemon must be up (and ours) for the exec entry to ask it
    const bundle = await readAgentBundle(this.options.agentDir);
    return {
      command: this.options.nodeRuntime.command,
      args: [
        ...(this.options.nodeRuntime.args ?? []),
        bundle.entry,
        'exec',
        '--socket',
        socketPathIn(this.options.runDir),
        ...(options.tty ? ['--tty'] : []),
        container,
        '--',
        ...command,
      ],
      env: this.options.nodeRuntime.env ?? {},
    };
  }

  /** A container command through `agent exec`, or a shell (or command) on this host, in a PTY when asked. */
  async openTerminal(options: TerminalOptions): Promise<Terminal> {
    if (options.container !== undefined) {
      if (!options.command || options.command.length === 0) {
        throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'a command is needed to run in a container', 'params.command');
      }
      return openLocalTerminal(await this.execCommand(options.container, options.command, { tty: options.tty }), options);
    }
    const [command, ...args] = options.command?.length ? options.command : [process.env.SHELL || '/bin/sh'];
    return openLocalTerminal({ command: command ?? '/bin/sh', args, env: {} }, options);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.link?.close();
  }

  private async connect(replaceOtherBuild: boolean): Promise<AgentLink> {
    clearTimeout(this.retryTimer);
    this.setState('connecting');
    try {
      const link = await connectLocalAgent(this.options, { replaceOtherBuild });
      if (this.closed) {
        link.close();
        throw new Error('the host core is closing');
      }
      this.link = link;
      this.attempts = 0;
      link.onClose((error) => this.lost(error));
      // Subscribed anew on every connection: a restarted agent knows no old subscriptions.
      link.onEvent((event) => this.onAgentEvent(this.name, event));
      await link.call('events.subscribe', {});
      this.setState('ready');
      return link;
    } catch (error) {
      this.setState('error', errorMessage(error));
      throw error;
    }
  }

  private lost(error: Error): void {
    this.link = undefined;
    if (this.closed) return;
    this.setState('lost', errorMessage(error));
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = BACKOFF_MS[Math.min(this.attempts, BACKOFF_MS.length - 1)] ?? 30_000;
    this.attempts += 1;
    this.retryTimer = setTimeout(() => {
      this.ensureLink(false).catch((error: unknown) => {
        // Another build took the daemon over: retrying cannot help until the user acts.
        if (!this.closed && !(error instanceof OnggiError && error.kind === 'other_build')) this.scheduleReconnect();
      });
    }, delay);
    // A background retry must not keep a finished CLI command alive.
    this.retryTimer.unref();
  }

  private setState(state: MachineState, error?: string): void {
    this.state = state;
    this.lastError = error;
    this.onState(this.name, state, error);
  }
}
