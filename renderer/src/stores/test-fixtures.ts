// Sample data and a scriptable client for store and view tests.
import type { ContainerSummary } from '../../../shared/containers.js';
import type { HostEvent, HostMethod, HostParams, HostResult } from '../../../shared/host-api.js';
import type { SystemInfo } from '../../../shared/system-info.js';
import { Listeners } from '../api/listeners';
import type { ConnectionState, HostClient } from '../api/types';

export const sampleInfo: SystemInfo = {
  hostname: 'onggi-dev',
  kernelRelease: '6.1.0-28-amd64',
  kernelVersion: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)',
  machine: 'x86_64',
  arch: 'amd64',
  distro: { id: 'debian', name: 'Debian GNU/Linux', version: '12 (bookworm)', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
  cgroup: {
    version: 1,
    mode: 'hybrid',
    rootFsType: 'tmpfs',
    controllers: [
      { name: 'cpu', version: 1, mountPoint: '/sys/fs/cgroup/cpu,cpuacct' },
      { name: 'memory', version: 1, mountPoint: '/sys/fs/cgroup/memory' },
      { name: 'pids', version: 1, mountPoint: '/sys/fs/cgroup/pids' },
      { name: 'hugetlb', version: 2, mountPoint: '/sys/fs/cgroup/unified' },
    ],
  },
  cpus: 8,
  memoryBytes: 33_554_432_000,
  uptimeSeconds: 3 * 86_400 + 4 * 3_600 + 12 * 60,
  agent: {
    version: '0.1.0',
    buildId: '3f2a9c41d0e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2',
    pid: 4242,
    startedAt: '2026-11-23T09:00:00.000Z',
  },
};

/** A running container as the agent lists it (its name and image are placeholders). */
export const runningContainer: ContainerSummary = {
  id: 'a'.repeat(64),
  name: 'web',
  image: 'busybox',
  imageId: `sha256:${'b'.repeat(64)}`,
  command: ['sh'],
  state: 'running',
  pid: 4242,
  exitCode: null,
  oomKilled: false,
  error: null,
  createdAt: '2026-12-06T00:00:00Z',
  startedAt: '2026-12-06T00:00:01Z',
  finishedAt: null,
};

type Answer = { [M in HostMethod]?: (params: HostParams<M>) => Promise<HostResult<M>> | HostResult<M> };

/** A HostClient whose answers a test scripts per method; it records every call. */
export class ScriptedClient implements HostClient {
  readonly transport = 'websocket';
  connectionState: ConnectionState = 'open';
  readonly calls: { method: HostMethod; params: unknown }[] = [];
  private readonly events = new Listeners<HostEvent>();
  private readonly states = new Listeners<ConnectionState>();

  constructor(public answers: Answer = {}) {}

  async call<M extends HostMethod>(method: M, params: HostParams<M>): Promise<HostResult<M>> {
    this.calls.push({ method, params });
    const answer = this.answers[method] as ((params: HostParams<M>) => Promise<HostResult<M>> | HostResult<M>) | undefined;
    if (!answer) throw new Error(`no scripted answer for ${method}`);
    return answer(params);
  }

  onEvent(listener: (event: HostEvent) => void): () => void {
    return this.events.add(listener);
  }

  onConnectionState(listener: (state: ConnectionState) => void): () => void {
    return this.states.add(listener);
  }

  emit(event: HostEvent): void {
    this.events.emit(event);
  }

  setConnection(state: ConnectionState): void {
    this.connectionState = state;
    this.states.emit(state);
  }

  reconnectNow(): void {}
  close(): void {}

  callsOf(method: HostMethod): unknown[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.params);
  }
}

/** A promise with its resolve/reject exposed, to hold an answer until the test releases it. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
