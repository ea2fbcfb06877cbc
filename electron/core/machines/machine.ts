import type { Duplex, Readable } from 'node:stream';
import type { AgentEvent } from '../../../shared/agent-rpc.js';
import type { MachineClock } from '../../../shared/clock.js';
import type { MachineState, MachineSummary } from '../../../shared/host-api.js';
import type { DeployReport, MachineView } from '../../../shared/machines.js';
import type { SharedFolder, ShareResolution } from '../../../shared/shares.js';
import type { AgentLink } from '../agent/agent-link.js';
import type { UploadedFile } from './ssh/upload.js';
import type { ContainerAttach } from './agent-container-command.js';

/**
 * A place containers run. Providers differ in how they start and how they reach the agent; what
 * only some kinds can do is an optional method here (absent: that kind has no such thing), so
 * callers ask the machine, never its class.
 */
export interface Machine {
  readonly name: string;
  readonly provider: MachineSummary['provider'];
  summary(): MachineSummary;
  /** Where the machine is, for `machines.describe`; absent for the local machine (this host). */
  view?(): MachineView;
  /** Asks the provider what `view` shows now (EC2: DescribeInstances); absent where the view is all stored. */
  refresh?(): Promise<void>;
  /** Boots the machine (Vagrant: `vagrant up`); absent where there is nothing to start. */
  start?(): Promise<{ state: string }>;
  /** Shuts the machine down (Vagrant: `vagrant halt`); absent where there is nothing to stop. */
  stop?(): Promise<void>;
  /** Connects and makes sure the machine runs this build of the agent; absent where the agent is not deployed (local). */
  deploy?(): Promise<Omit<DeployReport, 'machine'>>;
  /** Copies a file of this computer onto the machine (remote machines; the local one reads it in place). */
  upload?(file: string, onProgress: (bytes: number, total: number) => void): Promise<UploadedFile>;
  /**
   * Runs `produce` with a path on the machine for a file the agent writes there, and copies that
   * file to `localPath` on this computer (remote machines; the local agent writes it in place).
   */
  download?(localPath: string, produce: (remotePath: string) => Promise<unknown>): Promise<void>;
  /** A ready, handshaken link to the machine's agent, connecting (and deploying) on demand. */
  agent(): Promise<AgentLink>;
  /**
   * Checks that the link still answers and drops it when it does not, so it is dialled again now
   * rather than when the keepalive gives up (after a network change or a wake from sleep);
   * absent where no network lies between (this computer).
   */
  verifyLink?(): Promise<void>;
  /**
   * The desktop folders shared with the machine (reverse SFTP over its SSH link into sharefs, shares/); absent
   * where containers bind this computer's folders as they are (local). The three come together.
   */
  sharedFolders?(): SharedFolder[];
  /** Stores a new list of shared folders with the machine's definition and serves it on the live link. */
  setShares?(shares: SharedFolder[]): Promise<void>;
  /** Where the machine sees a desktop path: its shared folder mounted there (see SshMachine.resolveShare). */
  resolveShare?(desktopPath: string): Promise<ShareResolution>;
  /** The machine's clock against the desktop's, as last measured; absent for this computer (one clock). */
  clock?(): Promise<MachineClock | undefined>;
  close(): Promise<void>;
  /**
   * The command that runs `command` inside a container with the container's own namespaces,
   * cgroup and security settings, with stdio attached to whatever runs it (a terminal, a PTY).
   * Terminals are not JSON-RPC: they are processes (local) or SSH channels (remote).
   * With `tty` the command gets a pty of the container's own (`docker exec -t`), relayed to that
   * stdio, whose terminal size it follows.
   */
  execCommand(
    container: string,
    command: readonly string[],
    options?: { tty?: boolean; attach?: ContainerAttach },
  ): Promise<{ command: string; args: string[]; env: Record<string, string> }>;
  /**
   * A terminal on the machine: a command in a container (`agent exec`, the container's own
   * namespaces, cgroup and security settings), or a shell on the machine itself when no container
   * is named. Local: a process (a PTY with `tty`); SSH: a channel (with a PTY and window-change).
   */
  openTerminal(options: TerminalOptions): Promise<Terminal>;
  /**
   * A byte stream to the machine's Docker API socket (one per docker client connection): the
   * socket itself here, the init helper's `dial` to it over SSH elsewhere (root only there, as the agent's).
   */
  dialDocker(): Promise<Duplex>;
  /**
   * Opens this computer's forwards of the published ports of the machine's running containers now
   * (the Docker API forward holds a start's answer until then); absent where the ports are this
   * computer's own already (local).
   */
  syncPublishedPorts?(): Promise<void>;
}

export interface TerminalOptions {
  /** The container to run in; absent: the machine itself (its login shell when no command is given). */
  container?: string;
  /** The command and its arguments; required with a container unless attaching. */
  command?: readonly string[];
  /** The container's own console instead of a new command (`docker attach`). */
  attach?: ContainerAttach;
  /** Give the command a terminal (PTY): what interactive shells and `exec -t` want. */
  tty: boolean;
  cols?: number;
  rows?: number;
  /** $TERM for the PTY (default xterm-256color). */
  term?: string;
  /**
   * Keep the command running across a dropped link and reattach with what it printed meanwhile
   * (the window's sessions). Where a link can drop (SSH) the machine's agent then holds it; a
   * one-shot caller (the CLI) leaves it off, so nothing outlives the process that asked.
   */
  keep?: boolean;
}

export interface TerminalExit {
  /** The exit code; 128+N when a signal ended it (as shells report it); null when unknown. */
  code: number | null;
  signal?: string;
}

export interface Terminal {
  /** Write the command's input; read its output (stdout, and with a tty everything it prints). */
  readonly stream: Duplex;
  /** Its stderr, when there is no tty (with a tty stderr goes to the terminal too). */
  readonly stderr: Readable | undefined;
  /** Tells the PTY its new size (the program gets SIGWINCH); nothing without a tty. */
  resize(cols: number, rows: number): void;
  /** Settles once the command has ended and its output is drained. */
  readonly exit: Promise<TerminalExit>;
  /** Ends the terminal (hangs up the channel / kills the process). */
  close(): void;
}

/** `retryAt`: when a reconnect is scheduled (epoch ms), so a front end can count down to it. */
export type StateListener = (machine: string, state: MachineState, error?: string, retryAt?: number) => void;
export type AgentEventListener = (machine: string, event: AgentEvent) => void;
