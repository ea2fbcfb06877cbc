// The containers of the machine the window is looking at. The list comes from `containers.list`;
// `container.state` events (through `machine.event`) keep each row's state current between reads.
// Actions update the row from the agent's answer, so the table never guesses. After a dropped
// link the list is marked stale until a read succeeds again.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ContainerSpec, ContainerSummary } from '../../../shared/containers.js';
import { errorMessage } from '../../../shared/errors.js';
import type { HostApi } from '../../../shared/host-api.js';
import type { MachineScopedList } from './machine-scoped';

export type ContainerAction = 'start' | 'stop' | 'kill' | 'remove' | 'pause' | 'unpause';

export interface ActionFailure {
  id: string;
  name: string;
  message: string;
}

export interface ContainersState extends MachineScopedList {
  containers: ContainerSummary[];
  /** Actions in flight, by container id. */
  pending: Record<string, ContainerAction>;
  /** Runs `action` on each container at once; resolves with the ones that failed. */
  act(action: ContainerAction, ids: readonly string[]): Promise<ActionFailure[]>;
  /** Create, then start: what the run dialog does. */
  run(spec: ContainerSpec): Promise<ContainerSummary>;
}

export type ContainersStore = StoreApi<ContainersState>;

/** Newest first, as `docker ps` lists them. */
function sorted(containers: ContainerSummary[]): ContainerSummary[] {
  return [...containers].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.name.localeCompare(b.name));
}

export function createContainersStore(api: Pick<HostApi, 'call'>, options: { reloadDelayMs?: number } = {}): ContainersStore {
  let request = 0;
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  const reloadDelayMs = options.reloadDelayMs ?? 400;

  return createStore<ContainersState>()((set, get) => {
    /** Containers an event named before the list had them: read for their rows unless they turn up first. */
    const unknown = new Set<string>();
    /** An event changed a known row beyond what it carries (finishedAt, a --rm removal): read. */
    let rowsChanged = false;
    /**
     * Several events in a burst (a container exiting, then being auto-removed) cost one read; none
     * when every container the burst named has turned up by then — the window's own run inserts
     * its row from start's answer, while the agent's `created` event overtakes create's answer.
     */
    const reloadSoon = (): void => {
      clearTimeout(reloadTimer);
      reloadTimer = setTimeout(() => {
        const known = new Set(get().containers.map((container) => container.id));
        const missing = [...unknown].some((id) => !known.has(id));
        unknown.clear();
        const changed = rowsChanged;
        rowsChanged = false;
        const machine = get().machine;
        if (machine && (missing || changed)) void get().load(machine);
      }, reloadDelayMs);
    };

    const replace = (summary: ContainerSummary): void =>
      set((state) => ({ containers: state.containers.map((container) => (container.id === summary.id ? summary : container)) }));

    const machineOrThrow = (): string => {
      const machine = get().machine;
      if (!machine) throw new Error('no machine selected');
      return machine;
    };

    return {
      status: 'idle',
      containers: [],
      stale: false,
      pending: {},

      async load(machine) {
        const mine = ++request;
        const switched = machine !== get().machine;
        // Another machine's rows must never show under this machine's name.
        set(switched ? { machine, status: 'loading', containers: [], error: undefined, stale: false, pending: {} } : { status: 'loading' });
        try {
          const containers = await api.call('containers.list', { machine, all: true });
          if (mine !== request) return;
          set({ status: 'ready', error: undefined, containers: sorted(containers), fetchedAt: Date.now(), stale: false });
        } catch (error) {
          if (mine !== request) return;
          set({ status: 'error', error: errorMessage(error) });
        }
      },

      async act(action, ids) {
        const machine = machineOrThrow();
        const byId = new Map(get().containers.map((container) => [container.id, container]));
        set((state) => ({ pending: { ...state.pending, ...Object.fromEntries(ids.map((id) => [id, action])) } }));
        const failures: ActionFailure[] = [];
        await Promise.all(
          ids.map(async (id) => {
            const current = byId.get(id);
            try {
              if (action === 'remove') {
                // A running container is killed first, as `docker rm -f` does; the view asked.
                await api.call('containers.remove', { machine, container: id, force: current?.state === 'running' });
                set((state) => ({ containers: state.containers.filter((container) => container.id !== id) }));
              } else {
                const method = `containers.${action}` as const;
                replace(await api.call(method, { machine, container: id }));
              }
            } catch (error) {
              failures.push({ id, name: current?.name ?? id.slice(0, 12), message: errorMessage(error) });
            } finally {
              set((state) => {
                const pending = { ...state.pending };
                delete pending[id];
                return { pending };
              });
            }
          }),
        );
        return failures;
      },

      async run(spec) {
        const machine = machineOrThrow();
        const created = await api.call('containers.create', { machine, ...spec });
        // Show it at once, as created; start's answer (or the next read) brings it up to date.
        // With a terminal, its first output waits for the Terminal tab that attaches to it.
        const attach = spec.tty ? { waitForAttach: true } : {};
        const summary = await api.call('containers.start', { machine, container: created.id, ...attach }).catch(async (error: unknown) => {
          void get().load(machine);
          throw error;
        });
        set((state) => ({ containers: sorted([summary, ...state.containers.filter((container) => container.id !== summary.id)]) }));
        return summary;
      },

      applyEvent(event) {
        if (event.type !== 'machine.event' || event.machine !== get().machine) return;
        const inner = event.event;
        if (inner.type !== 'container.state') return;
        const known = get().containers.find((container) => container.id === inner.id);
        if (!known) {
          // Created elsewhere (the CLI, another window) — or by our own run, whose answer is on its way.
          if (inner.state !== 'dead') {
            unknown.add(inner.id);
            reloadSoon();
          }
          return;
        }
        replace({ ...known, state: inner.state, exitCode: inner.exitCode });
        // An exit also changes finishedAt and oomKilled, and may remove the container (--rm); a
        // `changed` event says something else did (paused, health, name).
        if (inner.state === 'exited' || inner.state === 'dead' || inner.changed) {
          rowsChanged = true;
          reloadSoon();
        }
      },

      markStale() {
        if (get().status !== 'idle') set({ stale: true });
      },
    };
  });
}
