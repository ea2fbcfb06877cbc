// The link to Onggi itself: connection state (so views can say their data may be stale) and the
// app's version for the sidebar.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { HostResult } from '../../../shared/host-api.js';
import type { ConnectionState, HostClient } from '../api/types';

export interface HostState {
  connection: ConnectionState;
  app?: HostResult<'app.version'>;
  loadAppVersion(): Promise<void>;
}

export type HostStore = StoreApi<HostState>;

export function createHostStore(client: Pick<HostClient, 'call' | 'connectionState'>): HostStore {
  return createStore<HostState>()((set) => ({
    connection: client.connectionState,
    async loadAppVersion() {
      try {
        set({ app: await client.call('app.version', undefined) });
      } catch (error) {
        // The sidebar simply shows no version; nothing else depends on it.
        console.warn('onggi: could not read the app version:', error);
      }
    },
  }));
}
