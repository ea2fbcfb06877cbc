// The run dialog's form, as data: what the user typed, turned into the API's own ContainerSpec by
// the API's own schema, with each schema error placed on the field it came from (by the error's
// path). Nothing here re-implements a rule the schema already has.
import type { z } from 'zod';
import { ContainerSpec, type ContainerSpecInput } from '../../../../shared/containers.js';
import { healthFromOptions, parseDuration } from '../../../../shared/health.js';
import { EnvFileError, parseEnvFile, parseLabels } from '../../../../shared/run-options.js';
import type { ResolvedDesktopRows } from './desktop-mounts';
import { mountsFromRows, type MountRow } from './MountRows';

export interface RunFormValues {
  image: string;
  name: string;
  /** As typed: words split like a shell would (quotes group, backslash escapes). */
  command: string;
  /** One NAME=value per line. */
  env: string;
  /**
   * An env file's contents, pasted (the window may run in a browser, which hands it no path):
   * Docker's format, read by the CLI's own parser; its entries go before `env`'s, as `--env-file`'s do.
   */
  envFile: string;
  /** One KEY=VALUE per line (`-l`); a bare KEY is an empty label. */
  labels: string;
  /** `--health-cmd` (through /bin/sh -c), `--health-interval` (30s, 1m30s) and `--health-retries`. */
  healthCmd: string;
  healthInterval: string;
  healthRetries: string;
  cpus: string;
  memory: string;
  pids: string;
  hostname: string;
  /** Network names separated by spaces or commas (`none` for no network); empty: the default. */
  networks: string;
  /** Published ports as typed: `8080:80`, `127.0.0.1:8443:443/tcp`, separated by spaces or commas. */
  ports: string;
  autoRemove: boolean;
  /** Bind mounts, volumes and tmpfs, one row each. */
  mounts: MountRow[];
  /** `-it`: the container's own process gets a terminal and open stdin, shown in its Terminal tab. */
  interactive: boolean;
  /** `--cap-add` / `--cap-drop`: capability names (NET_ADMIN, CAP_SYS_TIME, ALL) separated by spaces or commas. */
  capAdd: string;
  capDrop: string;
  /** `--privileged`: the dialog asks before running it. */
  privileged: boolean;
}

export type RunField =
  | 'image' | 'name' | 'command' | 'env' | 'envFile' | 'labels' | 'cpus' | 'memory' | 'pids' | 'hostname' | 'networks' | 'ports'
  | 'autoRemove' | 'mounts' | 'healthCmd' | 'healthInterval' | 'healthRetries' | 'capAdd' | 'capDrop'; // prettier-ignore

export const emptyRunForm: RunFormValues = {
  image: '',
  name: '',
  command: '',
  env: '',
  envFile: '',
  labels: '',
  healthCmd: '',
  healthInterval: '',
  healthRetries: '',
  cpus: '',
  memory: '',
  pids: '',
  hostname: '',
  networks: '',
  ports: '',
  autoRemove: false,
  mounts: [],
  interactive: false,
  capAdd: '',
  capDrop: '',
  privileged: false,
};

const words = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

/**
 * An error on a field: the schema's own words, or `required` for a field left empty, which the
 * view says in the user's language. An env error names the line it came from.
 */
export type FieldError = { kind: 'required' } | { kind: 'invalid'; message: string; line?: number; text?: string };

export type FieldErrors = Partial<Record<RunField, FieldError>>;

export type RunFormResult = { ok: true; spec: ContainerSpec } | { ok: false; errors: FieldErrors };

export class CommandLineError extends Error {}

/**
 * Splits a command line into argv the way a POSIX shell would for plain words: whitespace
 * separates, '…' is literal, "…" allows \" and \\, a backslash outside quotes escapes the next
 * character. No expansion of any kind: the result is handed to the kernel as is, never to a shell.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === '\\') {
      if (i + 1 >= line.length) throw new CommandLineError('ends with a lone backslash');
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote) throw new CommandLineError(`has an unclosed ${quote === "'" ? 'single' : 'double'} quote`);
  if (inWord) words.push(word);
  return words;
}

/** Which field an issue at `path` (from ContainerSpec, or the host's `params.…` field) belongs on. */
export function fieldForPath(path: readonly PropertyKey[]): RunField | undefined {
  const [first, second] = path;
  if (first === 'limits') return second === 'cpus' || second === 'memory' || second === 'pids' ? second : 'memory';
  if (first === 'entrypoint') return 'command';
  if (first === 'healthcheck') return second === 'intervalMs' ? 'healthInterval' : second === 'retries' ? 'healthRetries' : 'healthCmd';
  const fields: readonly string[] = [
    'image',
    'name',
    'command',
    'env',
    'labels',
    'hostname',
    'networks',
    'ports',
    'autoRemove',
    'mounts',
    'capAdd',
    'capDrop',
  ];
  if (first === 'ip') return 'networks';
  return typeof first === 'string' && fields.includes(first) ? (first as RunField) : undefined;
}

/** `params.limits.memory` or `params.env[2]` (an OnggiError's field) as a path. */
export function pathFromField(field: string): PropertyKey[] {
  const parts: PropertyKey[] = [];
  for (const match of field.replace(/^params\.?/, '').matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[1] !== undefined) parts.push(match[1]);
    else if (match[2] !== undefined) parts.push(Number(match[2]));
  }
  return parts;
}

/** Where the spec's env entry `index` was typed: the env file's lines come first, as the CLI's do. */
interface EnvSource {
  field: 'env' | 'envFile';
  /** 0-based line in that field. */
  line: number;
}

/** The error for an issue on its field: which env line, when it is one of several. */
function describe(issue: z.core.$ZodIssue, input: ContainerSpecInput, values: RunFormValues, envSources: readonly EnvSource[]): FieldError {
  const [first, index] = issue.path;
  if (first === 'image' && input.image === '') return { kind: 'required' };
  if (first === 'env' && typeof index === 'number') {
    const source = envSources[index] ?? { field: 'env', line: index };
    const text = values[source.field].split(/\r?\n/)[source.line]?.trim() ?? '';
    return { kind: 'invalid', message: issue.message, line: source.line + 1, text };
  }
  // A record's key that fails its rule (a label key): zod says "Invalid key in record"; say which key and why.
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0]?.message;
    const key = issue.path[issue.path.length - 1];
    return { kind: 'invalid', message: `${typeof key === 'string' ? `"${key}": ` : ''}${inner ?? issue.message}` };
  }
  if (first === 'mounts' && typeof index === 'number') {
    const [, , key] = issue.path;
    return { kind: 'invalid', message: `#${index + 1}${typeof key === 'string' ? ` ${key}` : ''}: ${issue.message}` };
  }
  return { kind: 'invalid', message: issue.message };
}

/** The input ContainerSpec is asked to parse: empty fields are left out, text is kept as typed. */
export function toSpecInput(
  values: RunFormValues,
  desktop?: ResolvedDesktopRows,
): { input: ContainerSpecInput; envSources: EnvSource[]; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const input: ContainerSpecInput = { image: values.image.trim() };
  if (values.name.trim()) input.name = values.name.trim();
  if (values.command.trim()) {
    try {
      input.command = splitCommandLine(values.command);
    } catch (error) {
      errors.command = { kind: 'invalid', message: `the command ${(error as Error).message}` };
    }
  }
  const envSources: EnvSource[] = [];
  const env: string[] = [];
  try {
    // The window has no environment of the user's to give a bare NAME: such lines are left out.
    const fileLines = values.envFile.split(/\r?\n/).map((line) => line.replace(/^\uFEFF/, '').trimStart());
    for (const entry of parseEnvFile(values.envFile, 'pasted')) {
      env.push(entry);
      envSources.push({ field: 'envFile', line: Math.max(0, fileLines.indexOf(entry)) });
    }
  } catch (error) {
    if (!(error instanceof EnvFileError)) throw error;
    const text = values.envFile.split(/\r?\n/)[error.line - 1]?.trim() ?? '';
    errors.envFile = { kind: 'invalid', message: error.reason, line: error.line, text };
  }
  values.env.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    env.push(line.trim());
    envSources.push({ field: 'env', line: index });
  });
  if (env.length > 0) input.env = env;
  const labelLines = values.labels
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  // The desktop folders' mapping labels (shared/shares.ts) join the typed ones.
  const labels = { ...parseLabels(labelLines), ...desktop?.labels };
  if (Object.keys(labels).length > 0) input.labels = labels;
  const health: Parameters<typeof healthFromOptions>[0] = {};
  if (values.healthCmd.trim()) health.cmd = values.healthCmd.trim();
  if (values.healthInterval.trim()) {
    try {
      health.intervalMs = parseDuration(values.healthInterval);
    } catch (error) {
      errors.healthInterval = { kind: 'invalid', message: (error as Error).message };
    }
  }
  if (values.healthRetries.trim()) {
    const retries = values.healthRetries.trim();
    // A non-number goes to the schema as it is, so the schema's own message explains it.
    health.retries = (/^\d+$/.test(retries) ? Number(retries) : retries) as number;
  }
  const healthcheck = healthFromOptions(health);
  if (healthcheck) input.healthcheck = healthcheck;
  if (values.hostname.trim()) input.hostname = values.hostname.trim();
  const limits: NonNullable<ContainerSpecInput['limits']> = {};
  if (values.cpus.trim()) limits.cpus = values.cpus.trim();
  if (values.memory.trim()) limits.memory = values.memory.trim();
  if (values.pids.trim()) {
    const pids = Number(values.pids.trim());
    // A non-number goes to the schema as a string so the schema's own message explains it.
    (limits as Record<string, unknown>).pids = /^\d+$/.test(values.pids.trim()) ? pids : values.pids.trim();
  }
  if (Object.keys(limits).length > 0) input.limits = limits;
  if (words(values.networks).length > 0) input.networks = words(values.networks);
  if (words(values.ports).length > 0) input.ports = words(values.ports);
  if (values.autoRemove) input.autoRemove = true;
  const mounts = mountsFromRows(values.mounts, desktop?.mounts);
  if (mounts.length > 0) input.mounts = mounts;
  if (values.interactive) Object.assign(input, { tty: true, stdinOpen: true });
  if (words(values.capAdd).length > 0) input.capAdd = words(values.capAdd);
  if (words(values.capDrop).length > 0) input.capDrop = words(values.capDrop);
  if (values.privileged) input.privileged = true;
  return { input, envSources, errors };
}

/**
 * Validates with the API's ContainerSpec; every error lands on its field (the first per field).
 * Desktop folders' rows count once resolved (`desktop`); without it they are left out.
 */
export function validateRunForm(values: RunFormValues, desktop?: ResolvedDesktopRows): RunFormResult {
  const { input, envSources, errors } = toSpecInput(values, desktop);
  const parsed = ContainerSpec.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [first, index] = issue.path;
      const fromFile = first === 'env' && typeof index === 'number' && envSources[index]?.field === 'envFile';
      const field = fromFile ? 'envFile' : (fieldForPath(issue.path) ?? 'image');
      errors[field] ??= describe(issue, input, values, envSources);
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, spec: parsed.data };
}
