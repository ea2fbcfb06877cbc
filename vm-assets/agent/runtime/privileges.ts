// What a container's --cap-add/--cap-drop, --privileged, --device and --sysctl become: the
// capability set its processes keep, whether the default seccomp filter and the masked and
// read-only /proc paths apply, the device nodes made in it and the device rules of its cgroup, and
// the sysctls written inside it. Decided here; the helper applies (vm-assets/init/privileges.c,
// security.c). The seccomp policy takes effectiveCapabilities' answer as its input.
import { readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { CAPABILITIES, parseDeviceMapping, sysctlPath, type Capability } from '../../../shared/capabilities.js';
import type { ContainerSpec } from '../../../shared/containers.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { DeviceNode } from './helper-protocol.js';
import { deviceNumbers } from './resource-limits.js';
import { seccompSettings } from './seccomp-policy.js';
import { DEFAULT_DEVICE_RULES, type SecurityPolicy } from './security-policy.js';

type PrivilegeSpec = Pick<ContainerSpec, 'capAdd' | 'capDrop' | 'privileged' | 'devices' | 'sysctls'>;

/**
 * Docker's rule (moby oci/caps TweakCapabilities): `--privileged` or `--cap-add ALL` gives every
 * capability (minus --cap-drop's, for ALL); `--cap-drop ALL` keeps only --cap-add's; otherwise
 * the default set less --cap-drop's, plus --cap-add's. In CAPABILITIES order, each once.
 */
export function effectiveCapabilities(spec: PrivilegeSpec, base: readonly Capability[]): Capability[] {
  const add = new Set<string>(spec.capAdd ?? []);
  const drop = new Set<string>(spec.capDrop ?? []);
  let keep: (name: Capability) => boolean;
  if (spec.privileged) keep = () => true;
  else if (add.has('ALL')) keep = (name) => !drop.has(name);
  else if (drop.has('ALL')) keep = (name) => add.has(name);
  else keep = (name) => (base.includes(name) && !drop.has(name)) || add.has(name);
  return CAPABILITIES.filter(keep);
}

/** The security lists for this container: the machine's policy, widened by its options. */
export function containerPolicy(spec: PrivilegeSpec, policy: SecurityPolicy): SecurityPolicy {
  if (spec.privileged) return { ...policy, caps: effectiveCapabilities(spec, policy.caps), masked: [], readonly: [] };
  return { ...policy, caps: effectiveCapabilities(spec, policy.caps) };
}

/**
 * The container's seccomp filter, built for its effective capabilities (`caps`): Docker's default
 * profile or the user's, none with `--privileged` (as Docker: privileged wins over a profile).
 */
export function containerSeccomp(spec: PrivilegeSpec & Pick<ContainerSpec, 'seccomp' | 'noNewPrivileges'>, caps: readonly string[]) {
  return seccompSettings(spec.privileged ? { ...spec, seccomp: { kind: 'unconfined' } } : spec, caps);
}

function refuse(field: string, message: string): OnggiError {
  return new OnggiError(ErrorCode.InvalidParams, 'invalid_params', message, `params.${field}`);
}

function deviceStat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** `--device`s as nodes to make, each checked on this machine: a path that is no device is refused by name. */
function userDevices(spec: PrivilegeSpec): Array<DeviceNode & { permissions: string }> {
  return (spec.devices ?? []).map((text, index) => {
    const mapping = parseDeviceMapping(text);
    if (typeof mapping === 'string') throw refuse(`devices.${index}`, `--device ${text}: ${mapping}`);
    const stat = deviceStat(mapping.host);
    if (!stat) throw refuse(`devices.${index}`, `--device ${text}: there is no device ${mapping.host} on this machine`);
    if (!stat.isCharacterDevice() && !stat.isBlockDevice())
      throw refuse(`devices.${index}`, `--device ${text}: ${mapping.host} is not a character or block device`);
    return { ...nodeOf(stat, mapping.container), permissions: mapping.permissions };
  });
}

function nodeOf(stat: Stats, path: string): DeviceNode {
  const { major, minor } = deviceNumbers(stat.rdev);
  return { type: stat.isBlockDevice() ? 'b' : 'c', major, minor, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, path };
}

/** Refuses at create what start could not do, before anything is made. */
export function checkPrivileges(spec: PrivilegeSpec & Pick<ContainerSpec, 'userns'>): void {
  // Inside a user namespace the kernel refuses mknod and the machine's /sys: Docker refuses the pair too.
  if (spec.userns === 'auto' && spec.privileged) throw refuse('privileged', '--privileged cannot be used with --userns=auto');
  if (spec.userns === 'auto' && (spec.devices?.length ?? 0) > 0)
    throw refuse('devices', '--device cannot be used with --userns=auto (device nodes cannot be made in a user namespace)');
  userDevices(spec);
}

// /dev entries a privileged container does not get from the machine: filesystems the helper
// mounts its own of, links it makes, and the nodes it already made (runc's GetDevices skips the same).
const SKIPPED_DIRS = new Set(['pts', 'shm', 'mqueue', 'fd', '.lxc', '.lxd-mounts', '.udev']);
const SKIPPED_NODES = new Set(['console', 'ptmx', 'null', 'zero', 'full', 'random', 'urandom', 'tty']);

/** The machine's device nodes under dir (as Docker gives a privileged container: made, not bound). */
export function hostDevices(dir = '/dev', inside = '/dev'): DeviceNode[] {
  const nodes: DeviceNode[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return nodes;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) nodes.push(...hostDevices(path, join(inside, entry.name)));
    } else if ((entry.isCharacterDevice() || entry.isBlockDevice()) && !(dir === '/dev' && SKIPPED_NODES.has(entry.name))) {
      const stat = deviceStat(path);
      if (stat) nodes.push(nodeOf(stat, join(inside, entry.name)));
    }
  }
  return nodes;
}

/** What the helper makes and the cgroup allows, for a start: read from the machine now. */
export function containerDevices(spec: PrivilegeSpec): { nodes: DeviceNode[]; rules: readonly string[] } {
  const requested = userDevices(spec);
  const nodes = [...(spec.privileged ? hostDevices() : []), ...requested.map(({ permissions: _, ...node }) => node)];
  // A privileged container's devices cgroup allows everything (`a`), as Docker's does.
  const rules = spec.privileged
    ? ['a']
    : [...DEFAULT_DEVICE_RULES, ...requested.map((d) => `${d.type} ${d.major}:${d.minor} ${d.permissions}`)];
  return { nodes, rules };
}

/** The helper's options for these settings (nothing when none is given). */
export function helperPrivilegeOptions(
  spec: PrivilegeSpec,
  nodes: readonly DeviceNode[],
): { privileged?: true; deviceNodes?: readonly DeviceNode[]; sysctls?: string[] } {
  const sysctls = Object.entries(spec.sysctls ?? {}).map(([key, value]) => `${sysctlPath(key)}=${value}`);
  return {
    ...(spec.privileged ? { privileged: true as const } : {}),
    ...(nodes.length > 0 ? { deviceNodes: nodes } : {}),
    ...(sysctls.length > 0 ? { sysctls } : {}),
  };
}
