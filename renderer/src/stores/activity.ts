// What the agent did on the machine the window is looking at: the history from `activity.list`,
// then each `activity` event as it happens. Entries are numbered by the agent; a restarted agent
// numbers from 1 again, so an entry is known by its number and its time together.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ActivityEntry } from '../../../shared/agent-rpc.js';
import { errorMessage } from '../../../shared/errors.js';
import type { HostApi } from '../../../shared/host-api.js';
import type { MachineScopedList } from './machine-scoped';

/** The most entries kept (the agent itself keeps 5,000). */
export const ACTIVITY_LIMIT = 5000;

export function activityKey(entry: Pick<ActivityEntry, 'id' | 'at'>): string {
  return `${entry.id}@${entry.at}`;
}

export interface ActivityState extends MachineScopedList {
  /** Oldest first. */
  entries: ActivityEntry[];
}

export type ActivityStore = StoreApi<ActivityState>;

function merge(older: readonly ActivityEntry[], newer: readonly ActivityEntry[]): ActivityEntry[] {
  const seen = new Set<string>();
  const out: ActivityEntry[] = [];
  for (const entry of [...older, ...newer]) {
    const key = activityKey(entry);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(entry);
  }
  out.sort((a, b) => a.at.localeCompare(b.at) || a.id - b.id);
  return out.length > ACTIVITY_LIMIT ? out.slice(out.length - ACTIVITY_LIMIT) : out;
}

export function createActivityStore(api: Pick<HostApi, 'call'>): ActivityStore {
  let request = 0;
  return createStore<ActivityState>()((set, get) => ({
    status: 'idle',
    entries: [],
    stale: false,

    async load(machine) {
      const mine = ++request;
      const switched = machine !== get().machine;
      set(switched ? { machine, status: 'loading', entries: [], error: undefined, stale: false } : { status: 'loading' });
      try {
        const history = await api.call('activity.list', { machine, limit: ACTIVITY_LIMIT });
        if (mine !== request) return;
        // Events that arrived while the read was in flight are kept alongside it.
        set((state) => ({
          status: 'ready',
          error: undefined,
          entries: merge(history, state.entries),
          fetchedAt: Date.now(),
          stale: false,
        }));
      } catch (error) {
        if (mine !== request) return;
        set({ status: 'error', error: errorMessage(error) });
      }
    },

    applyEvent(event) {
      if (event.type !== 'machine.event' || event.event.type !== 'activity' || event.machine !== get().machine) return;
      const entry = event.event.entry;
      set((state) => {
        const last = state.entries[state.entries.length - 1];
        // The usual case, a new entry after the newest, appends without re-sorting.
        if (!last || last.at < entry.at) {
          const entries = [...state.entries, entry];
          return { entries: entries.length > ACTIVITY_LIMIT ? entries.slice(entries.length - ACTIVITY_LIMIT) : entries };
        }
        return { entries: merge(state.entries, [entry]) };
      });
    },

    markStale() {
      if (get().status !== 'idle') set({ stale: true });
    },
  }));
}

/** A selection of entries as a script someone can read, or run: `#!/bin/sh`, `set -e`, one line each. */
export function shellScript(lines: readonly string[]): string {
  return ['#!/bin/sh', 'set -e', ...lines].join('\n') + '\n';
}
