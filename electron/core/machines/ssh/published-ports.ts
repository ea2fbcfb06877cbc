// The published ports of a remote machine's running containers, forwarded to the same port on this
// computer's 127.0.0.1 (as Docker Desktop and Lima do): opened when a container starts, closed when
// it stops, reconciled against `containers.list` on every container state change and after a
// reconnect. A port this computer already uses is reported as a conflict, not retried in a loop.
import { errorMessage } from '../../../../shared/errors.js';
import type { PortForwardState } from '../../../../shared/machines.js';
import type { AgentLink } from '../../agent/agent-link.js';
import type { PortForward, PortForwardSpec } from './port-forward.js';

export interface PublishedPortsTarget {
  readonly name: string;
  agent(): Promise<AgentLink>;
  forwardPort(spec: PortForwardSpec): Promise<PortForward>;
}

interface Wanted {
  container: string;
  containerId: string;
  hostPort: number;
  containerPort: number;
}

export class PublishedPorts {
  private readonly open = new Map<string, { wanted: Wanted; forward: PortForward }>();
  private readonly conflicts = new Set<string>();
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly target: PublishedPortsTarget,
    private readonly onChange: (state: PortForwardState) => void,
    /** Where the published ports answer on the machine (tests put the machine on another loopback address). */
    private readonly remoteHost = '127.0.0.1',
  ) {}

  /** The forwards open now, by `containerId/hostPort`. */
  list(): Array<Wanted & { localPort: number }> {
    return [...this.open.values()].map(({ wanted, forward }) => ({ ...wanted, localPort: forward.localPort }));
  }

  /** Reconciles the forwards with the containers running on the machine (serialised). */
  sync(): Promise<void> {
    const next = this.running.then(() => this.reconcile());
    this.running = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    for (const [key, { wanted, forward }] of this.open) {
      await forward.close();
      this.open.delete(key);
      this.report(wanted, 'closed');
    }
  }

  private async reconcile(): Promise<void> {
    if (this.closed) return;
    const link = await this.target.agent();
    const containers = await link.call('containers.list', { all: false });
    const wanted = new Map<string, Wanted>();
    for (const container of containers) {
      if (container.state !== 'running') continue;
      for (const port of container.ports ?? []) {
        if (port.protocol !== 'tcp') continue; // SSH forwards carry TCP only
        wanted.set(`${container.id}/${port.hostPort}`, {
          container: container.name,
          containerId: container.id,
          hostPort: port.hostPort,
          containerPort: port.containerPort,
        });
      }
    }
    for (const [key, { wanted: was, forward }] of this.open) {
      if (wanted.has(key)) continue;
      await forward.close();
      this.open.delete(key);
      this.report(was, 'closed');
    }
    for (const key of this.conflicts) if (!wanted.has(key)) this.conflicts.delete(key);
    for (const [key, want] of wanted) {
      if (this.open.has(key) || this.conflicts.has(key) || this.closed) continue;
      try {
        // The agent publishes hostPort on the machine, loopback included: forward to it there.
        const forward = await this.target.forwardPort({ localPort: want.hostPort, remotePort: want.hostPort, remoteHost: this.remoteHost });
        this.open.set(key, { wanted: want, forward });
        this.report(want, 'open');
      } catch (error) {
        this.conflicts.add(key);
        this.report(want, 'conflict', errorMessage(error));
      }
    }
  }

  private report(wanted: Wanted, state: PortForwardState['state'], error?: string): void {
    this.onChange({
      machine: this.target.name,
      container: wanted.container,
      hostPort: wanted.hostPort,
      containerPort: wanted.containerPort,
      localAddress: `127.0.0.1:${wanted.hostPort}`,
      state,
      ...(error ? { error } : {}),
    });
  }
}
