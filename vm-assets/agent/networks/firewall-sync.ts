// The packet filter brought to the network records, one run at a time. The network manager says
// what the rules are made from (its records: bridges made, published ports of running containers);
// this serializes the runs that write them to the kernel, so concurrent starts and stops share one
// run instead of racing the filter, and an ended container's rules go without reading the filter.
import { desiredRules, type FirewallBackend, type FirewallNetwork, type FirewallPort } from './firewall.js';

export interface FirewallInputs {
  networks: FirewallNetwork[];
  ports: FirewallPort[];
  /** Whether the agent ever made a kernel change: until then the packet filter is not ours to clean. */
  madeKernelChanges: boolean;
}

export class FirewallSync {
  private current: Promise<void> = Promise.resolve();
  private pending: Promise<void> | undefined;

  constructor(
    private readonly firewall: FirewallBackend,
    /** The records the rules are made from, read when a run starts (not when it was asked for). */
    private readonly inputs: () => FirewallInputs,
    /**
     * False until the network manager's first reconcile knows every running container: a run
     * before that would drop their rules. Reconcile's own sync is the first.
     */
    private readonly ready: () => boolean,
  ) {}

  /** Brings the packet filter to the records; concurrent requests share the next run. */
  sync(): Promise<void> {
    if (!this.ready()) return Promise.resolve();
    this.pending ??= this.current
      // The previous run's failure went to its own callers; this run starts afresh either way.
      .catch(() => undefined)
      .then(() => {
        this.pending = undefined;
        this.current = this.apply();
        return this.current;
      });
    return this.pending;
  }

  /**
   * Takes an ended container's port rules (`ports`, as they were made) out of the packet filter:
   * deleted as they were added, with no read of the filter first (a read is a process, and the
   * delete's commit waits out an RCU grace period already). Queued behind the run under way; with
   * one pending, that one does it. A rule that is not there as recorded (the filter changed behind
   * our back) makes it a full sync, which reads the filter and brings it to the records.
   */
  dropPorts(ports: FirewallPort[]): Promise<void> {
    if (!this.ready()) return Promise.resolve();
    const remove = this.firewall.remove?.bind(this.firewall);
    if (this.pending || !remove || ports.length === 0) return this.sync();
    const run = this.current
      // The previous run's failure went to its own callers; this one starts afresh either way.
      .catch(() => undefined)
      .then(() => remove(desiredRules([], ports)))
      // Not dropped: the failed delete is in the activity log, and the full sync that follows answers for the filter.
      .catch(() => this.apply());
    this.current = run;
    return run;
  }

  private async apply(): Promise<void> {
    const { networks, ports, madeKernelChanges } = this.inputs();
    // Never made a rule: the packet filter is not ours to clean (ONGGI_DEFAULT_NETWORK=none and no network yet).
    if (networks.length === 0 && !madeKernelChanges) return;
    await this.firewall.apply(networks.length === 0 ? null : desiredRules(networks, ports));
  }
}
