// The agent's networks, which may arrive after the agent: on a machine without iptables or nft
// they are unavailable at start, and the next request that needs a network looks for the packet
// filter again, so installing iptables is enough (no agent restart). Other reasons networks are
// unavailable (unreadable records, a failed reconcile) are not retried: they need a person.
import { FirewallMissing } from './firewall.js';
import { NetworkManager } from './network-manager.js';

export class AgentNetworks {
  private reopening: Promise<NetworkManager | Error> | undefined;

  constructor(
    private state: NetworkManager | Error,
    /** Opens and reconciles the networks again (the daemon's start-up steps). */
    private readonly reopen: () => Promise<NetworkManager | Error>,
  ) {}

  /** What there is now, without looking again: for lists and the runtime's start/stop hooks. */
  get current(): NetworkManager | Error {
    return this.state;
  }

  /** The start-up reconcile's outcome (the manager itself, or why it failed). */
  settle(next: NetworkManager | Error): void {
    this.state = next;
  }

  /** For a request that needs a network: where the packet filter was missing, looks for it again first. */
  async need(): Promise<NetworkManager | Error> {
    if (!(this.state instanceof FirewallMissing)) return this.state;
    // Concurrent requests share one attempt.
    this.reopening ??= this.reopen()
      .then((next) => (this.state = next))
      .finally(() => (this.reopening = undefined));
    return this.reopening;
  }

  close(): void {
    if (this.state instanceof NetworkManager) this.state.close();
  }
}
