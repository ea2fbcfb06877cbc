// The `local` provider: this Linux host's own kernel, no VM. The link to its agent is opened on
// demand, and reopened with backoff when it drops (daemon restarted, upgraded, killed): the link
// keeper does that; this file says how to dial (the daemon's unix socket) and how to run a terminal.
import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import { dockerSocketBeside } from '../../../../shared/docker-api.js';
import type { MachineSummary } from '../../../../shared/host-api.js';
import { OnggiError } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import type { AgentLink } from '../../agent/agent-link.js';
import type { AgentEventListener, Machine, StateListener, Terminal, TerminalOptions } from '../machine.js';
import { LinkKeeper } from '../link-keeper.js';
import { agentContainerArgs, type ContainerAttach } from '../agent-container-command.js';
import { openLocalTerminal } from './local-terminal.js';
import { readAgentBundle } from '../../agent/agent-bundle.js';
import { connectLocalAgent, socketPathIn, type LocalDaemonOptions } from './local-daemon.js';

export class LocalMachine implements Machine {
  readonly name = 'local';
  readonly provider = 'local' as const;
  private readonly link: LinkKeeper;

  constructor(
    private readonly options: LocalDaemonOptions,
    onState: StateListener,
    onAgentEvent: AgentEventListener,
  ) {
    this.link = new LinkKeeper({
      machine: this.name,
      dial: ({ replaceOtherBuild }) => connectLocalAgent(this.options, { replaceOtherBuild }),
      onState,
      onAgentEvent,
    });
  }

  summary(): MachineSummary {
    return { name: this.name, provider: this.provider, ...this.link.status() };
  }

  agent(): Promise<AgentLink> {
    return this.link.ensure();
  }

  async execCommand(container: string, command: readonly string[], options: { tty?: boolean; attach?: ContainerAttach } = {}) {
    await this.agent(); // the daemon must be up (and ours) for the exec entry to ask it
    const bundle = await readAgentBundle(this.options.agentDir);
    return {
      command: this.options.nodeRuntime.command,
      args: [
        ...(this.options.nodeRuntime.args ?? []),
        bundle.entry,
        ...agentContainerArgs(socketPathIn(this.options.runDir), container, command, options),
      ],
      env: this.options.nodeRuntime.env ?? {},
    };
  }

  /** A container command through `agent exec`, or a shell (or command) on this host, in a PTY when asked. */
  async openTerminal(options: TerminalOptions): Promise<Terminal> {
    if (options.container !== undefined) {
      if (!options.attach && (!options.command || options.command.length === 0)) {
        throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'a command is needed to run in a container', 'params.command');
      }
      const far = { tty: options.tty, ...(options.attach ? { attach: options.attach } : {}) };
      return openLocalTerminal(await this.execCommand(options.container, options.command ?? [], far), options);
    }
    const [command, ...args] = options.command?.length ? options.command : [process.env.SHELL || '/bin/sh'];
    return openLocalTerminal({ command: command ?? '/bin/sh', args, env: {} }, options);
  }

  async dialDocker(): Promise<Duplex> {
    await this.agent(); // the daemon (which serves the Docker API) must be up, and ours
    const socket = createConnection(dockerSocketBeside(socketPathIn(this.options.runDir)));
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
  }

  async close(): Promise<void> {
    this.link.close();
  }
}
