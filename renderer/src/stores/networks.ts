// The networks of the machine the window is looking at, and the topology the kernel reports for
// them: one store like the containers' and images', so the view no longer fetches and listens by
// hand. A `topology.changed` event reads both again once its burst is over; after a dropped link
// the data is marked stale until a read succeeds (startStores reads it again on reconnect).
import { createStore, type StoreApi } from 'zustand/vanilla';
import { errorMessage } from '../../../shared/errors.js';
import type { HostApi } from '../../../shared/host-api.js';
import type { NetworkSummary, Topology } from '../../../shared/networks.js';
import type { MachineScopedList } from './machine-scoped';

export interface NetworksState extends MachineScopedList {
  networks: NetworkSummary[];
  topology?: Topology;
}

export type NetworksStore = StoreApi<NetworksState>;

export function createNetworksStore(api: Pick<HostApi, 'call'>, options: { refreshDelayMs?: number } = {}): NetworksStore {
  let request = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Events arrive in bursts (a container start changes several links): read once the burst is over. */
  const refreshDelayMs = options.refreshDelayMs ?? 250;
  return createStore<NetworksState>()((set, get) => ({
    status: 'idle',
    networks: [],
    stale: false,

    async load(machine) {
      const mine = ++request;
      const switched = machine !== get().machine;
      // Another machine's networks must never show under this machine's name.
      set(
        switched
          ? { machine, status: 'loading', networks: [], topology: undefined, error: undefined, stale: false }
          : { status: 'loading' },
      );
      try {
        const [networks, topology] = await Promise.all([
          api.call('networks.list', { machine }),
          api.call('topology.snapshot', { machine }),
        ]);
        if (mine !== request) return;
        set({ status: 'ready', error: undefined, networks, topology, fetchedAt: Date.now(), stale: false });
      } catch (error) {
        if (mine !== request) return;
        set({ status: 'error', error: errorMessage(error) });
      }
    },

    applyEvent(event) {
      const machine = get().machine;
      if (event.type !== 'machine.event' || event.machine !== machine || event.event.type !== 'topology.changed') return;
      if (get().status === 'idle') return; // never shown: nothing to refresh
      clearTimeout(timer);
      timer = setTimeout(() => void get().load(machine), refreshDelayMs);
    },

    markStale() {
      if (get().status !== 'idle') set({ stale: true });
    },
  }));
}
