import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { Digest, ImageSelector } from './images.js';
import { ResourceName } from './names.js';
import { Ipv4Address, NetworkAliases, NetworkAttachment, NetworkName, PublishedPort } from './networks.js';
import { RunOptionFields } from './run-options.js';
import { PrivilegeFields, ProcessSecurity } from './capabilities.js';
import { UnitError, parseCpus, parseMemory, parsePortMapping } from './units.js';
import { MountList, MountPoint } from './volumes.js';
import { HealthConfig, HealthState } from './health.js';
import { SeccompSummary, SecurityOptionFields } from './seccomp-profile.js';
import { ResourceOptionFields, checkMemorySwap } from './resource-options.js';
import { UsernsDefault, UsernsMaps, UsernsMode } from './userns.js';

export const ContainerId = lazySchema(() => z.string().regex(/^[a-f0-9]{64}$/));
/** A container by name, full id, or an id prefix of at least 4 hex digits (as Docker allows). */
export const ContainerSelector = lazySchema(() => z.string().min(1).max(128));

const withUnit =
  <T>(parse: (input: string | number) => T) =>
  (value: string | number, ctx: z.RefinementCtx): T => {
    try {
      return parse(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof UnitError ? error.message : String(error) });
      return z.NEVER;
    }
  };

export const MemoryLimit = lazySchema(() => z.union([z.string().max(32), z.number()]).transform(withUnit(parseMemory)));
export const CpuLimit = lazySchema(() => z.union([z.string().max(32), z.number()]).transform(withUnit(parseCpus)));

export const ResourceLimits = lazySchema(() =>
  z
    .strictObject({
      /** CPUs, fractional (`0.5` = half of one CPU's time). */
      cpus: CpuLimit.optional(),
      /** Bytes, or a size with a unit (`64m`). Swap is not added on top. */
      memory: MemoryLimit.optional(),
      pids: z.number().int().min(1).max(4_194_304).optional(),
      ...ResourceOptionFields,
    })
    .superRefine(checkMemorySwap),
);

/** The most bytes one log file may hold before it rotates (`--log-opt max-size`, Docker's units). */
export const LogMaxSize = lazySchema(() =>
  z
    .union([z.string().max(32), z.number()])
    .transform(withUnit(parseMemory))
    .refine((bytes) => bytes >= 4096, { message: 'must be at least 4k' }),
);
/** Log files kept in all, the current one included (`--log-opt max-file`). */
export const LogMaxFiles = lazySchema(() => z.number().int().min(1).max(1000));

/** Where a container's output goes: rotated by its supervisor at maxSize, maxFiles files kept. */
export const LogOptions = lazySchema(() => z.strictObject({ maxSize: LogMaxSize.optional(), maxFiles: LogMaxFiles.optional() }));
export type LogOptions = z.infer<typeof LogOptions>;
/** Used when neither the container nor the machine says otherwise: 10 MiB × 3. */
export const DEFAULT_LOG_OPTIONS = { maxSize: 10 * 1024 * 1024, maxFiles: 3 } as const;

const EnvEntry = lazySchema(() =>
  z
    .string()
    .max(131072)
    .regex(/^[A-Za-z_][A-Za-z0-9_]*=/, 'must be NAME=value with a name of letters, digits and _'),
);
const Hostname = lazySchema(() =>
  z
    .string()
    .max(63)
    .regex(/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/, 'must be letters, digits and inner hyphens'),
);
/** `USER[:GROUP]`, each a number or a name looked up in the image's /etc/passwd and /etc/group (Docker's `--user`). */
const UserSpec = lazySchema(() =>
  z
    .string()
    .max(65)
    .regex(
      /^([a-z_][a-z0-9_.-]{0,31}\$?|\d{1,10})(:([a-z_][a-z0-9_.-]{0,31}\$?|\d{1,10}))?$/i,
      'must be USER[:GROUP], each a name or a number',
    ),
);
/** `[HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]`, kept as typed (the agent parses it again with the same function). */
const PortSpec = lazySchema(() =>
  z
    .string()
    .max(64)
    .superRefine((text, ctx) => {
      try {
        parsePortMapping(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof UnitError ? error.message : String(error) });
      }
    }),
);
/** Networks to join, in order (`eth0`, `eth1`, …); `['none']` for no network; absent for the default bridge. */
const NetworkList = lazySchema(() =>
  z
    .array(
      z.string().superRefine((name, ctx) => {
        // One element schema (not a union), so a bad name gets NetworkName's own words.
        const parsed = name === 'none' ? undefined : NetworkName.safeParse(name);
        if (parsed && !parsed.success)
          ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'is not a network name' });
      }),
    )
    .min(1)
    .max(16)
    .refine((list) => !list.includes('none') || list.length === 1, { message: '"none" cannot be combined with other networks' })
    .refine((list) => new Set(list).size === list.length, { message: 'lists a network twice' }),
);

export const RestartPolicy = lazySchema(() => z.enum(['no', 'on-failure', 'always', 'unless-stopped']));

export const ContainerSpec = lazySchema(() =>
  z.strictObject({
    image: ImageSelector,
    name: ResourceName.optional(),
    /** Replaces the image's CMD. */
    command: z.array(z.string().max(131072)).max(4096).optional(),
    /** Replaces the image's ENTRYPOINT; `[]` clears it. */
    entrypoint: z.array(z.string().max(131072)).max(4096).optional(),
    env: z.array(EnvEntry).max(4096).optional(),
    workingDir: z.string().max(4096).startsWith('/', 'must be an absolute path').optional(),
    user: UserSpec.optional(),
    hostname: Hostname.optional(),
    limits: ResourceLimits.optional(),
    /** Remove the container when it exits (`--rm`). */
    autoRemove: z.boolean().optional(),
    restart: RestartPolicy.optional(),
    networks: NetworkList.optional(),
    /** More names on a network (`--network-alias`), by the network as `networks` names it; a user network only. */
    networkAliases: z.record(z.string().max(128), NetworkAliases).optional(),
    /** Published ports (`-p`). */
    ports: z.array(PortSpec).max(256).optional(),
    /** A static address on the first network (`--ip`). */
    ip: Ipv4Address.optional(),
    /** Log rotation (`--log-opt max-size=10m,max-file=3`); absent fields take the machine's default. */
    log: LogOptions.optional(),
    /** Bind mounts, volumes and tmpfs (`-v`, `--mount`, `--tmpfs`); the image's VOLUMEs not listed here become anonymous volumes. */
    mounts: MountList.optional(),
    /** The container's own process gets a terminal (`-t`): a pty its supervisor keeps for attachers. */
    tty: z.boolean().optional(),
    /** Its stdin stays open for attachers (`-i`); their EOF closes it. */
    stdinOpen: z.boolean().optional(),
    ...RunOptionFields,
    ...PrivilegeFields,
    ...SecurityOptionFields,
    /** `--health-*` and `--no-healthcheck` (test `["NONE"]`); fields left out take the image's HEALTHCHECK. */
    healthcheck: HealthConfig.optional(),
    /** `--userns`: `auto` a range of the machine's ids of its own, `host` the machine's; absent: the machine's default. */
    userns: UsernsMode.optional(),
  }),
);
export type ContainerSpecInput = z.input<typeof ContainerSpec>;
export type ContainerSpec = z.infer<typeof ContainerSpec>;

export const ContainerState = lazySchema(() => z.enum(['created', 'running', 'exited', 'dead']));
export type ContainerState = z.infer<typeof ContainerState>;

export const ContainerSummary = lazySchema(() =>
  z.strictObject({
    id: ContainerId,
    name: z.string().max(128),
    image: z.string().max(512),
    imageId: Digest,
    command: z.array(z.string()),
    state: ContainerState,
    /** The container's init process as the machine's kernel numbers it. */
    pid: z.number().int().positive().nullable(),
    exitCode: z.number().int().nullable(),
    oomKilled: z.boolean(),
    error: z.string().max(4096).nullable(),
    createdAt: z.string().max(64),
    startedAt: z.string().max(64).nullable(),
    finishedAt: z.string().max(64).nullable(),
    /** Published ports (what the host forwards to the desktop while the container runs). */
    ports: z.array(PublishedPort).optional(),
    /** Created with a terminal (`-t`): its own console is what a terminal on it shows. */
    tty: z.boolean().optional(),
    /** `--label`s, for `ps --filter label=…`. */
    labels: z.record(z.string(), z.string()).optional(),
    /** Frozen by `pause` (state stays running, as in Docker's ps: `Up 5s (Paused)`). */
    paused: z.boolean().optional(),
    /** When it has a healthcheck: its status, failures in a row and last results. */
    health: HealthState.optional(),
    /** Created with `--privileged` (the window marks it). */
    privileged: z.boolean().optional(),
  }),
);
export type ContainerSummary = z.infer<typeof ContainerSummary>;

export const NamespaceKind = lazySchema(() => z.enum(['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup', 'user']));

export const ContainerDetail = lazySchema(() =>
  ContainerSummary.extend({
    spec: z.unknown(),
    /** Each namespace's inode as the kernel reports it (`readlink /proc/PID/ns/KIND`), when running. */
    namespaces: z.record(z.string(), z.number().int()).nullable(),
    cgroup: z.strictObject({
      version: z.union([z.literal(1), z.literal(2)]),
      /** The container's cgroup directory in each hierarchy. */
      paths: z.array(z.string()),
      /** The limit files and the values written to them. */
      limits: z.record(z.string(), z.string()),
    }),
    rootfs: z.strictObject({ lowerdirs: z.array(z.string()), upperdir: z.string(), workdir: z.string(), merged: z.string() }),
    logPath: z.string(),
    hostname: z.string(),
    /** The networks it is attached to: interface, address, MAC and the veth's host end. */
    networks: z.array(NetworkAttachment).optional(),
    /** Its bind mounts, volumes and tmpfs. */
    mounts: z.array(MountPoint).optional(),
    /** What its first process may do, read from /proc by the agent while it runs (null when it does not). */
    security: ProcessSecurity.nullable().optional(),
    /** With its own user namespace (`--userns=auto`): the maps (as /proc/PID/uid_map says while it runs). */
    userns: UsernsMaps.optional(),
    /** Its seccomp profile (default, unconfined or the file's name), rule count and no_new_privs. */
    seccomp: SeccompSummary.optional(),
  }),
);
export type ContainerDetail = z.infer<typeof ContainerDetail>;

export const ContainerStats = lazySchema(() =>
  z.strictObject({
    at: z.string(),
    cpu: z.strictObject({ usageNs: z.number().nonnegative(), limitCpus: z.number().nullable() }),
    memory: z.strictObject({ usage: z.number().nonnegative(), limit: z.number().nullable() }),
    pids: z.strictObject({ current: z.number().int().nonnegative(), limit: z.number().int().nullable() }),
  }),
);
export type ContainerStats = z.infer<typeof ContainerStats>;

export const LogEntry = lazySchema(() => z.strictObject({ time: z.string(), stream: z.enum(['stdout', 'stderr']), log: z.string() }));
export type LogEntry = z.infer<typeof LogEntry>;

export const ContainerEvent = lazySchema(() =>
  z.strictObject({
    type: z.literal('container.state'),
    id: ContainerId,
    name: z.string(),
    state: ContainerState,
    exitCode: z.number().int().nullable(),
    /** Something besides the state changed (paused, health, name): the summary is worth reading again. */
    changed: z.literal(true).optional(),
  }),
);
export const ContainerLogEvent = lazySchema(() =>
  z.strictObject({
    type: z.literal('container.log'),
    /** Echoes containers.logs's streamId; sent only to the connection that asked. */
    streamId: z.string().max(128),
    entries: z.array(LogEntry),
  }),
);

const Ref = lazySchema(() => z.strictObject({ container: ContainerSelector }));

/** Longest a start with waitForAttach holds output for an attacher that does not come. */
export const ATTACH_WAIT_MS = 10_000;

/** A running container's console: the unix socket its supervisor serves, and what it carries. */
export const ContainerConsole = lazySchema(() =>
  z.strictObject({
    socket: z.string().startsWith('/').max(4096),
    tty: z.boolean(),
    stdinOpen: z.boolean(),
  }),
);
export type ContainerConsole = z.infer<typeof ContainerConsole>;

export const containerMethods = {
  'containers.create': { params: ContainerSpec, result: lazySchema(() => z.strictObject({ id: ContainerId, name: z.string() })) },
  'containers.start': {
    params: Ref.extend({
      /** Hold the container's output until the first attacher connects (at most ATTACH_WAIT_MS), so `start -a` misses none of it. */
      waitForAttach: z.boolean().optional(),
    }),
    result: ContainerSummary,
  },
  'containers.stop': {
    params: lazySchema(() =>
      z.strictObject({ container: ContainerSelector, timeoutSeconds: z.number().int().min(0).max(3600).optional() }),
    ),
    result: ContainerSummary,
  },
  'containers.kill': {
    params: lazySchema(() =>
      z.strictObject({
        container: ContainerSelector,
        signal: z
          .string()
          .regex(/^(SIG)?[A-Z0-9+-]{2,10}$|^\d{1,2}$/)
          .optional(),
      }),
    ),
    result: ContainerSummary,
  },
  'containers.remove': {
    params: lazySchema(() =>
      z.strictObject({
        container: ContainerSelector,
        force: z.boolean().optional(),
        /** Remove its anonymous volumes too (`rm -v`). */
        volumes: z.boolean().optional(),
      }),
    ),
    result: lazySchema(() => z.strictObject({ id: ContainerId })),
  },
  'containers.list': {
    params: lazySchema(() => z.strictObject({ all: z.boolean().optional() }).optional()),
    result: lazySchema(() => z.array(ContainerSummary)),
  },
  'containers.inspect': { params: Ref, result: ContainerDetail },
  'containers.logs': {
    params: lazySchema(() =>
      z.strictObject({
        container: ContainerSelector,
        tail: z.number().int().min(0).max(1_000_000).optional(),
        /** Only entries at or after this time (RFC 3339; the CLI turns `10m` into one). */
        since: z.iso.datetime({ offset: true }).optional(),
        /**
         * With streamId, entries come as container.log events with this id (the result is then
         * empty); with follow too, new entries keep coming until the container ends.
         */
        follow: z.boolean().optional(),
        streamId: z.string().min(1).max(128).optional(),
      }),
    ),
    result: lazySchema(() => z.strictObject({ entries: z.array(LogEntry) })),
  },
  /** The machine's default log rotation: with fields, changes them (for containers created from now on); answers the default in force. */
  'containers.logDefaults': {
    params: LogOptions.optional(),
    result: lazySchema(() => z.strictObject({ maxSize: z.number().int().positive(), maxFiles: LogMaxFiles })),
  },
  /** The machine's default --userns: with a mode, changes it (for containers created from now on); answers the default in force. */
  'containers.usernsDefault': { params: UsernsDefault.optional(), result: lazySchema(() => z.strictObject({ mode: UsernsMode })) },
  'containers.wait': { params: Ref, result: lazySchema(() => z.strictObject({ exitCode: z.number().int(), oomKilled: z.boolean() })) },
  'containers.stats': { params: Ref, result: ContainerStats },
  /** What `agent exec` needs to enter a running container with the container's own security settings. */
  'containers.execSpec': { params: Ref, result: lazySchema(() => z.strictObject({ helperArgs: z.array(z.string()) })) },
  /** What `agent attach` needs to reach a running container's console (see vm-assets/init/console.h). */
  'containers.attachSpec': { params: Ref, result: ContainerConsole },
} as const;
