// Seccomp profiles in Docker's JSON format (moby profiles/seccomp, runtime-spec's LinuxSeccomp),
// as `--security-opt seccomp=FILE.json` takes them, and the container's seccomp and
// no_new_privs choice as ContainerSpec carries it. The CLI reads the file on the desktop and sends
// the parsed profile, so the agent never opens a path the user named on another machine.
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { invalidInput } from './errors.js';

export const SeccompAction = lazySchema(() =>
  z.enum([
    'SCMP_ACT_KILL',
    'SCMP_ACT_KILL_THREAD',
    'SCMP_ACT_KILL_PROCESS',
    'SCMP_ACT_TRAP',
    'SCMP_ACT_ERRNO',
    'SCMP_ACT_TRACE',
    'SCMP_ACT_ALLOW',
    'SCMP_ACT_LOG',
    'SCMP_ACT_NOTIFY',
  ]),
);
export type SeccompAction = z.infer<typeof SeccompAction>;

/** libseccomp's architecture names; only the machine's own and its sub-ABIs matter when filtering. */
export const SeccompArch = lazySchema(() =>
  z.enum([
    'SCMP_ARCH_X86',
    'SCMP_ARCH_X86_64',
    'SCMP_ARCH_X32',
    'SCMP_ARCH_ARM',
    'SCMP_ARCH_AARCH64',
    'SCMP_ARCH_MIPS',
    'SCMP_ARCH_MIPS64',
    'SCMP_ARCH_MIPS64N32',
    'SCMP_ARCH_MIPSEL',
    'SCMP_ARCH_MIPSEL64',
    'SCMP_ARCH_MIPSEL64N32',
    'SCMP_ARCH_PPC',
    'SCMP_ARCH_PPC64',
    'SCMP_ARCH_PPC64LE',
    'SCMP_ARCH_S390',
    'SCMP_ARCH_S390X',
    'SCMP_ARCH_PARISC',
    'SCMP_ARCH_PARISC64',
    'SCMP_ARCH_RISCV64',
    'SCMP_ARCH_LOONGARCH64',
    'SCMP_ARCH_M68K',
    'SCMP_ARCH_SH',
    'SCMP_ARCH_SHEB',
  ]),
);
export type SeccompArch = z.infer<typeof SeccompArch>;

export const SeccompOperator = lazySchema(() =>
  z.enum(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']),
);
export type SeccompOperator = z.infer<typeof SeccompOperator>;

const SyscallName = lazySchema(() => z.string().regex(/^[a-z_][a-z0-9_]{0,63}$/, 'must be a syscall name (lower-case letters, digits, _)'));
/** An errno a filter can return: the kernel takes 0 to 4095. */
const Errno = lazySchema(() => z.number().int().min(0).max(4095));
/** Argument values are unsigned 64-bit in Docker's format; JSON numbers are exact up to 2^53. */
const ArgValue = lazySchema(() => z.number().int().min(0).max(Number.MAX_SAFE_INTEGER));

const Notify = 'SCMP_ACT_NOTIFY needs a listener (listenerPath), which Onggi does not run';

export const SeccompArg = lazySchema(() =>
  z.strictObject({
    index: z.number().int().min(0).max(5),
    value: ArgValue,
    /** SCMP_CMP_MASKED_EQ: `(arg & value) == valueTwo`; unused by the other operators. */
    valueTwo: ArgValue.optional(),
    op: SeccompOperator,
  }),
);
export type SeccompArg = z.infer<typeof SeccompArg>;

/** Which containers a rule applies to: by capability (in the bounding set), architecture (Go's names: amd64, arm64…), kernel. */
export const SeccompFilterScope = lazySchema(() =>
  z.strictObject({
    caps: z.array(z.string().max(64)).max(64).optional(),
    arches: z.array(z.string().max(32)).max(32).optional(),
    /** Accepted and ignored: the agent needs a kernel newer than any minKernel Docker's profile names (4.8). */
    minKernel: z.string().max(32).optional(),
  }),
);
export type SeccompFilterScope = z.infer<typeof SeccompFilterScope>;

export const SeccompSyscall = lazySchema(() =>
  z
    .strictObject({
      names: z.array(SyscallName).min(1).max(1024).optional(),
      /** The older single-name form. */
      name: SyscallName.optional(),
      action: SeccompAction.refine((action) => action !== 'SCMP_ACT_NOTIFY', Notify),
      errnoRet: Errno.optional(),
      args: z.array(SeccompArg).max(6).nullable().optional(),
      comment: z.string().max(4096).optional(),
      includes: SeccompFilterScope.optional(),
      excludes: SeccompFilterScope.optional(),
    })
    .superRefine((rule, ctx) => {
      if ((rule.names === undefined) === (rule.name === undefined))
        ctx.addIssue({ code: 'custom', message: 'needs either "names" or "name" (not both)', path: ['names'] });
    }),
);
export type SeccompSyscall = z.infer<typeof SeccompSyscall>;

export const SeccompProfile = lazySchema(() =>
  z
    .strictObject({
      defaultAction: SeccompAction.refine((action) => action !== 'SCMP_ACT_NOTIFY', Notify),
      defaultErrnoRet: Errno.optional(),
      architectures: z.array(SeccompArch).max(32).nullable().optional(),
      archMap: z
        .array(z.strictObject({ architecture: SeccompArch, subArchitectures: z.array(SeccompArch).max(32).nullable().optional() }))
        .max(32)
        .nullable()
        .optional(),
      syscalls: z.array(SeccompSyscall).max(4096).nullable().optional(),
      /** Filter flags (SECCOMP_FILTER_FLAG_*): accepted, none applied. */
      flags: z.array(z.string().max(64)).max(8).optional(),
      listenerPath: z.string().max(0, 'a notify listener is not supported').optional(),
      listenerMetadata: z.string().max(0, 'a notify listener is not supported').optional(),
    })
    .superRefine((profile, ctx) => {
      if (profile.architectures?.length && profile.archMap?.length)
        ctx.addIssue({ code: 'custom', message: 'use either "architectures" or "archMap", not both', path: ['archMap'] });
    }),
);
export type SeccompProfile = z.infer<typeof SeccompProfile>;

/** A profile file's name as inspect shows it; "default" and "unconfined" are the built-in choices. */
const ProfileName = lazySchema(() => z.string().min(1).max(255));

/** `--security-opt seccomp=…`: Docker's default profile (absent), none, or the user's own. */
export const SeccompChoice = lazySchema(() =>
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('default') }),
    z.strictObject({ kind: z.literal('unconfined') }),
    z.strictObject({ kind: z.literal('profile'), name: ProfileName, profile: SeccompProfile }),
  ]),
);
export type SeccompChoice = z.infer<typeof SeccompChoice>;

/** The ContainerSpec fields of `--security-opt` (spread into it, so they stay together here). */
export const SecurityOptionFields = {
  seccomp: SeccompChoice.optional(),
  /** `no-new-privileges[=true|false]`; absent: true (Onggi's default, stricter than Docker's). */
  noNewPrivileges: z.boolean().optional(),
};

/** What inspect reports about a container's filter: the profile's name and its rules that apply. */
export const SeccompSummary = lazySchema(() =>
  z.strictObject({
    profile: ProfileName,
    /** Syscall names with a rule after capabilities and architectures are taken into account (0 for unconfined). */
    rules: z.number().int().min(0),
    noNewPrivileges: z.boolean(),
  }),
);
export type SeccompSummary = z.infer<typeof SeccompSummary>;

/** Parses a profile file's text; the error names the JSON path at fault (`syscalls[3].args[0].op: …`). */
export function parseSeccompProfile(text: string, file: string): SeccompProfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const parsed = SeccompProfile.safeParse(json);
  if (!parsed.success) throw new Error(`${file} is not a seccomp profile: ${invalidInput('', parsed.error).message}`);
  return parsed.data;
}

/** The spec fields `--security-opt` values give (`seccomp` and `noNewPrivileges` of ContainerSpec). */
export interface SecurityOptionSpec {
  seccomp?: SeccompChoice;
  noNewPrivileges?: boolean;
}

/**
 * `--security-opt` values as the spec's fields, for the onggi CLI and the Docker API alike. Docker's
 * `key:value` spelling is taken as `key=value`. `profileOf` turns a seccomp value other than
 * `unconfined` into a profile (a file's name on the desktop, the file's text in a Docker request);
 * `refuse` builds the error for an option Onggi does not do (apparmor, label, systempaths).
 */
export function securityOptionFields(
  options: readonly string[],
  profileOf: (value: string) => SeccompChoice,
  refuse: (option: string) => Error,
): SecurityOptionSpec {
  const spec: SecurityOptionSpec = {};
  for (const option of options) {
    const match = /^([a-z-]+)(?:[=:](.*))?$/s.exec(option);
    const [key, value] = [match?.[1], match?.[2]];
    if (key === 'seccomp' && value) spec.seccomp = value === 'unconfined' ? { kind: 'unconfined' } : profileOf(value);
    else if (key === 'no-new-privileges' && (value === undefined || value === 'true' || value === 'false'))
      spec.noNewPrivileges = value !== 'false';
    else throw refuse(option);
  }
  return spec;
}
