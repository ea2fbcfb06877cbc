// Wires the stores to a client: events and connection changes flow in, and after a dropped link
// comes back everything is read again, since events sent while it was down are gone. Until that
// read succeeds, the lists say they are not current.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { HostClient } from '../api/types';
import { createActivityStore, type ActivityState, type ActivityStore } from './activity';
import { createContainersStore, type ContainersState, type ContainersStore } from './containers';
import { createHostStore, type HostState, type HostStore } from './host';
import { createImagesStore, type ImagesState, type ImagesStore } from './images';
import { createMachinesStore, type MachinesState, type MachinesStore } from './machines';
import { createNetworksStore, type NetworksState, type NetworksStore } from './networks';
import { createTerminalsStore, type TerminalsState, type TerminalsStore } from './terminals';

export interface Stores {
  client: HostClient;
  host: HostStore;
  machines: MachinesStore;
  containers: ContainersStore;
  images: ImagesStore;
  networks: NetworksStore;
  activity: ActivityStore;
  terminals: TerminalsStore;
}

export function createStores(client: HostClient): Stores {
  return {
    client,
    host: createHostStore(client),
    machines: createMachinesStore(client),
    containers: createContainersStore(client),
    images: createImagesStore(client),
    networks: createNetworksStore(client),
    activity: createActivityStore(client),
    terminals: createTerminalsStore(client),
  };
}

/** Subscribes the stores to the client and issues the first reads. Returns the unsubscribe. */
export function startStores(stores: Stores): () => void {
  const { client, host, machines, containers, images, networks, activity, terminals } = stores;
  const machineScoped = [containers, images, networks, activity] as const;
  const offEvent = client.onEvent((event) => {
    machines.getState().applyEvent(event);
    containers.getState().applyEvent(event);
    images.getState().applyEvent(event);
    networks.getState().applyEvent(event);
    activity.getState().applyEvent(event);
    terminals.getState().applyEvent(event);
  });
  let wasLost = false;
  const offState = client.onConnectionState((connection) => {
    host.setState({ connection });
    if (connection === 'lost') {
      wasLost = true;
      for (const store of machineScoped) store.getState().markStale();
    }
    if (connection === 'open' && wasLost) {
      wasLost = false;
      void machines.getState().load();
      terminals
        .getState()
        .resync()
        .catch((error: unknown) => console.warn('onggi: could not reattach terminals:', error));
      if (!host.getState().app) void host.getState().loadAppVersion();
      // Only what was read before: a view never opened has nothing stale to refresh.
      for (const store of machineScoped) {
        const { machine, status } = store.getState();
        if (machine && status !== 'idle') void store.getState().load(machine);
      }
    }
  });
  host.setState({ connection: client.connectionState });
  void host.getState().loadAppVersion();
  void machines.getState().load();
  return () => {
    offEvent();
    offState();
  };
}

export const StoresContext = createContext<Stores | null>(null);

function useStores(): Stores {
  const stores = useContext(StoresContext);
  if (!stores) throw new Error('StoresContext is missing: render inside <StoresContext value={stores}>');
  return stores;
}

export function useHost<T>(selector: (state: HostState) => T): T {
  return useStore(useStores().host, selector);
}

export function useMachines<T>(selector: (state: MachinesState) => T): T {
  return useStore(useStores().machines, selector);
}

export function useContainers<T>(selector: (state: ContainersState) => T): T {
  return useStore(useStores().containers, selector);
}

export function useImages<T>(selector: (state: ImagesState) => T): T {
  return useStore(useStores().images, selector);
}

export function useNetworks<T>(selector: (state: NetworksState) => T): T {
  return useStore(useStores().networks, selector);
}

export function useActivity<T>(selector: (state: ActivityState) => T): T {
  return useStore(useStores().activity, selector);
}

export function useTerminals<T>(selector: (state: TerminalsState) => T): T {
  return useStore(useStores().terminals, selector);
}

export function useTerminalsStore(): TerminalsStore {
  return useStores().terminals;
}

export function useClient(): HostClient {
  return useStores().client;
}
