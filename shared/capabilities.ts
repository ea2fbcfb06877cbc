// What a user may ask of a container's privileges (`--cap-add/--cap-drop`, `--privileged`,
// `--device`, `--sysctl`) and what the agent reports back about a running one (the Security
// section of inspect and the Kernel tab). Names and their spellings live here so the CLI, the
// window and the agent accept and refuse exactly the same things; what the capabilities become
// is decided by the agent (vm-assets/agent/runtime/capability-set.ts).
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';

/** Every capability by its number (linux/capability.h): index = bit in CapEff/CapBnd. */
export const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** `net_admin`, `CAP_NET_ADMIN`, `Net_Admin` → `CAP_NET_ADMIN`; `all` → `ALL`; undefined when unknown. */
export function capabilityName(text: string): Capability | 'ALL' | undefined {
  const upper = text.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  return (CAPABILITIES as readonly string[]).includes(name) ? (name as Capability) : undefined;
}

/** One `--cap-add`/`--cap-drop` value, made canonical; an unknown one is refused by name. */
export const CapabilityArg = lazySchema(() =>
  z
    .string()
    .max(64)
    .transform((text, ctx) => {
      const name = capabilityName(text);
      if (name) return name;
      ctx.addIssue({ code: 'custom', message: `unknown capability "${text}" (names like NET_ADMIN or CAP_NET_ADMIN, or ALL)` });
      return z.NEVER;
    }),
);

/**
 * Sysctls a container may set: the ones the kernel keeps per namespace (Docker's list: IPC's
 * kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*; the network namespace's net.*; the UTS
 * namespace's kernel.domainname). Anything else would change the whole machine.
 */
const IPC_SYSCTLS = [
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
];

/** `net.ipv4.conf.eth0/100.forwarding` → `net/ipv4/conf/eth0.100/forwarding` (sysctl(8)'s spelling: `/` stands for a dot in a name). */
export function sysctlPath(key: string): string {
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** Why a sysctl key is refused, or undefined when a container may set it. */
export function sysctlRefusal(key: string): string | undefined {
  const parts = sysctlPath(key).split('/');
  if (!/^[a-z0-9_]+(\.[A-Za-z0-9_@:/+-]+)+$/.test(key) || parts.some((part) => part === '' || part === '.' || part === '..'))
    return `"${key}" is not a sysctl name like net.ipv4.ip_forward`;
  if (key === 'kernel.hostname') return "sysctl kernel.hostname conflicts with the container's hostname: use --hostname";
  if (key.startsWith('net.') || key.startsWith('fs.mqueue.') || IPC_SYSCTLS.includes(key) || key === 'kernel.domainname') return undefined;
  return `sysctl ${key} is not namespaced: setting it in a container would change the whole machine (allowed: net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*, kernel.domainname)`;
}

/** `--sysctl KEY=VALUE`s: namespaced keys only (see sysctlRefusal). */
export const Sysctls = lazySchema(() =>
  z
    .record(
      z.string().max(256),
      z
        .string()
        .max(4096)
        .regex(/^[^\0\n]*$/, 'must be one line'),
    )
    .superRefine((sysctls, ctx) => {
      for (const key of Object.keys(sysctls)) {
        const refusal = sysctlRefusal(key);
        if (refusal) ctx.addIssue({ code: 'custom', message: refusal, path: [key] });
      }
      if (Object.keys(sysctls).length > 256) ctx.addIssue({ code: 'custom', message: 'at most 256 sysctls' });
    }),
);

/** `--device HOST[:CONTAINER[:PERMISSIONS]]` split (permissions default rwm, the container path the host's). */
export interface DeviceMapping {
  host: string;
  container: string;
  permissions: string;
}

/** Why a `--device` value is malformed, or its parts. */
export function parseDeviceMapping(text: string): DeviceMapping | string {
  const parts = text.split(':');
  if (parts.length > 3) return `"${text}" is not HOST[:CONTAINER[:rwm]]`;
  const [host = '', second, third] = parts;
  // Docker: a second part without a slash is the permissions (`/dev/fuse:rwm`).
  const secondIsPermissions = second !== undefined && third === undefined && !second.startsWith('/');
  const container = secondIsPermissions || second === undefined || second === '' ? host : second;
  const permissions = (secondIsPermissions ? second : third) ?? 'rwm';
  if (!host.startsWith('/')) return `"${host}" must be an absolute path of a device on the machine`;
  if (!container.startsWith('/') || container === '/' || container.split('/').includes('..'))
    return `"${container}" must be an absolute path inside the container`;
  if (!/^[rwm]{1,3}$/.test(permissions) || new Set(permissions).size !== permissions.length)
    return `"${permissions}" must be some of r, w and m (read, write, mknod)`;
  if (/[\0\n]/.test(text)) return 'a device path must be one line';
  return { host, container, permissions };
}

export const DeviceArg = lazySchema(() =>
  z
    .string()
    .max(4096)
    .superRefine((text, ctx) => {
      const parsed = parseDeviceMapping(text);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
    }),
);

/** The ContainerSpec fields (spread into it). */
export const PrivilegeFields = {
  /** `--cap-add`: capabilities on top of Docker's default set (`ALL` for all of them). */
  capAdd: z.array(CapabilityArg).max(64).optional(),
  /** `--cap-drop`: capabilities taken out of the default set first (`ALL`: start from none). */
  capDrop: z.array(CapabilityArg).max(64).optional(),
  /** `--privileged`: every capability, no seccomp filter, nothing of /proc masked, the machine's devices, /sys writable. */
  privileged: z.boolean().optional(),
  /** `--device`: a device of the machine made in the container and allowed in its devices cgroup. */
  devices: z.array(DeviceArg).max(128).optional(),
  /** `--sysctl KEY=VALUE`, written in the container's own namespaces before its command starts. */
  sysctls: Sysctls.optional(),
};

// ---- what inspect reports ----------------------------------------------------------------------

const IdMapLine = lazySchema(() => z.strictObject({ inside: z.number().int(), outside: z.number().int(), count: z.number().int() }));

/** Read from /proc/PID of the container's first process by the agent: the kernel's word, not the spec's. */
export const ProcessSecurity = lazySchema(() =>
  z.strictObject({
    /** The process it was read from (host pid). */
    pid: z.number().int().positive(),
    /** Capability names, as /proc/PID/status's CapEff, CapPrm, CapBnd (hex) decode. */
    effective: z.array(z.string().max(64)),
    permitted: z.array(z.string().max(64)),
    bounding: z.array(z.string().max(64)),
    /** The raw masks, 16 hex digits, as the kernel prints them. */
    masks: z.strictObject({ effective: z.string().max(32), permitted: z.string().max(32), bounding: z.string().max(32) }),
    /** /proc/PID/status `Seccomp:` 0, 1, 2. */
    seccomp: z.enum(['disabled', 'strict', 'filter']),
    /** `Seccomp_filters:` (kernels from 5.9); null where the kernel does not say. */
    seccompFilters: z.number().int().nonnegative().nullable(),
    noNewPrivs: z.boolean(),
    uidMap: z.array(IdMapLine),
    gidMap: z.array(IdMapLine),
  }),
);
export type ProcessSecurity = z.infer<typeof ProcessSecurity>;

/** Decodes a /proc capability mask (`00000000a80425fb`) into names; bits the list lacks show as `cap_N`. */
export function capabilityNames(mask: string): string[] {
  const bits = BigInt(`0x${mask || '0'}`);
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) if ((bits >> BigInt(bit)) & 1n) names.push(CAPABILITIES[bit] ?? `cap_${bit}`);
  return names;
}
