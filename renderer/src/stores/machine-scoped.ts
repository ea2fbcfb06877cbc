// What every list the window keeps for the machine it looks at has in common (containers, images,
// networks, activity): which machine it was read for, how the last read went, whether a dropped
// link made it stale, and the three ways in — a read, an event, a dropped link. startStores drives
// all of them the same way (stale on a dropped link, read again when it comes back).
import type { HostEvent } from '../../../shared/host-api.js';
import type { LoadStatus } from './machines';

export interface MachineScopedList {
  machine?: string;
  status: LoadStatus;
  error?: string;
  /** Date.now() of the last successful read. */
  fetchedAt?: number;
  /** The data may not be current: the link dropped since it was read. */
  stale: boolean;
  load(machine: string): Promise<void>;
  applyEvent(event: HostEvent): void;
  markStale(): void;
}
