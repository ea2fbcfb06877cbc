// Terminal sessions the window has open: which exist (for the tabs), and their output, kept outside
// React state (a chunk list per session plus listeners) so a busy shell does not re-render the
// view for every byte. Sessions live in the host core; leaving the view keeps them, and after a
// dropped link their output is read back from the host's backlog (terminals.list).
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { HostEvent } from '../../../shared/host-api.js';
import { TERMINAL_BACKLOG_MAX, TERMINAL_INPUT_MAX, type TerminalSession } from '../../../shared/terminals.js';
import type { HostClient } from '../api/types';

export interface TerminalTab extends TerminalSession {
  /** How the tab is titled: `local` or `local › web`. */
  title: string;
}

export type OutputListener = (data: string, reset: boolean) => void;

export interface TerminalsState {
  sessions: TerminalTab[];
  active?: string;
  open(params: { machine: string; container?: string; attach?: boolean; cols: number; rows: number }): Promise<TerminalTab>;
  input(id: string, data: string): void;
  resize(id: string, cols: number, rows: number): void;
  close(id: string): Promise<void>;
  select(id: string): void;
  /** Everything received so far (bounded), and a listener for what follows; returns the unsubscribe. */
  attach(id: string, listener: OutputListener): { backlog: string; detach: () => void };
  applyEvent(event: HostEvent): void;
  /** After a reconnect: the host's own list and backlogs replace ours. */
  resync(): Promise<void>;
}

export type TerminalsStore = StoreApi<TerminalsState>;

function titleOf(session: TerminalSession): string {
  return session.container ? `${session.machine} › ${session.container}` : session.machine;
}

export function createTerminalsStore(client: Pick<HostClient, 'call'>): TerminalsStore {
  const output = new Map<string, string>();
  const listeners = new Map<string, Set<OutputListener>>();
  const notify = (id: string, data: string, reset: boolean): void => {
    for (const listener of listeners.get(id) ?? []) listener(data, reset);
  };
  const append = (id: string, data: string): void => {
    const all = (output.get(id) ?? '') + data;
    output.set(id, all.length > TERMINAL_BACKLOG_MAX ? all.slice(all.length - TERMINAL_BACKLOG_MAX) : all);
    notify(id, data, false);
  };
  const report = (what: string) => (error: unknown) => console.warn(`onggi: terminal ${what} failed:`, error);

  return createStore<TerminalsState>()((set, get) => ({
    sessions: [],
    async open(params) {
      const session = await client.call('terminals.open', params);
      const tab: TerminalTab = { ...session, title: titleOf(session) };
      if (!output.has(session.id)) output.set(session.id, '');
      set((state) => ({ sessions: [...state.sessions, tab], active: tab.id }));
      return tab;
    },
    input(id, data) {
      for (let at = 0; at < data.length; at += TERMINAL_INPUT_MAX) {
        client.call('terminals.input', { id, data: data.slice(at, at + TERMINAL_INPUT_MAX) }).catch(report('input'));
      }
    },
    resize(id, cols, rows) {
      client.call('terminals.resize', { id, cols, rows }).catch(report('resize'));
    },
    async close(id) {
      set((state) => {
        const sessions = state.sessions.filter((session) => session.id !== id);
        const index = state.sessions.findIndex((session) => session.id === id);
        const active = state.active === id ? (sessions[Math.min(index, sessions.length - 1)]?.id ?? undefined) : state.active;
        return { sessions, ...(active !== undefined ? { active } : { active: undefined }) };
      });
      output.delete(id);
      listeners.delete(id);
      await client.call('terminals.close', { id }).catch(report('close'));
    },
    select(id) {
      set({ active: id });
    },
    attach(id, listener) {
      let set = listeners.get(id);
      if (!set) listeners.set(id, (set = new Set()));
      set.add(listener);
      return {
        backlog: output.get(id) ?? '',
        detach: () => {
          listeners.get(id)?.delete(listener);
        },
      };
    },
    applyEvent(event) {
      if (event.type === 'terminal.output') {
        if (output.has(event.id)) append(event.id, event.data);
      } else if (event.type === 'terminal.exit') {
        const exit = { code: event.code, ...(event.signal ? { signal: event.signal } : {}) };
        set((state) => ({ sessions: state.sessions.map((session) => (session.id === event.id ? { ...session, exit } : session)) }));
      }
    },
    async resync() {
      const known = new Set(get().sessions.map((session) => session.id));
      if (known.size === 0) return;
      const remote = await client.call('terminals.list', undefined);
      const byId = new Map(remote.map((session) => [session.id, session]));
      for (const id of known) {
        const found = byId.get(id);
        if (!found) continue;
        output.set(id, found.backlog);
        notify(id, found.backlog, true);
      }
      // A session the host no longer has (Onggi restarted) is shown as ended rather than dropped.
      set((state) => ({
        sessions: state.sessions.map((session) => {
          const found = byId.get(session.id);
          if (!found) return session.exit ? session : { ...session, exit: { code: null } };
          return found.exit ? { ...session, exit: found.exit } : session;
        }),
      }));
    },
  }));
}
