// `POST /containers/create`'s body as the agent's ContainerSpec. Every field docker clients fill
// is either mapped, ignored because Docker ignores it too (listed in IGNORED, with why), or — when
// it is set to anything but its zero value — refused naming it (`HostConfig.Runtime is not
// supported by Onggi`). The spec is then checked by the agent's own schema, as any RPC call.
import type { ContainerSpecInput } from '../../../shared/containers.js';
import type { DockerContainerCreate, DockerHostConfig } from '../../../shared/docker-api.js';
import type { MountSpecInput } from '../../../shared/volumes.js';
import { parseSeccompProfile, securityOptionFields, type SecurityOptionSpec } from '../../../shared/seccomp-profile.js';
import { badRequest, unsupportedOption } from './errors.js';

/** Fields Docker itself treats as hints, or that only say how the client will attach: never refused. */
const IGNORED = new Set([
  // the client's own attach/wait calls act on these
  'AttachStdin',
  'AttachStdout',
  'AttachStderr',
  'StdinOnce',
  // metadata Docker records without acting on it (inspect reports the image's and the published ones)
  'ExposedPorts',
  'Domainname',
  'OnBuild',
  'ArgsEscaped',
  // the console size is sent again with every resize; the id file is written by the client
  'ConsoleSize',
  'ContainerIDFile',
  // dockerode repeats the `name` query parameter in the body; dockerd reads only the query's
  'name',
]);

/** Empty in every spelling a client uses for "not set". */
function isZero(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.every(isZero);
  if (typeof value === 'object') return Object.values(value).every(isZero);
  return false;
}

/** Set fields this module does not map, checked against the ones it maps. */
export function refuseUnknown(
  object: Record<string, unknown>,
  mapped: readonly string[],
  prefix: string,
  ignoredDefaults: Record<string, unknown[]>,
): void {
  for (const [key, value] of Object.entries(object)) {
    if (mapped.includes(key) || isZero(value)) continue;
    if (IGNORED.has(key)) continue;
    if (ignoredDefaults[key]?.some((ok) => JSON.stringify(ok) === JSON.stringify(value))) continue;
    throw unsupportedOption(`${prefix}${key}`);
  }
}

const CONFIG_MAPPED = [
  'Image',
  'Cmd',
  'Entrypoint',
  'Env',
  'WorkingDir',
  'User',
  'Hostname',
  'Labels',
  'Tty',
  'OpenStdin',
  'Volumes',
  'Healthcheck',
  'StopSignal',
  'StopTimeout',
  'HostConfig',
  'NetworkingConfig',
];
const HOST_MAPPED = [
  'Binds',
  'Mounts',
  'Tmpfs',
  'PortBindings',
  'NetworkMode',
  'Memory',
  'MemorySwap',
  'NanoCpus',
  'CpuShares',
  'CpusetCpus',
  'PidsLimit',
  'RestartPolicy',
  'ReadonlyRootfs',
  'AutoRemove',
  'ShmSize',
  'Dns',
  'DnsSearch',
  'DnsOptions',
  'ExtraHosts',
  'LogConfig',
  'CapAdd',
  'CapDrop',
  'Privileged',
  'Devices',
  'Sysctls',
  'SecurityOpt',
];
/** Values of options we do not implement that are nonetheless what Docker does by default. */
const HOST_DEFAULTS: Record<string, unknown[]> = {
  CgroupnsMode: ['private'],
  IpcMode: ['private', 'shareable'],
  Isolation: ['default'],
  MemorySwappiness: [-1],
};

/** Binds: `SRC:DST[:ro|rw]`; a SRC that is not a path names a volume. */
function bindMount(bind: string, index: number): MountSpecInput {
  const parts = bind.split(':');
  if (parts.length < 2 || parts.length > 3) throw badRequest(`HostConfig.Binds[${index}]: "${bind}" must be SOURCE:TARGET[:ro]`);
  const [source = '', target = '', mode = ''] = parts;
  const modes = mode.split(',').filter(Boolean);
  for (const flag of modes)
    if (!['ro', 'rw', 'z', 'Z', 'rprivate', 'private'].includes(flag)) throw unsupportedOption(`HostConfig.Binds[${index}] mode "${flag}"`);
  const readonly = modes.includes('ro');
  return source.startsWith('/')
    ? { type: 'bind', source, target, createSource: true, ...(readonly ? { readonly } : {}) }
    : { type: 'volume', source, target, ...(readonly ? { readonly } : {}) };
}

function mounts(body: DockerContainerCreate, host: DockerHostConfig): MountSpecInput[] {
  const list: MountSpecInput[] = (host.Binds ?? []).map(bindMount);
  (host.Mounts ?? []).forEach((m, index) => {
    if (m.Type === 'npipe') throw unsupportedOption(`HostConfig.Mounts[${index}].Type npipe`);
    if (m.BindOptions?.Propagation && !['rprivate', 'private'].includes(m.BindOptions.Propagation))
      throw unsupportedOption(`HostConfig.Mounts[${index}].BindOptions.Propagation ${m.BindOptions.Propagation}`);
    const source = m.Source || undefined;
    const tmpfs = m.TmpfsOptions;
    list.push({
      type: m.Type,
      ...(source !== undefined ? { source } : {}),
      target: m.Target,
      ...(m.ReadOnly ? { readonly: true } : {}),
      ...(tmpfs?.SizeBytes ? { tmpfsSize: tmpfs.SizeBytes } : {}),
      ...(tmpfs?.Mode ? { tmpfsMode: tmpfs.Mode } : {}),
    });
  });
  for (const [target, options] of Object.entries(host.Tmpfs ?? {})) {
    const size = /(?:^|,)size=([^,]+)/.exec(options)?.[1];
    list.push({
      type: 'tmpfs',
      target,
      ...(size ? { tmpfsSize: size } : {}),
      ...(options.split(',').includes('noexec') ? { tmpfsNoexec: true } : {}),
    });
  }
  // Config.Volumes: anonymous volumes (`VOLUME` / `-v /data`), unless a mount already covers the path.
  for (const target of Object.keys(body.Volumes ?? {})) if (!list.some((m) => m.target === target)) list.push({ type: 'volume', target });
  return list;
}

/**
 * PortBindings as `-p` strings. An empty host port (`-p 80`) or "0" (testcontainers) gets one the
 * machine has free now, as dockerd picks from its ephemeral range (`freePort`, asked on the machine).
 */
async function ports(host: DockerHostConfig, freePort: () => Promise<number>): Promise<string[]> {
  if (host.PublishAllPorts) throw unsupportedOption('HostConfig.PublishAllPorts', 'publish each port');
  const list: string[] = [];
  for (const [key, bindings] of Object.entries(host.PortBindings ?? {})) {
    for (const binding of bindings ?? []) {
      if (binding.HostPort?.includes('-')) throw unsupportedOption(`a host port range for ${key}`);
      const hostPort = binding.HostPort && binding.HostPort !== '0' ? binding.HostPort : String(await freePort());
      const ip = binding.HostIp && binding.HostIp !== '0.0.0.0' ? `${binding.HostIp}:` : '';
      list.push(`${ip}${hostPort}:${key}`);
    }
  }
  return list;
}

/** NetworkMode and NetworkingConfig as the networks to join, in order. */
function networks(body: DockerContainerCreate, host: DockerHostConfig): string[] | undefined {
  const mode = host.NetworkMode ?? '';
  if (mode === 'host' || mode.startsWith('container:'))
    throw unsupportedOption(`HostConfig.NetworkMode ${mode}`, 'containers get a network namespace of their own');
  const named = Object.keys(body.NetworkingConfig?.EndpointsConfig ?? {});
  const list = ['', 'default', 'bridge'].includes(mode) ? [] : [mode];
  for (const name of named) if (!list.includes(name) && !['default', 'bridge'].includes(name)) list.push(name);
  return list.length ? list : undefined;
}

/** EndpointsConfig's Aliases by network (compose sends the service name); none on the default bridge, as dockerd. */
function networkAliases(body: DockerContainerCreate): Record<string, string[]> | undefined {
  const entries = Object.entries(body.NetworkingConfig?.EndpointsConfig ?? {}).filter(([, c]) => c?.Aliases?.length);
  for (const [name] of entries)
    if (['default', 'bridge'].includes(name))
      throw badRequest('network-scoped alias is supported only for containers in user defined networks');
  return entries.length ? Object.fromEntries(entries.map(([name, c]) => [name, c?.Aliases ?? []])) : undefined;
}

function staticIp(body: DockerContainerCreate): string | undefined {
  const configs = Object.values(body.NetworkingConfig?.EndpointsConfig ?? {});
  return configs.find((c) => c?.IPAMConfig?.IPv4Address)?.IPAMConfig?.IPv4Address ?? undefined;
}

const argv = (value: string | string[] | null | undefined): string[] | undefined =>
  value === null || value === undefined ? undefined : typeof value === 'string' ? [value] : value;

function restart(host: DockerHostConfig): ContainerSpecInput['restart'] {
  const policy = host.RestartPolicy;
  if (!policy?.Name) return undefined;
  if (policy.MaximumRetryCount) throw unsupportedOption('HostConfig.RestartPolicy.MaximumRetryCount');
  if (!['no', 'on-failure', 'always', 'unless-stopped'].includes(policy.Name)) throw badRequest(`invalid restart policy '${policy.Name}'`);
  return policy.Name as ContainerSpecInput['restart'];
}

function logOptions(host: DockerHostConfig): ContainerSpecInput['log'] {
  const config = host.LogConfig;
  if (!config) return undefined;
  if (config.Type && config.Type !== 'json-file') throw unsupportedOption(`HostConfig.LogConfig.Type ${config.Type}`, 'logs are json-file');
  const options = config.Config ?? {};
  for (const key of Object.keys(options))
    if (key !== 'max-size' && key !== 'max-file') throw unsupportedOption(`HostConfig.LogConfig.Config ${key}`);
  const maxSize = options['max-size'];
  const maxFile = options['max-file'];
  if (maxSize === undefined && maxFile === undefined) return undefined;
  return { ...(maxSize ? { maxSize } : {}), ...(maxFile ? { maxFiles: Number(maxFile) } : {}) };
}

function healthcheck(body: DockerContainerCreate): ContainerSpecInput['healthcheck'] {
  const check = body.Healthcheck;
  if (!check || isZero(check)) return undefined;
  const ms = (ns: number | null | undefined) => (ns ? Math.round(ns / 1e6) : undefined);
  const fields = {
    test: check.Test ?? undefined,
    intervalMs: ms(check.Interval),
    timeoutMs: ms(check.Timeout),
    retries: check.Retries || undefined,
    startPeriodMs: ms(check.StartPeriod),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** The resource fields (create's HostConfig and update's body share them) as the spec's limits. */
export function limits(
  host: Pick<DockerHostConfig, 'Memory' | 'MemorySwap' | 'NanoCpus' | 'CpuShares' | 'CpusetCpus' | 'PidsLimit'>,
): ContainerSpecInput['limits'] {
  const out: NonNullable<ContainerSpecInput['limits']> = {};
  if (host.Memory) out.memory = host.Memory;
  if (host.MemorySwap) out.memorySwap = host.MemorySwap;
  if (host.NanoCpus) out.cpus = host.NanoCpus / 1e9;
  if (host.CpuShares) out.cpuShares = host.CpuShares;
  if (host.CpusetCpus) out.cpusetCpus = host.CpusetCpus;
  if (host.PidsLimit && host.PidsLimit > 0) out.pids = host.PidsLimit;
  return Object.keys(out).length ? out : undefined;
}

/**
 * CapAdd, CapDrop, Privileged, Devices, Sysctls and SecurityOpt as the spec's privilege fields.
 * Capability names, device strings and sysctl keys are checked by the agent's own schema
 * (shared/capabilities.ts), so the Docker API and `onggi run` refuse the same values alike.
 */
function privileges(host: DockerHostConfig): Partial<ContainerSpecInput> {
  const devices = (host.Devices ?? []).map(
    (d) => `${d.PathOnHost}:${d.PathInContainer || d.PathOnHost}${d.CgroupPermissions ? `:${d.CgroupPermissions}` : ''}`,
  );
  const security: SecurityOptionSpec = securityOptionFields(
    host.SecurityOpt ?? [],
    // The docker CLI reads `seccomp=FILE` itself and sends the file's JSON text.
    (text) => {
      try {
        return { kind: 'profile', name: 'docker-api', profile: parseSeccompProfile(text, 'HostConfig.SecurityOpt seccomp') };
      } catch (error) {
        throw badRequest((error as Error).message);
      }
    },
    (option) =>
      unsupportedOption(
        `HostConfig.SecurityOpt "${option.slice(0, 200)}"`,
        'supported: seccomp=unconfined, seccomp=PROFILE, no-new-privileges',
      ),
  );
  return {
    ...(host.CapAdd?.length ? { capAdd: host.CapAdd } : {}),
    ...(host.CapDrop?.length ? { capDrop: host.CapDrop } : {}),
    ...(host.Privileged ? { privileged: true } : {}),
    ...(devices.length ? { devices } : {}),
    ...(host.Sysctls && Object.keys(host.Sysctls).length ? { sysctls: host.Sysctls } : {}),
    ...security,
  };
}

/** The agent's spec for a Docker create body (and the `name` query parameter). */
export async function containerSpecFrom(
  body: DockerContainerCreate,
  name: string | undefined,
  freePort: () => Promise<number>,
): Promise<ContainerSpecInput> {
  const host: DockerHostConfig = body.HostConfig ?? {};
  if (host.Runtime && host.Runtime !== 'runc') throw unsupportedOption('HostConfig.Runtime');
  refuseUnknown(body, CONFIG_MAPPED, '', {});
  refuseUnknown(host, [...HOST_MAPPED, 'Runtime', 'PublishAllPorts'], 'HostConfig.', HOST_DEFAULTS);
  const entrypoint = argv(body.Entrypoint);
  const mountList = mounts(body, host);
  const portList = await ports(host, freePort);
  const networkList = networks(body, host);
  const ip = staticIp(body);
  const aliases = networkAliases(body);
  const spec: ContainerSpecInput = {
    image: body.Image,
    ...(name ? { name } : {}),
    ...(argv(body.Cmd) ? { command: argv(body.Cmd) } : {}),
    // `--entrypoint ""` arrives as [""]: it clears the image's.
    ...(entrypoint ? { entrypoint: entrypoint.length === 1 && entrypoint[0] === '' ? [] : entrypoint } : {}),
    ...(body.Env?.length ? { env: body.Env } : {}),
    ...(body.WorkingDir ? { workingDir: body.WorkingDir } : {}),
    ...(body.User ? { user: body.User } : {}),
    ...(body.Hostname ? { hostname: body.Hostname } : {}),
    ...(body.Labels && Object.keys(body.Labels).length ? { labels: body.Labels } : {}),
    ...(body.Tty ? { tty: true } : {}),
    ...(body.OpenStdin ? { stdinOpen: true } : {}),
    ...(body.StopSignal ? { stopSignal: body.StopSignal } : {}),
    ...(body.StopTimeout !== undefined && body.StopTimeout !== null ? { stopTimeout: body.StopTimeout } : {}),
    ...(limits(host) ? { limits: limits(host) } : {}),
    ...(host.AutoRemove ? { autoRemove: true } : {}),
    ...(restart(host) ? { restart: restart(host) } : {}),
    ...(networkList ? { networks: networkList } : {}),
    ...(aliases ? { networkAliases: aliases } : {}),
    ...(portList.length ? { ports: portList } : {}),
    ...(ip ? { ip } : {}),
    ...(mountList.length ? { mounts: mountList } : {}),
    ...(logOptions(host) ? { log: logOptions(host) } : {}),
    ...(host.ReadonlyRootfs ? { readOnly: true } : {}),
    ...(host.ShmSize ? { shmSize: host.ShmSize } : {}),
    ...(host.Dns?.length ? { dns: host.Dns } : {}),
    ...(host.DnsSearch?.length ? { dnsSearch: host.DnsSearch } : {}),
    ...(host.DnsOptions?.length ? { dnsOptions: host.DnsOptions } : {}),
    ...(host.ExtraHosts?.length ? { addHosts: host.ExtraHosts } : {}),
    ...(healthcheck(body) ? { healthcheck: healthcheck(body) } : {}),
    ...privileges(host),
  };
  return spec;
}
