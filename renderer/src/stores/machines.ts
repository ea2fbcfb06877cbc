// Machines and what each one's agent reports. The list comes from `machines.list`; system info per
// machine from `machines.info`. `machine.state` events keep states current and trigger a fresh
// read of the info when a machine becomes ready. Old values stay visible while a refresh runs or
// after one fails, marked stale by the view, rather than blanking the screen.
import { createStore, type StoreApi } from 'zustand/vanilla';
import { errorMessage } from '../../../shared/errors.js';
import type { HostApi, HostEvent, MachineInfo, MachineSummary } from '../../../shared/host-api.js';
import type { DeployProgress, VagrantProgress } from '../../../shared/machines.js';

/** The most `vagrant up`/`halt` lines kept per machine (older ones scroll away). */
export const VAGRANT_LOG_LINES = 500;

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface InfoEntry {
  status: LoadStatus;
  data?: MachineInfo;
  error?: string;
  /** Date.now() when `data` arrived. */
  fetchedAt?: number;
}

export interface MachinesState {
  status: LoadStatus;
  error?: string;
  machines: MachineSummary[];
  /** The machine used last, as the host remembers it (window and CLI share it); may name one removed since. */
  lastUsed?: string;
  info: Record<string, InfoEntry>;
  /** The streamed `vagrant up`/`halt` output per Vagrant machine, newest last, of the latest start or stop. */
  vagrantLog: Record<string, VagrantProgress[]>;
  /** Which machines have a start or stop in flight. */
  lifecycle: Record<string, 'starting' | 'stopping'>;
  /** The latest `machine.deploy` progress per machine (of the deploy running now, or the last one). */
  deploy: Record<string, DeployProgress>;
  load(): Promise<void>;
  /** Remembers the machine the user picked, on the host; a failure only costs the memory, so it is logged. */
  remember(machine: string): Promise<void>;
  /** `vagrant up` (start) or `vagrant halt` (stop); the log is cleared first; a failure is thrown. */
  start(machine: string): Promise<void>;
  stop(machine: string): Promise<void>;
  loadInfo(machine: string): Promise<void>;
  /** Forgets a machine on the host (its agent keeps running there); a failure is thrown. */
  remove(machine: string): Promise<void>;
  applyEvent(event: HostEvent): void;
}

export type MachinesStore = StoreApi<MachinesState>;

/**
 * Reading info connects to the machine's agent on demand. For the local machine that costs
 * nothing; for a VM or remote host it is done once the machine says it is ready, so opening the
 * window never boots a VM or dials a remote host behind the user's back.
 */
export function shouldReadInfo(machine: MachineSummary): boolean {
  return machine.provider === 'local' || machine.state === 'ready';
}

/** A machine's summary after a `machine.state` event: the event's fields replace the old ones (absent ones too). */
function summaryOf(machine: MachineSummary, event: Extract<HostEvent, { type: 'machine.state' }>): MachineSummary {
  const { name, provider } = machine;
  return {
    name,
    provider,
    state: event.state,
    ...(event.error !== undefined ? { error: event.error } : {}),
    ...(event.retryAt !== undefined ? { retryAt: event.retryAt } : {}),
  };
}

export function createMachinesStore(api: Pick<HostApi, 'call'>): MachinesStore {
  let listRequest = 0;
  const infoRequests = new Map<string, number>();
  let nextInfoRequest = 0;

  return createStore<MachinesState>()((set, get) => {
    const lifecycle = async (machine: string, phase: 'starting' | 'stopping', run: () => Promise<unknown>): Promise<void> => {
      set((state) => ({ vagrantLog: { ...state.vagrantLog, [machine]: [] }, lifecycle: { ...state.lifecycle, [machine]: phase } }));
      try {
        await run();
      } finally {
        set((state) => ({ lifecycle: Object.fromEntries(Object.entries(state.lifecycle).filter(([name]) => name !== machine)) }));
      }
    };
    return {
      status: 'idle',
      machines: [],
      info: {},
      vagrantLog: {},
      lifecycle: {},
      deploy: {},

      async load() {
        const request = ++listRequest;
        set({ status: 'loading' });
        let machines: MachineSummary[];
        let lastUsed: string | undefined;
        try {
          // The remembered machine is a convenience: the list stands without it.
          [machines, lastUsed] = await Promise.all([
            api.call('machines.list', undefined),
            api.call('machines.lastUsed', undefined).then(
              ({ machine }) => machine,
              () => undefined,
            ),
          ]);
        } catch (error) {
          if (request === listRequest) set({ status: 'error', error: errorMessage(error) });
          return;
        }
        if (request !== listRequest) return;
        const names = new Set(machines.map((machine) => machine.name));
        const info = Object.fromEntries(Object.entries(get().info).filter(([name]) => names.has(name)));
        set({ status: 'ready', error: undefined, machines, lastUsed, info });
        await Promise.all(machines.filter(shouldReadInfo).map((machine) => get().loadInfo(machine.name)));
      },

      async loadInfo(machine) {
        const request = ++nextInfoRequest;
        infoRequests.set(machine, request);
        const latest = (): boolean => infoRequests.get(machine) === request;
        set((state) => ({ info: { ...state.info, [machine]: { ...state.info[machine], status: 'loading' } } }));
        try {
          const data = await api.call('machines.info', { machine });
          if (!latest()) return;
          set((state) => ({ info: { ...state.info, [machine]: { status: 'ready', data, fetchedAt: Date.now() } } }));
        } catch (error) {
          if (!latest()) return;
          set((state) => ({ info: { ...state.info, [machine]: { ...state.info[machine], status: 'error', error: errorMessage(error) } } }));
        } finally {
          if (latest()) infoRequests.delete(machine);
        }
      },

      async remember(machine) {
        set({ lastUsed: machine });
        try {
          await api.call('machines.use', { machine });
        } catch (error) {
          console.warn(`onggi: could not remember ${machine} as the machine used last:`, error);
        }
      },

      async start(machine) {
        await lifecycle(machine, 'starting', () => api.call('machines.start', { machine }));
      },

      async stop(machine) {
        await lifecycle(machine, 'stopping', () => api.call('machines.stop', { machine }));
      },

      async remove(machine) {
        await api.call('machines.remove', { machine });
        const without = <T>(record: Record<string, T>): Record<string, T> =>
          Object.fromEntries(Object.entries(record).filter(([name]) => name !== machine));
        set((state) => ({
          machines: state.machines.filter((other) => other.name !== machine),
          info: without(state.info),
          deploy: without(state.deploy),
          vagrantLog: without(state.vagrantLog),
        }));
      },

      applyEvent(event) {
        if (event.type === 'machine.deploy') {
          const { type: _type, ...progress } = event;
          set((state) => ({ deploy: { ...state.deploy, [event.machine]: progress } }));
          return;
        }
        if (event.type === 'machine.vagrant') {
          const { type: _type, ...line } = event;
          set((state) => ({
            vagrantLog: {
              ...state.vagrantLog,
              [event.machine]: [...(state.vagrantLog[event.machine] ?? []), line].slice(-VAGRANT_LOG_LINES),
            },
          }));
          return;
        }
        if (event.type === 'machine.clock') {
          // Kept with the info it belongs to; before any info arrived there is nowhere to show it yet.
          set((state) => {
            const entry = state.info[event.machine];
            if (!entry?.data) return {};
            return { info: { ...state.info, [event.machine]: { ...entry, data: { ...entry.data, clock: event.clock } } } };
          });
          return;
        }
        if (event.type !== 'machine.state') return;
        const known = get().machines.some((machine) => machine.name === event.machine);
        if (!known) {
          // A machine we have not heard of: the list changed under us.
          void get().load();
          return;
        }
        set((state) => ({
          machines: state.machines.map((machine) => (machine.name === event.machine ? summaryOf(machine, event) : machine)),
        }));
        // A read already in flight will answer with the ready machine's info; do not ask twice.
        if (event.state === 'ready' && !infoRequests.has(event.machine)) void get().loadInfo(event.machine);
      },
    };
  });
}
