// A container's seccomp filter, decided here: the profile (Docker's default, the user's own, or
// none) is reduced the way moby reduces it for one container — rules kept or dropped by the
// container's capabilities (its bounding set) and the machine's architecture, architectures
// taken from archMap — and written as the init helper's `--seccomp` lines (seccomp.h), which the
// helper compiles to BPF with each ABI's syscall numbers.
import { byCodeUnits } from '../../../shared/code-unit-order.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type {
  SeccompAction,
  SeccompArch,
  SeccompChoice,
  SeccompProfile,
  SeccompSummary,
  SeccompSyscall,
} from '../../../shared/seccomp-profile.js';
import { DOCKER_DEFAULT_PROFILE } from './seccomp-default-profile.js';

const EPERM = 1;

/** A machine by Node's arch name: Go's name (what includes/excludes.arches match, as in moby), its own ABI, and the ABIs the helper filters. */
const MACHINES: Record<string, { go: string; native: SeccompArch; helper: Partial<Record<SeccompArch, string>> }> = {
  x64: { go: 'amd64', native: 'SCMP_ARCH_X86_64', helper: { SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_X86: 'x86', SCMP_ARCH_X32: 'x32' } },
  // The helper has no AArch32 table: 32-bit arm calls on an arm64 machine are killed, where Docker filters them.
  arm64: { go: 'arm64', native: 'SCMP_ARCH_AARCH64', helper: { SCMP_ARCH_AARCH64: 'aarch64' } },
};

const OPERATORS = {
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_MASKED_EQ: 'me',
} as const;

/** The helper's word for an action; errno and trace carry their number. */
function helperAction(action: SeccompAction, errno: number | undefined, where: string): string {
  switch (action) {
    case 'SCMP_ACT_ALLOW':
      return 'allow';
    case 'SCMP_ACT_ERRNO':
      return `errno:${errno ?? EPERM}`;
    case 'SCMP_ACT_TRACE':
      return `trace:${errno ?? EPERM}`;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 'kill-thread';
    case 'SCMP_ACT_KILL_PROCESS':
      return 'kill-process';
    case 'SCMP_ACT_TRAP':
      return 'trap';
    case 'SCMP_ACT_LOG':
      return 'log';
    case 'SCMP_ACT_NOTIFY':
      throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', `${where}: SCMP_ACT_NOTIFY is not supported`, where);
  }
}

/** moby's rule for includes/excludes: every included capability held, no excluded one; the machine's arch listed / not listed. */
function applies(rule: SeccompSyscall, caps: ReadonlySet<string>, goArch: string): boolean {
  const { includes, excludes } = rule;
  if (excludes?.arches?.includes(goArch)) return false;
  if (includes?.arches && includes.arches.length > 0 && !includes.arches.includes(goArch)) return false;
  if (excludes?.caps?.some((cap) => caps.has(cap))) return false;
  if (includes?.caps && !includes.caps.every((cap) => caps.has(cap))) return false;
  // includes.minKernel is ignored: Docker's profile names 4.8, older than any kernel the agent runs on.
  return true;
}

/** The ABIs to filter besides the native one (always filtered, as libseccomp always adds it). */
function subArches(profile: SeccompProfile, native: SeccompArch): SeccompArch[] {
  if (profile.archMap && profile.archMap.length > 0) {
    const entry = profile.archMap.find((a) => a.architecture === native);
    return entry ? [...(entry.subArchitectures ?? [])] : [];
  }
  return (profile.architectures ?? []).filter((arch) => arch !== native);
}

export interface SeccompFilter {
  /** The helper's `--seccomp` lines: default, arches, then rules in order. */
  lines: string[];
  /** Syscall names with a rule, after capabilities and architecture. */
  rules: number;
}

/**
 * The helper lines for a profile, given the container's capabilities (its bounding set, `CAP_…`
 * names) and the machine's arch (Node's name). `root` names the profile in errors
 * (`params.seccomp.profile`).
 */
export function compileSeccomp(
  profile: SeccompProfile,
  caps: readonly string[],
  arch: string = process.arch,
  root = 'profile',
): SeccompFilter {
  const machine = MACHINES[arch];
  if (!machine) throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', `no seccomp filter is built for ${arch}`);
  const held = new Set(caps);
  const defaultAction = helperAction(profile.defaultAction, profile.defaultErrnoRet, `${root}.defaultAction`);
  const lines = [`default ${defaultAction}`];
  for (const sub of subArches(profile, machine.native)) {
    const name = machine.helper[sub];
    if (name) lines.push(`arch ${name}`);
  }
  // A syscall given two different unconditional actions is a contradiction libseccomp refuses (EEXIST); say where.
  const fixed = new Map<string, { action: string; at: string }>();
  let rules = 0;
  (profile.syscalls ?? []).forEach((rule, index) => {
    const where = `${root}.syscalls[${index}]`;
    if (!applies(rule, held, machine.go)) return;
    const action = helperAction(rule.action, rule.errnoRet, `${where}.action`);
    // As runc: a rule that does what the default does changes nothing.
    if (action === defaultAction) return;
    const names = rule.names ?? (rule.name === undefined ? [] : [rule.name]);
    const args = rule.args ?? [];
    const conds = args.map((a) => `${a.index}:${OPERATORS[a.op]}:${a.value}${a.op === 'SCMP_CMP_MASKED_EQ' ? `:${a.valueTwo ?? 0}` : ''}`);
    if (conds.length === 0) {
      for (const name of names) {
        const earlier = fixed.get(name);
        if (earlier && earlier.action !== action)
          throw new OnggiError(
            ErrorCode.InvalidParams,
            'invalid_params',
            `${where}: ${name} already has another action (${earlier.at})`,
            `${where}.names`,
          );
        fixed.set(name, { action, at: earlier?.at ?? where });
      }
    }
    rules += names.length;
    // As runc: comparisons of one argument twice in a rule are alternatives, each its own rule.
    const repeated = new Set(args.map((a) => a.index)).size < args.length;
    const groups = repeated ? conds.map((cond) => [cond]) : [conds];
    for (const group of groups) lines.push([action, names.join(','), ...group].join(' '));
  });
  return { lines, rules };
}

export interface SeccompSettings {
  /** For the helper's ProcessSettings. */
  helper: {
    /** The `--seccomp` lines; absent: unconfined. */
    seccomp?: readonly string[];
    /** `--security-opt no-new-privileges=false`. */
    allowNewPrivileges?: true;
  };
  /** What inspect shows. */
  summary: SeccompSummary;
}

/**
 * The default profile's filter for a set of capabilities: compiled once per set, as nearly every
 * container asks for the same (Docker's default capabilities), and compiling walks the profile's
 * ~40 rules for each start (0.05 ms optimized, several times that in the daemon's interpreter).
 * Frozen: the lines go to the helper's argv and are never changed.
 */
const defaultFilters = new Map<string, { readonly lines: readonly string[]; readonly rules: number }>();
function defaultFilter(caps: readonly string[], arch: string): { readonly lines: readonly string[]; readonly rules: number } {
  const key = `${arch} ${[...caps].sort(byCodeUnits).join(',')}`;
  let filter = defaultFilters.get(key);
  if (!filter) {
    const compiled = compileSeccomp(DOCKER_DEFAULT_PROFILE, caps, arch, 'params.seccomp.profile');
    filter = Object.freeze({ lines: Object.freeze(compiled.lines), rules: compiled.rules });
    // A few sets in a daemon's life; bounded all the same.
    if (defaultFilters.size >= 16) defaultFilters.clear();
    defaultFilters.set(key, filter);
  }
  return filter;
}

/** A container's seccomp and no_new_privs settings from its spec and capabilities (what `run` and every `exec` apply). */
export function seccompSettings(
  spec: { seccomp?: SeccompChoice | undefined; noNewPrivileges?: boolean | undefined },
  caps: readonly string[],
  arch: string = process.arch,
): SeccompSettings {
  const noNewPrivileges = spec.noNewPrivileges ?? true;
  const choice = spec.seccomp ?? { kind: 'default' };
  const filter =
    choice.kind === 'unconfined'
      ? undefined
      : choice.kind === 'profile'
        ? compileSeccomp(choice.profile, caps, arch, 'params.seccomp.profile')
        : defaultFilter(caps, arch);
  const profile = choice.kind === 'profile' ? choice.name : choice.kind;
  return {
    helper: { ...(filter ? { seccomp: filter.lines } : {}), ...(noNewPrivileges ? {} : { allowNewPrivileges: true as const }) },
    summary: { profile, rules: filter?.rules ?? 0, noNewPrivileges },
  };
}
