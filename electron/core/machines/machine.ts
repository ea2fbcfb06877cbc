import type { AgentEvent } from '../../../shared/agent-rpc.js';
import type { MachineState, MachineSummary } from '../../../shared/host-api.js';
import type { AgentLink } from '../agent/agent-link.js';

/** A place containers run. Providers differ in how they start and how they reach the agent. */
export interface Machine {
  readonly name: string;
  readonly provider: MachineSummary['provider'];
  summary(): MachineSummary;
  /** A ready, handshaken link to the machine's agent, connecting (and deploying) on demand. */
  agent(): Promise<AgentLink>;
  close(): Promise<void>;
  /**
   * The command that runs `command` inside a container with the container's own namespaces,
   * cgroup and security settings, with stdio attached to whatever runs it (a terminal, a PTY).
   * Terminals are not JSON-RPC: they are processes (local) or SSH channels (remote).
   */
  execCommand(container: string, command: readonly string[]): Promise<{ command: string; args: string[]; env: Record<string, string> }>;
}

export type StateListener = (machine: string, state: MachineState, error?: string) => void;
export type AgentEventListener = (machine: string, event: AgentEvent) => void;
