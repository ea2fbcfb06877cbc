// The run options of Docker's that shape a container's name resolution, lifecycle and filesystem
// without networks or mounts: --dns*, --add-host, --label, --read-only, --stop-signal,
// --stop-timeout, --shm-size. Kept here (spread into ContainerSpec) so each field's rule sits with
// its reason.
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { UnitError, parseMemory } from './units.js';

const ipv4 = lazySchema(() => z.ipv4());
const ipv6 = lazySchema(() => z.ipv6());

/** An IPv4 or IPv6 address, as resolv.conf and /etc/hosts take them. */
export const IpAddress = lazySchema(() =>
  z
    .string()
    .max(45)
    .refine((text) => ipv4.safeParse(text).success || ipv6.safeParse(text).success, { message: 'must be an IPv4 or IPv6 address' }),
);

/** A DNS name (RFC 1123 labels, dot-separated); a trailing dot is allowed as resolv.conf does. */
const DomainName = lazySchema(() =>
  z
    .string()
    .max(253)
    .regex(/^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/, 'must be a DNS name'),
);

/** A resolv.conf `options` word: `ndots:2`, `timeout:1`, `edns0`, `use-vc`… (no spaces: one line holds them all). */
const DnsOption = lazySchema(() =>
  z
    .string()
    .max(64)
    .regex(/^[a-z][a-z0-9_-]*(:\d{1,4})?$/i, 'must be a resolver option like ndots:2 or edns0'),
);

/** `--add-host NAME:IP` as Docker spells it (the name ends at the first colon, so IPv6 addresses keep theirs). */
export const HostMapping = lazySchema(() =>
  z
    .string()
    .max(300)
    .superRefine((text, ctx) => {
      const colon = text.indexOf(':');
      const name = text.slice(0, colon);
      const ip = text.slice(colon + 1);
      if (colon <= 0 || !DomainName.safeParse(name).success)
        ctx.addIssue({ code: 'custom', message: 'must be NAME:IP with a host name first' });
      else if (!IpAddress.safeParse(ip).success) ctx.addIssue({ code: 'custom', message: `"${ip}" is not an IPv4 or IPv6 address` });
    }),
);

/** Splits a valid `NAME:IP` (see HostMapping). */
export function splitHostMapping(text: string): { name: string; ip: string } {
  const colon = text.indexOf(':');
  return { name: text.slice(0, colon), ip: text.slice(colon + 1) };
}

/** Docker's label keys are free-form; these limits only keep a record and a `ps` line sane. */
const LabelKey = lazySchema(() =>
  z
    .string()
    .min(1, 'a label needs a key')
    .max(256)
    .regex(/^[^=\s]+$/, 'must not contain "=" or spaces'),
);
export const Labels = lazySchema(() =>
  z.record(LabelKey, z.string().max(4096)).refine((labels) => Object.keys(labels).length <= 256, {
    message: 'at most 256 labels',
  }),
);

/** A signal by name (`SIGTERM`, `TERM`, `SIGRTMIN+3`) or number, as `kill -s` and `--stop-signal` take it. */
export const SignalName = lazySchema(() =>
  z.string().regex(/^(SIG)?[A-Z0-9+-]{2,10}$|^\d{1,2}$/, 'must be a signal name like SIGTERM or a number'),
);

/** `/dev/shm`'s size: bytes or Docker's units (`64m`), at least one page. */
export const ShmSize = lazySchema(() =>
  z.union([z.string().max(32), z.number()]).transform((value, ctx) => {
    try {
      const bytes = parseMemory(value);
      if (bytes >= 4096) return bytes;
      ctx.addIssue({ code: 'custom', message: 'must be at least 4k' });
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof UnitError ? error.message : String(error) });
    }
    return z.NEVER;
  }),
);

export const RunOptionFields = {
  /** Name servers for the container's /etc/resolv.conf, replacing the machine's (`--dns`). */
  dns: z.array(IpAddress).max(16).optional(),
  /** Search domains (`--dns-search`); `.` alone clears the machine's. */
  dnsSearch: z
    .array(z.union([z.literal('.'), DomainName]))
    .max(32)
    .optional(),
  /** resolv.conf options (`--dns-option`). */
  dnsOptions: z.array(DnsOption).max(32).optional(),
  /** Extra /etc/hosts lines (`--add-host NAME:IP`). */
  addHosts: z.array(HostMapping).max(256).optional(),
  /** `-l/--label KEY=VALUE`. */
  labels: Labels.optional(),
  /** The container's root filesystem mounted read-only (`--read-only`); /dev, /dev/shm, /proc… stay as they are. */
  readOnly: z.boolean().optional(),
  /** What `stop` sends first (`--stop-signal`); default the image's STOPSIGNAL, else SIGTERM. */
  stopSignal: SignalName.optional(),
  /** Seconds `stop` waits before SIGKILL when it is not told (`--stop-timeout`); default 10. */
  stopTimeout: z.number().int().min(0).max(3600).optional(),
  /** /dev/shm's size (`--shm-size`); default 64 MiB as Docker's. */
  shmSize: ShmSize.optional(),
};

/** A line of an env file that cannot be taken: which line and why (the message names the file too). */
export class EnvFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`--env-file ${file}:${line}: ${reason}`);
  }
}

/**
 * Docker's env-file: one `KEY=VALUE` a line taken as written (no quotes removed, no expansion),
 * a bare `KEY` takes the value `env` gives it (the CLI's own environment; the window has none to
 * give) and is left out when it has none, blank lines and lines starting with `#` are skipped.
 * Shared by the CLI's `--env-file` and the run dialog's pasted env file.
 */
export function parseEnvFile(text: string, file: string, env: Readonly<Record<string, string | undefined>> = {}): string[] {
  const entries: string[] = [];
  for (const [index, raw] of text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .entries()) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    const key = equals < 0 ? line.trimEnd() : line.slice(0, equals);
    if (key === '') throw new EnvFileError(file, index + 1, 'no variable name before "="');
    if (/\s/.test(key)) throw new EnvFileError(file, index + 1, `variable "${key}" contains whitespace`);
    if (equals >= 0) entries.push(line);
    else if (env[key] !== undefined) entries.push(`${key}=${env[key]}`);
  }
  return entries;
}

/** `KEY=VALUE` labels (`-l`, or a line each in the run dialog); a bare `KEY` is an empty label, as Docker takes it. */
export function parseLabels(pairs: readonly string[]): Record<string, string> {
  // Through a Map and fromEntries: a key like __proto__ becomes a label, not the object's prototype.
  const labels = new Map<string, string>();
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    labels.set(equals < 0 ? pair : pair.slice(0, equals), equals < 0 ? '' : pair.slice(equals + 1));
  }
  return Object.fromEntries(labels);
}
