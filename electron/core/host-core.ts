// The host core: one object behind every front end (Electron IPC, browser-mode WebSocket, CLI).
// Plain Node, no Electron import. Everything arriving here is treated as untrusted and checked
// against the host API contract before any handler runs.
import type { HostApi, HostEvent, HostMethod, HostParams, HostResult } from '../../shared/host-api.js';
import { MACHINE_PASSTHROUGH, hostMethods, type PassthroughMethod } from '../../shared/host-api.js';
import { callHandler, type Handlers } from '../../shared/rpc-dispatch.js';
import { LocalMachine } from './machines/local/local-machine.js';
import type { Machine } from './machines/machine.js';
import type { NodeRuntime } from './machines/local/local-daemon.js';
import { MachineRegistry } from './machines/registry.js';
import { localAgentDirs } from './paths.js';
import { ONGGI_VERSION } from './version.js';

export interface HostCoreOptions {
  /** The app's data dir (Electron: app.getPath('userData')). */
  dataDir: string;
  /** The folder holding the agent bundle (agent.cjs + manifest.json). */
  agentDir: string;
  /** How to run the agent on this host. */
  nodeRuntime: NodeRuntime;
  /** Overrides for the local agent's socket dir and state root (tests). */
  localAgent?: { runDir: string; stateDir: string };
  platform?: NodeJS.Platform;
}

export interface HostCore {
  /** The untrusted entry point: any method name, any params, validated here. */
  call(method: string, params: unknown): Promise<unknown>;
  onEvent(listener: (event: HostEvent) => void): () => void;
  /** The process that runs a command inside a container on a machine (see Machine.execCommand). */
  execCommand(machine: string, container: string, command: readonly string[]): ReturnType<Machine['execCommand']>;
  close(): Promise<void>;
}

export function createHostCore(options: HostCoreOptions): HostCore {
  const listeners = new Set<(event: HostEvent) => void>();
  const emit = (event: HostEvent): void => {
    for (const listener of listeners) listener(event);
  };
  const registry = new MachineRegistry();
  if ((options.platform ?? process.platform) === 'linux') {
    registry.add(
      new LocalMachine(
        { ...(options.localAgent ?? localAgentDirs()), agentDir: options.agentDir, nodeRuntime: options.nodeRuntime },
        (machine, state, error) => emit({ type: 'machine.state', machine, state, ...(error ? { error } : {}) }),
        (machine, event) => emit({ type: 'machine.event', machine, event }),
      ),
    );
  }

  // The agent's own methods: the host checked the params against the same contract on arrival,
  // drops the machine name and forwards the rest; the agent checks again (it trusts no one).
  const passthrough = Object.fromEntries(
    MACHINE_PASSTHROUGH.map((method) => [
      method,
      async ({ machine, ...params }: { machine: string }) => (await registry.get(machine).agent()).callUnchecked(method, params),
    ]),
  ) as unknown as Handlers<Pick<typeof hostMethods, PassthroughMethod>, undefined>;

  const handlers: Handlers<typeof hostMethods, undefined> = {
    'app.version': () => ({ version: ONGGI_VERSION, platform: process.platform }),
    'machines.list': () => registry.list(),
    'machines.info': async ({ machine }) => (await registry.get(machine).agent()).call('system.info', undefined),
    ...passthrough,
  };

  return {
    call: (method, params) => callHandler(hostMethods, handlers, method, params, undefined),
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    execCommand: (machine, container, command) => registry.get(machine).execCommand(container, command),
    close: () => registry.closeAll(),
  };
}

/** The typed view of a core, for in-process front ends (the CLI). */
export function asHostApi(core: HostCore): HostApi {
  return {
    call: <M extends HostMethod>(method: M, params: HostParams<M>) => core.call(method, params) as Promise<HostResult<M>>,
    onEvent: (listener) => core.onEvent(listener),
  };
}
