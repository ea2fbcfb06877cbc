// The published ports of a remote machine's running containers, forwarded to the same port on this
// computer's 127.0.0.1 and ::1 (as Docker Desktop and Lima do): opened when a container starts,
// closed when it stops, reconciled against `containers.list` on every container state change and
// after a reconnect. A port this computer already uses is reported as a conflict, not retried in a
// loop. Both loopbacks, because `localhost` resolves to ::1 first on macOS (and in browsers): a
// forward on 127.0.0.1 alone lets `localhost:8080` reach whatever else listens on [::1]:8080.
import { errorMessage } from '../../../../shared/errors.js';
import type { PortForwardState } from '../../../../shared/machines.js';
import type { AgentLink } from '../../agent/agent-link.js';
import { OnggiError } from '../../../../shared/errors.js';
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
  /** By key: the 127.0.0.1 forward first, then the ::1 one where this computer has ::1. */
  private readonly open = new Map<string, { wanted: Wanted; forwards: PortForward[] }>();
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
    return [...this.open.values()].map(({ wanted, forwards }) => ({ ...wanted, localPort: forwards[0]?.localPort ?? wanted.hostPort }));
  }

  /** Reconciles the forwards with the containers running on the machine (serialised). */
  sync(): Promise<void> {
    const next = this.running.then(() => this.reconcile());
    // the chain only orders the next reconcile; reconcile reports its own failures
    this.running = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    for (const [key, { wanted, forwards }] of this.open) {
      await closeAll(forwards);
      this.open.delete(key);
      this.report(wanted, 'closed', localAddress(wanted, forwards));
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
    for (const [key, { wanted: was, forwards }] of this.open) {
      if (wanted.has(key)) continue;
      await closeAll(forwards);
      this.open.delete(key);
      this.report(was, 'closed', localAddress(was, forwards));
    }
    for (const key of this.conflicts) if (!wanted.has(key)) this.conflicts.delete(key);
    for (const [key, want] of wanted) {
      if (this.open.has(key) || this.conflicts.has(key) || this.closed) continue;
      // The agent publishes hostPort on the machine, loopback included: forward to it there.
      const spec = { localPort: want.hostPort, remotePort: want.hostPort, remoteHost: this.remoteHost };
      let forwards: PortForward[];
      try {
        forwards = [await this.target.forwardPort({ ...spec, localHost: '127.0.0.1' })];
      } catch (error) {
        this.conflicts.add(key);
        this.report(want, 'conflict', `127.0.0.1:${want.hostPort}`, errorMessage(error));
        continue;
      }
      let note: string | undefined;
      try {
        forwards.push(await this.target.forwardPort({ ...spec, localHost: '::1' }));
      } catch (error) {
        // No IPv6 loopback here: 127.0.0.1 is all `localhost` can mean. Another program on
        // [::1]:port is worth saying: `localhost:port` may reach it instead of the container.
        if (error instanceof OnggiError && error.kind === 'port_in_use') {
          note = `another program listens on [::1]:${want.hostPort}, so localhost:${want.hostPort} may reach it instead of the container (macOS and browsers try ::1 first); use 127.0.0.1:${want.hostPort}`;
        }
      }
      this.open.set(key, { wanted: want, forwards });
      this.report(want, 'open', localAddress(want, forwards), note);
    }
  }

  private report(wanted: Wanted, state: PortForwardState['state'], address: string, error?: string): void {
    this.onChange({
      machine: this.target.name,
      container: wanted.container,
      hostPort: wanted.hostPort,
      containerPort: wanted.containerPort,
      localAddress: address,
      state,
      ...(error ? { error } : {}),
    });
  }
}

/** Where a forward answers here, as the user would type it: `127.0.0.1:8080, [::1]:8080` (a list, no words: the window translates). */
function localAddress(wanted: Wanted, forwards: readonly PortForward[]): string {
  if (forwards.length === 0) return `127.0.0.1:${wanted.hostPort}`;
  return forwards
    .map((forward) => (forward.localHost.includes(':') ? `[${forward.localHost}]` : forward.localHost) + `:${forward.localPort}`)
    .join(', ');
}

async function closeAll(forwards: readonly PortForward[]): Promise<void> {
  for (const forward of forwards) await forward.close();
}
