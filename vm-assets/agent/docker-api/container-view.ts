// Containers as Docker's clients read them: the list entry (`docker ps`, compose's project lookup)
// and the inspect document (the fields compose, IDEs and testcontainers read), made from the
// agent's own summary, detail and the image's config.
import type { ContainerDetail, ContainerState, ContainerSummary } from '../../../shared/containers.js';
import { ContainerSpec } from '../../../shared/containers.js';
import { parseDeviceMapping } from '../../../shared/capabilities.js';
import { containerStatus } from '../../../shared/container-status.js';
import type { ImageDetail } from '../../../shared/images.js';
import type { PublishedPort } from '../../../shared/networks.js';
import { ZERO_TIME, unixSeconds } from './http-io.js';

export function dockerState(state: ContainerState, paused = false): string {
  return paused ? 'paused' : state;
}

/** `NetworkSettings.Ports`: `{"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}`. */
function portMap(
  ports: readonly PublishedPort[] | undefined,
  exposed: readonly string[],
): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const map: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const key of exposed) map[key.includes('/') ? key : `${key}/tcp`] = null;
  for (const port of ports ?? []) {
    const key = `${port.containerPort}/${port.protocol}`;
    (map[key] ??= []).push({ HostIp: port.hostIp, HostPort: String(port.hostPort) });
  }
  return map;
}

/**
 * The agent's default network as Docker names it: dockerd calls its default network `bridge`, and
 * so do /networks here; the container views must use the same name (`docker inspect -f
 * '{{.NetworkSettings.Networks.bridge.IPAddress}}'`, `ps --filter network=bridge`).
 */
export interface DefaultNetwork {
  id: string;
  name: string;
}

export function dockerNetworkName(name: string, defaultNetwork: DefaultNetwork | undefined): string {
  return defaultNetwork && name === defaultNetwork.name ? 'bridge' : name;
}

export function listEntry(c: ContainerSummary, networks: ContainerDetail['networks'] = [], defaultNetwork?: DefaultNetwork) {
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.image,
    ImageID: c.imageId,
    Command: c.command.join(' '),
    Created: unixSeconds(c.createdAt),
    Ports: (c.ports ?? []).map((p) => ({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol })),
    Labels: c.labels ?? {},
    State: dockerState(c.state, c.paused),
    Status: containerStatus(c),
    HostConfig: { NetworkMode: networks[0] ? dockerNetworkName(networks[0].network, defaultNetwork) : 'none' },
    NetworkSettings: { Networks: networkEntries(networks, defaultNetwork) },
    Mounts: [],
  };
}

type Attachment = NonNullable<ContainerDetail['networks']>[number];

function networkEntries(
  networks: ContainerDetail['networks'] = [],
  defaultNetwork: DefaultNetwork | undefined,
  aliasesOf = (n: Attachment): string[] | null => n.aliases ?? null,
) {
  return Object.fromEntries(
    networks.map((n) => [
      dockerNetworkName(n.network, defaultNetwork),
      {
        NetworkID: n.networkId,
        EndpointID: n.hostVeth,
        Gateway: n.gateway,
        IPAddress: n.ip,
        IPPrefixLen: n.prefixLength,
        MacAddress: n.mac,
        Aliases: aliasesOf(n),
        IPAMConfig: null,
        Links: null,
        IPv6Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        DriverOpts: null,
      },
    ]),
  );
}

function healthOf(c: ContainerSummary) {
  if (!c.health) return undefined;
  return {
    Status: c.health.status,
    FailingStreak: c.health.failingStreak,
    Log: c.health.log.map((entry) => ({ Start: entry.start, End: entry.end, ExitCode: entry.exitCode, Output: entry.output })),
  };
}

/** A `--device` string (shared/capabilities.ts's form) as HostConfig.Devices lists it. */
function dockerDevice(text: string) {
  const parsed = parseDeviceMapping(text);
  return typeof parsed === 'string'
    ? { PathOnHost: text, PathInContainer: text, CgroupPermissions: 'rwm' }
    : { PathOnHost: parsed.host, PathInContainer: parsed.container, CgroupPermissions: parsed.permissions };
}

/** HostConfig.SecurityOpt as dockerd records it (a profile shows as its name, not its JSON). */
function securityOpt(spec: ContainerSpec | undefined): string[] | null {
  const list = [
    ...(spec?.seccomp?.kind === 'unconfined' ? ['seccomp=unconfined'] : []),
    ...(spec?.seccomp?.kind === 'profile' ? [`seccomp=${spec.seccomp.name}`] : []),
    ...(spec?.noNewPrivileges === undefined ? [] : [`no-new-privileges=${spec.noNewPrivileges}`]),
  ];
  return list.length ? list : null;
}

/**
 * `userNetworks`: the ids of the machine's user networks, where dockerd lists the container's
 * short id after its aliases (it answers to it there); the default bridge has no aliases (null).
 */
export function inspectDocument(
  d: ContainerDetail,
  image: ImageDetail | undefined,
  userNetworks: ReadonlySet<string> = new Set(),
  defaultNetwork?: DefaultNetwork,
) {
  const parsed = ContainerSpec.safeParse(d.spec);
  const spec = parsed.success ? parsed.data : undefined;
  const config = image?.config;
  const ports = d.ports ?? [];
  const exposed = [...new Set([...(config?.exposedPorts ?? []), ...ports.map((p) => `${p.containerPort}/${p.protocol}`)])];
  const running = d.state === 'running';
  const networks = d.networks ?? [];
  const first = networks[0];
  return {
    Id: d.id,
    Created: d.createdAt,
    Path: d.command[0] ?? '',
    Args: d.command.slice(1),
    State: {
      Status: dockerState(d.state, d.paused),
      Running: running,
      Paused: d.paused ?? false,
      Restarting: false,
      OOMKilled: d.oomKilled,
      Dead: d.state === 'dead',
      Pid: d.pid ?? 0,
      ExitCode: d.exitCode ?? 0,
      Error: d.error ?? '',
      StartedAt: d.startedAt ?? ZERO_TIME,
      FinishedAt: d.finishedAt ?? ZERO_TIME,
      ...(d.health ? { Health: healthOf(d) } : {}),
    },
    Image: d.imageId,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: d.logPath,
    Name: `/${d.name}`,
    RestartCount: 0,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      Binds: (spec?.mounts ?? []).filter((m) => m.type === 'bind').map((m) => `${m.source ?? ''}:${m.target}${m.readonly ? ':ro' : ''}`),
      NetworkMode: spec?.networks?.[0] ? dockerNetworkName(spec.networks[0], defaultNetwork) : first ? 'bridge' : 'none',
      PortBindings: Object.fromEntries(Object.entries(portMap(ports, [])).map(([key, bindings]) => [key, bindings])),
      RestartPolicy: { Name: spec?.restart ?? 'no', MaximumRetryCount: 0 },
      AutoRemove: spec?.autoRemove ?? false,
      ReadonlyRootfs: spec?.readOnly ?? false,
      Memory: spec?.limits?.memory ?? 0,
      NanoCpus: Math.round((spec?.limits?.cpus ?? 0) * 1e9),
      PidsLimit: spec?.limits?.pids ?? null,
      CapAdd: spec?.capAdd?.length ? spec.capAdd : null,
      CapDrop: spec?.capDrop?.length ? spec.capDrop : null,
      Privileged: spec?.privileged ?? false,
      Devices: (spec?.devices ?? []).map(dockerDevice),
      Sysctls: spec?.sysctls && Object.keys(spec.sysctls).length ? spec.sysctls : null,
      SecurityOpt: securityOpt(spec),
      LogConfig: { Type: 'json-file', Config: {} },
      Runtime: 'onggi',
      Dns: spec?.dns ?? [],
      ExtraHosts: spec?.addHosts ?? null,
      ShmSize: spec?.shmSize ?? 64 * 1024 * 1024,
    },
    GraphDriver: {
      Name: 'overlay2',
      Data: { LowerDir: d.rootfs.lowerdirs.join(':'), UpperDir: d.rootfs.upperdir, WorkDir: d.rootfs.workdir, MergedDir: d.rootfs.merged },
    },
    Mounts: (d.mounts ?? []).map((m) => ({
      Type: m.type,
      ...(m.name ? { Name: m.name } : {}),
      Source: m.source ?? '',
      Destination: m.target,
      Driver: m.type === 'volume' ? 'local' : '',
      Mode: '',
      RW: !m.readonly,
      Propagation: m.type === 'bind' ? 'rprivate' : '',
    })),
    Config: {
      Hostname: d.hostname,
      Domainname: '',
      User: spec?.user ?? config?.user ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ExposedPorts: Object.fromEntries(exposed.map((key) => [key.includes('/') ? key : `${key}/tcp`, {}])),
      Tty: d.tty ?? false,
      OpenStdin: spec?.stdinOpen ?? false,
      StdinOnce: false,
      Env: [...(config?.env ?? []), ...(spec?.env ?? [])],
      Cmd: spec?.command ?? config?.cmd ?? null,
      Image: d.image,
      Volumes: null,
      WorkingDir: spec?.workingDir ?? config?.workingDir ?? '',
      Entrypoint: spec?.entrypoint ?? config?.entrypoint ?? null,
      Labels: { ...(config?.labels ?? {}), ...(d.labels ?? {}) },
      StopSignal: spec?.stopSignal ?? config?.stopSignal ?? 'SIGTERM',
      ...(spec?.healthcheck || config?.healthcheck
        ? { Healthcheck: { Test: spec?.healthcheck?.test ?? config?.healthcheck?.test ?? [] } }
        : {}),
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      HairpinMode: false,
      Ports: running ? portMap(ports, exposed) : {},
      SandboxKey: d.namespaces?.net ? `/proc/${d.pid ?? 0}/ns/net` : '',
      Gateway: first?.gateway ?? '',
      IPAddress: first?.ip ?? '',
      IPPrefixLen: first?.prefixLength ?? 0,
      MacAddress: first?.mac ?? '',
      Networks: networkEntries(networks, defaultNetwork, (n) => {
        if (!userNetworks.has(n.networkId)) return n.aliases ?? null;
        const shortId = d.id.slice(0, 12);
        const aliases = n.aliases ?? [];
        return aliases.includes(shortId) ? aliases : [...aliases, shortId];
      }),
    },
  };
}
