// /_ping, /version, /info, /system/df and /events: what clients ask first, and what they watch.
import type { AgentEvent } from '../../../shared/agent-rpc.js';
import { DOCKER_API_VERSION, DOCKER_MIN_API_VERSION } from '../../../shared/docker-api.js';
import { checkFilterKeys, labelsMatch, queryFilters, queryInt, sendJson, unixSeconds } from './http-io.js';
import { dockerState } from './container-view.js';
import type { Exchange, Router } from './router.js';

/** What `docker version` shows as the engine's version: Onggi's, marked so nobody mistakes it for dockerd. */
const engineVersion = (version: string) => `${version}-onggi`;

function ping({ res, req }: Exchange): void {
  res.writeHead(200, {
    'API-Version': DOCKER_API_VERSION,
    'Docker-Experimental': 'false',
    OSType: 'linux',
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    'Content-Type': 'text/plain; charset=utf-8',
  });
  res.end(req.method === 'HEAD' ? undefined : 'OK');
}

async function version({ res, backend }: Exchange): Promise<void> {
  const info = await backend.call('system.info', undefined);
  const { identity } = backend.deps;
  const details = {
    ApiVersion: DOCKER_API_VERSION,
    MinAPIVersion: DOCKER_MIN_API_VERSION,
    GitCommit: identity.buildId.slice(0, 12),
    Os: 'linux',
    Arch: info.arch,
    KernelVersion: info.kernelRelease,
  };
  sendJson(res, 200, {
    Platform: { Name: 'Onggi' },
    Components: [{ Name: 'Engine', Version: engineVersion(identity.version), Details: details }],
    Version: engineVersion(identity.version),
    ApiVersion: DOCKER_API_VERSION,
    MinAPIVersion: DOCKER_MIN_API_VERSION,
    GitCommit: identity.buildId.slice(0, 12),
    GoVersion: `node ${process.version}`,
    Os: 'linux',
    Arch: info.arch,
    KernelVersion: info.kernelRelease,
    BuildTime: info.agent.startedAt,
  });
}

async function info({ res, backend }: Exchange): Promise<void> {
  const [system, containers, images] = await Promise.all([
    backend.call('system.info', undefined),
    backend.call('containers.list', { all: true }),
    backend.call('images.list', undefined),
  ]);
  const running = containers.filter((c) => c.state === 'running' && !c.paused).length;
  const paused = containers.filter((c) => c.paused).length;
  sendJson(res, 200, {
    ID: backend.deps.identity.buildId.slice(0, 12),
    Containers: containers.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: containers.length - running - paused,
    Images: images.length,
    Driver: 'overlay2',
    DriverStatus: [],
    Plugins: { Volume: ['local'], Network: ['bridge', 'null'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    PidsLimit: true,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: String(system.cgroup.version),
    KernelVersion: system.kernelRelease,
    OperatingSystem: system.distro.prettyName,
    OSVersion: system.distro.version,
    OSType: 'linux',
    Architecture: system.machine,
    NCPU: system.cpus,
    MemTotal: system.memoryBytes,
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: [] },
    Name: system.hostname,
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: engineVersion(backend.deps.identity.version),
    Runtimes: { onggi: { path: 'onggi-init' } },
    DefaultRuntime: 'onggi',
    Swarm: { LocalNodeState: 'inactive', ControlAvailable: false, NodeID: '', NodeAddr: '' },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: '',
    SecurityOptions: ['name=no-new-privileges'],
    Warnings: [],
  });
}

async function diskUsage({ res, backend }: Exchange): Promise<void> {
  const df = await backend.call('system.df', undefined);
  const [containers, images, volumes] = await Promise.all([
    backend.call('containers.list', { all: true }),
    backend.call('images.list', undefined),
    // No volume store on this machine: no volumes to count.
    backend.call('volumes.list', { size: true }).catch(() => []),
  ]);
  const layersSize = df.rows.find((row) => row.type === 'images')?.size ?? 0;
  sendJson(res, 200, {
    LayersSize: layersSize,
    Images: df.images.map((image) => {
      const summary = images.find((i) => i.id === image.id);
      return {
        Id: image.id,
        ParentId: '',
        RepoTags: image.names,
        RepoDigests: [],
        Created: unixSeconds(summary?.created),
        Size: image.size,
        SharedSize: image.shared,
        VirtualSize: image.size,
        Labels: {},
        Containers: image.containers,
      };
    }),
    Containers: df.containers.map((container) => {
      const summary = containers.find((c) => c.id === container.id);
      return {
        Id: container.id,
        Names: [`/${container.name}`],
        Image: container.image,
        Command: summary?.command.join(' ') ?? '',
        Created: unixSeconds(summary?.createdAt),
        State: dockerState(container.state, summary?.paused),
        Status: '',
        SizeRw: container.size,
        SizeRootFs: container.size,
        Labels: summary?.labels ?? {},
        Mounts: [],
      };
    }),
    Volumes: volumes.map((volume) => ({
      Name: volume.name,
      Driver: 'local',
      Mountpoint: volume.mountpoint,
      CreatedAt: volume.createdAt,
      Labels: volume.labels,
      Scope: 'local',
      Options: {},
      UsageData: { Size: volume.size ?? -1, RefCount: volume.containers.length },
    })),
    BuildCache: [],
  });
}

const CONTAINER_ACTIONS: Record<string, string> = { created: 'create', running: 'start', exited: 'die', dead: 'die' };

/** `/events`: container state changes as Docker's messages, filtered by type, container, event and label. */
async function events({ res, req, query, backend }: Exchange): Promise<void> {
  const filters = queryFilters(query);
  checkFilterKeys(filters, ['type', 'container', 'event', 'label']);
  const until = queryInt(query, 'until');
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  const labelsOf = new Map<string, Record<string, string>>();
  const listener = (event: AgentEvent): void => {
    if (event.type !== 'container.state' || event.changed) return;
    const action = CONTAINER_ACTIONS[event.state] ?? event.state;
    const wanted =
      (!filters.type || filters.type.includes('container')) &&
      (!filters.event || filters.event.includes(action)) &&
      (!filters.container || filters.container.some((c) => event.id.startsWith(c) || event.name === c));
    if (!wanted) return;
    // The in-memory list (not inspect, which reads the kernel and can fail mid-start): answers in
    // the order asked, so events keep theirs.
    void backend
      .call('containers.list', { all: true })
      .then((list) => list.find((c) => c.id === event.id)?.labels ?? labelsOf.get(event.id) ?? {})
      // No runtime to ask: the labels it had when we last saw it.
      .catch(() => labelsOf.get(event.id) ?? {})
      .then((labels) => {
        labelsOf.set(event.id, labels);
        if (!labelsMatch(filters.label, labels)) return;
        const now = Date.now();
        const attributes = { name: event.name, ...labels, ...(event.exitCode === null ? {} : { exitCode: String(event.exitCode) }) };
        res.write(
          `${JSON.stringify({ status: action, id: event.id, Type: 'container', Action: action, Actor: { ID: event.id, Attributes: attributes }, scope: 'local', time: Math.floor(now / 1000), timeNano: now * 1e6 })}\n`,
        );
      });
  };
  backend.events.subscribe(listener, ['container.state']);
  const stop = (): void => {
    backend.events.unsubscribe(listener);
    res.end();
  };
  req.once('close', stop);
  res.once('close', () => backend.events.unsubscribe(listener));
  if (until !== undefined) setTimeout(stop, Math.max(0, until * 1000 - Date.now()));
}

export function systemRoutes(router: Router): void {
  router
    .add('GET', '/_ping', ping)
    .add('GET', '/version', version)
    .add('GET', '/info', info)
    .add('GET', '/system/df', diskUsage)
    .add('GET', '/events', events);
}
