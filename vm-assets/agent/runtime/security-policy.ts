// What a container may do, decided here and only here: the init helper (vm-assets/init) applies
// exactly what this module hands it on its command line and decides nothing itself. The defaults
// follow Docker's (moby oci/defaults.go, oci/caps/defaults.go; its seccomp profile: seccomp-policy.ts),
// so software that runs under Docker runs here, and what Docker keeps out stays out.

import { CAPABILITIES, type Capability } from '../../../shared/capabilities.js';

/** Every capability the helper knows, by number: one list, in shared/ (the CLI and the window name them too). */
export { CAPABILITIES, type Capability };

/** Docker's default set: what a container's root keeps; everything else leaves the bounding set. */
export const DEFAULT_CAPABILITIES: readonly Capability[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Hidden inside the container: directories get an empty read-only tmpfs, files /dev/null. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Visible but read-only inside the container. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * Which device nodes a container may use, as cgroup v1 `devices.allow` lines; everything else is
 * denied. Docker's (runc's) defaults: creating any node is allowed (`m`), opening only the nodes
 * the helper puts in /dev, the pty devices, and tun. Without such rules a container's root, which
 * keeps CAP_MKNOD, can make and open a node for any host device (a disk, the console).
 * On cgroup v1 the cgroup driver writes `a` to devices.deny and then these to devices.allow; on
 * cgroup v2 there is no such file and the helper attaches an equivalent BPF program
 * (`deviceAllow` in RunSpec).
 */
export const DEFAULT_DEVICE_RULES: readonly string[] = [
  'c *:* m',
  'b *:* m',
  'c 1:3 rwm', // null
  'c 1:5 rwm', // zero
  'c 1:7 rwm', // full
  'c 1:8 rwm', // random
  'c 1:9 rwm', // urandom
  'c 5:0 rwm', // tty
  'c 5:1 rwm', // console
  'c 5:2 rwm', // ptmx
  'c 136:* rwm', // pts
  'c 10:200 rwm', // net/tun: useless without CAP_NET_ADMIN, which the container lacks
];

/**
 * The lists together, in the shape the container runtime takes. The seccomp filter is not here:
 * it depends on each container's capabilities and profile (seccomp-policy.ts).
 */
export interface SecurityPolicy {
  caps: readonly Capability[];
  masked: readonly string[];
  readonly: readonly string[];
}

export const DEFAULT_SECURITY_POLICY: SecurityPolicy = {
  caps: DEFAULT_CAPABILITIES,
  masked: MASKED_PATHS,
  readonly: READONLY_PATHS,
};

/** The capability mask as /proc/PID/status prints it (CapEff, CapBnd): 16 hex digits. */
export function capabilityMask(caps: readonly Capability[]): string {
  let mask = 0n;
  for (const cap of caps) mask |= 1n << BigInt(CAPABILITIES.indexOf(cap));
  return mask.toString(16).padStart(16, '0');
}
