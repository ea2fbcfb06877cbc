// Wires the stores to a client: events and connection changes flow in, and after a dropped link
// comes back everything is read again, since events sent while it was down are gone.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { HostClient } from '../api/types';
import { createHostStore, type HostState, type HostStore } from './host';
import { createMachinesStore, type MachinesState, type MachinesStore } from './machines';

export interface Stores {
  client: HostClient;
  host: HostStore;
  machines: MachinesStore;
}

export function createStores(client: HostClient): Stores {
  return { client, host: createHostStore(client), machines: createMachinesStore(client) };
}

/** Subscribes the stores to the client and issues the first reads. Returns the unsubscribe. */
export function startStores(stores: Stores): () => void {
  const { client, host, machines } = stores;
  const offEvent = client.onEvent((event) => machines.getState().applyEvent(event));
  let wasLost = false;
  const offState = client.onConnectionState((connection) => {
    host.setState({ connection });
    if (connection === 'lost') wasLost = true;
    if (connection === 'open' && wasLost) {
      wasLost = false;
      void machines.getState().load();
      if (!host.getState().app) void host.getState().loadAppVersion();
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

export function useClient(): HostClient {
  return useStores().client;
}
