// The Docker Engine API's request bodies (v1.41), as docker clients send them. Docker's bodies are
// loose (every client sends its own set of zero-valued fields), so each object keeps unknown keys
// here and vm-assets/agent/docker-api refuses any of them that is *set* to something, naming it:
// a field is ignored only where Docker ignores it too.
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';

export const DOCKER_API_VERSION = '1.41';
/** The oldest version we answer to (docker-compose 1.29 asks for 1.25 and up; older clients need fields we do not fill). */
export const DOCKER_MIN_API_VERSION = '1.24';

const Str = (max = 4096) => z.string().max(max);
const StrList = (max = 4096) => z.array(Str(131072)).max(max);
const StringMap = lazySchema(() => z.record(Str(1024), Str(65536)));
/** Docker sends `null` for most empty fields: treated as absent. */
const opt = <T extends z.ZodType>(schema: T) => schema.nullish();

/** A string or an argv (Docker accepts both for Cmd and Entrypoint). */
const StrOrList = lazySchema(() => z.union([Str(131072), StrList()]));

export const DockerPortBinding = lazySchema(() => z.looseObject({ HostIp: opt(Str(64)), HostPort: opt(Str(16)) }));

export const DockerMount = lazySchema(() =>
  z.looseObject({
    Type: z.enum(['bind', 'volume', 'tmpfs', 'npipe']),
    Source: opt(Str()),
    Target: Str(),
    ReadOnly: opt(z.boolean()),
    Consistency: opt(Str(32)),
    BindOptions: opt(z.looseObject({ Propagation: opt(Str(32)), NonRecursive: opt(z.boolean()) })),
    VolumeOptions: opt(z.looseObject({ NoCopy: opt(z.boolean()), Labels: opt(StringMap), DriverConfig: opt(z.unknown()) })),
    TmpfsOptions: opt(z.looseObject({ SizeBytes: opt(z.number().int().nonnegative()), Mode: opt(z.number().int().min(0).max(0o7777)) })),
  }),
);

export const DockerHealthcheck = lazySchema(() =>
  z.looseObject({
    Test: opt(StrList(4096)),
    Interval: opt(z.number().int().nonnegative()),
    Timeout: opt(z.number().int().nonnegative()),
    Retries: opt(z.number().int().nonnegative()),
    StartPeriod: opt(z.number().int().nonnegative()),
  }),
);

export const DockerHostConfig = lazySchema(() =>
  z.looseObject({
    Binds: opt(z.array(Str()).max(256)),
    Mounts: opt(z.array(DockerMount).max(256)),
    Tmpfs: opt(StringMap),
    PortBindings: opt(z.record(Str(32), z.array(DockerPortBinding).max(64).nullable())),
    PublishAllPorts: opt(z.boolean()),
    NetworkMode: opt(Str(128)),
    Memory: opt(z.number().int().nonnegative()),
    MemorySwap: opt(z.number().int().min(-1)),
    NanoCpus: opt(z.number().int().nonnegative()),
    CpuShares: opt(z.number().int().nonnegative()),
    CpusetCpus: opt(Str(256)),
    PidsLimit: opt(z.number().int()),
    RestartPolicy: opt(z.looseObject({ Name: opt(Str(32)), MaximumRetryCount: opt(z.number().int().nonnegative()) })),
    ReadonlyRootfs: opt(z.boolean()),
    AutoRemove: opt(z.boolean()),
    ShmSize: opt(z.number().int().nonnegative()),
    Dns: opt(z.array(Str(64)).max(16)),
    DnsSearch: opt(z.array(Str(256)).max(32)),
    DnsOptions: opt(z.array(Str(64)).max(32)),
    ExtraHosts: opt(z.array(Str(300)).max(256)),
    LogConfig: opt(z.looseObject({ Type: opt(Str(64)), Config: opt(StringMap) })),
    CapAdd: opt(z.array(Str(64)).max(64)),
    CapDrop: opt(z.array(Str(64)).max(64)),
    Privileged: opt(z.boolean()),
    Devices: opt(z.array(z.looseObject({ PathOnHost: Str(), PathInContainer: opt(Str()), CgroupPermissions: opt(Str(8)) })).max(128)),
    Sysctls: opt(z.record(Str(256), Str())),
    /** `seccomp=unconfined`, `seccomp=<the profile's JSON text>` (the CLI sends the file's content), `no-new-privileges[:true]`. */
    SecurityOpt: opt(z.array(Str(1_048_576)).max(32)),
    Runtime: opt(Str(64)),
  }),
);
export type DockerHostConfig = z.infer<typeof DockerHostConfig>;

/** `POST /containers/{id}/update`: Resources' fields and RestartPolicy, flat as the CLI sends them. */
export const DockerContainerUpdate = lazySchema(() =>
  DockerHostConfig.pick({
    Memory: true,
    MemorySwap: true,
    NanoCpus: true,
    CpuShares: true,
    CpusetCpus: true,
    PidsLimit: true,
    RestartPolicy: true,
  }).extend({ BlkioWeight: opt(z.number().int().nonnegative()) }),
);
export type DockerContainerUpdate = z.infer<typeof DockerContainerUpdate>;

export const DockerEndpointConfig = lazySchema(() =>
  z.looseObject({
    Aliases: opt(z.array(Str(256)).max(64)),
    IPAMConfig: opt(z.looseObject({ IPv4Address: opt(Str(64)) })),
  }),
);

export const DockerContainerCreate = lazySchema(() =>
  z.looseObject({
    Image: Str(512).min(1, 'an image is required'),
    Cmd: opt(StrOrList),
    Entrypoint: opt(StrOrList),
    Env: opt(StrList()),
    WorkingDir: opt(Str()),
    User: opt(Str(65)),
    Hostname: opt(Str(63)),
    Labels: opt(StringMap),
    Tty: opt(z.boolean()),
    OpenStdin: opt(z.boolean()),
    ExposedPorts: opt(z.record(Str(32), z.unknown())),
    Volumes: opt(z.record(Str(), z.unknown())),
    Healthcheck: opt(DockerHealthcheck),
    StopSignal: opt(Str(16)),
    StopTimeout: opt(z.number().int().nonnegative()),
    HostConfig: opt(DockerHostConfig),
    NetworkingConfig: opt(z.looseObject({ EndpointsConfig: opt(z.record(Str(128), DockerEndpointConfig.nullable())) })),
  }),
);
export type DockerContainerCreate = z.infer<typeof DockerContainerCreate>;

export const DockerNetworkCreate = lazySchema(() =>
  z.looseObject({
    Name: Str(128).min(1, 'a network name is required'),
    Driver: opt(Str(64)),
    CheckDuplicate: opt(z.boolean()),
    Internal: opt(z.boolean()),
    Attachable: opt(z.boolean()),
    EnableIPv6: opt(z.boolean()),
    Labels: opt(StringMap),
    Options: opt(StringMap),
    IPAM: opt(
      z.looseObject({
        Driver: opt(Str(64)),
        Config: opt(z.array(z.looseObject({ Subnet: opt(Str(64)), Gateway: opt(Str(64)), IPRange: opt(Str(64)) })).max(8)),
        Options: opt(StringMap),
      }),
    ),
  }),
);

export const DockerNetworkConnect = lazySchema(() =>
  z.looseObject({
    Container: Str(128).min(1, 'a container is required'),
    EndpointConfig: opt(DockerEndpointConfig),
    Force: opt(z.boolean()),
  }),
);

export const DockerVolumeCreate = lazySchema(() =>
  z.looseObject({
    Name: opt(Str(128)),
    Driver: opt(Str(64)),
    DriverOpts: opt(StringMap),
    Labels: opt(StringMap),
  }),
);

export const DockerExecCreate = lazySchema(() =>
  z.looseObject({
    Cmd: StrList().min(1, 'a command is required'),
    AttachStdin: opt(z.boolean()),
    AttachStdout: opt(z.boolean()),
    AttachStderr: opt(z.boolean()),
    Tty: opt(z.boolean()),
    Env: opt(StrList()),
    User: opt(Str(65)),
    WorkingDir: opt(Str()),
    Privileged: opt(z.boolean()),
    DetachKeys: opt(Str(64)),
    ConsoleSize: opt(z.array(z.number().int().nonnegative()).max(2)),
  }),
);
export type DockerExecCreate = z.infer<typeof DockerExecCreate>;

export const DockerExecStart = lazySchema(() =>
  z.looseObject({ Detach: opt(z.boolean()), Tty: opt(z.boolean()), ConsoleSize: opt(z.unknown()) }),
);

/** `filters` in a query: `{"label":["a=b"],"status":{"running":true}}` (both spellings Docker accepts). */
export const DockerFilters = lazySchema(() => z.record(Str(64), z.union([z.array(Str(1024)).max(64), z.record(Str(1024), z.boolean())])));
export type DockerFilters = z.infer<typeof DockerFilters>;

/** The Docker API's socket on a machine: beside the agent's own (same directory, root only). */
export function dockerSocketBeside(agentSocket: string): string {
  return agentSocket.replace(/[^/]*$/, 'docker.sock');
}
