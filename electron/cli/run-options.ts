// `onggi run`'s Docker options beyond the basics (--env-file, --label, --dns…, --add-host,
// --network-alias, --read-only, --stop-signal, --stop-timeout, --shm-size) and `ps --filter`, `ps`'s PORTS column:
// parsed here, checked by the agent's own schema where the spec is built. What is checked while a
// command runs throws a plain Error (main.ts prints it); commander's InvalidArgumentError is only
// for option parsers, as main.ts takes a CommanderError as already printed.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { ContainerSpecInput, ContainerState, ContainerSummary } from '../../shared/containers.js';
import { parseEnvFile, parseLabels } from '../../shared/run-options.js';
import { collect } from './session.js';
import { UsernsMode } from '../../shared/userns.js';

export interface ExtraRunOptions {
  envFile?: string[];
  label?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
  readOnly?: boolean;
  stopSignal?: string;
  stopTimeout?: number;
  shmSize?: string;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  device?: string[];
  sysctl?: string[];
  userns?: UsernsMode;
  networkAlias?: string[];
  /** `--network` (the container's own option): where `--network-alias` applies. */
  network?: string[];
}

/** `--userns`'s value (run, and `machine config`). */
export function usernsMode(value: string): UsernsMode {
  const parsed = UsernsMode.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('must be auto or host');
  return parsed.data;
}

function wholeSeconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number of seconds');
  return Number(value);
}

/** Adds the options to `run` (and anything else that creates a container). */
export function addRunOptions(command: Command): Command {
  return command
    .option('--env-file <file>', 'read environment variables from a file: KEY=VALUE lines, # comments (repeatable)', collect)
    .option('-l, --label <key=value>', 'set a label (repeatable)', collect)
    .option('--dns <ip>', "a name server for the container's /etc/resolv.conf (repeatable; replaces the machine's)", collect)
    .option('--dns-search <domain>', 'a DNS search domain (repeatable; "." for none)', collect)
    .option('--dns-option <option>', 'a resolver option such as ndots:2 (repeatable)', collect)
    .option('--add-host <name:ip>', "a line for the container's /etc/hosts (repeatable)", collect)
    .option('--read-only', "mount the container's root filesystem read-only")
    .option('--stop-signal <signal>', 'the signal stop sends first (default SIGTERM)')
    .option('--stop-timeout <seconds>', 'how long stop waits before SIGKILL when not told (default 10)', wholeSeconds)
    .option('--shm-size <size>', 'size of /dev/shm, e.g. 128m (default 64m)')
    .option('--cap-add <capability>', 'add a Linux capability, e.g. NET_ADMIN, or ALL (repeatable)', collect)
    .option('--cap-drop <capability>', 'drop a Linux capability, e.g. CHOWN, or ALL (repeatable)', collect)
    .option('--privileged', "give the container every capability, the machine's devices, no seccomp filter and a writable /sys")
    .option('--device <host[:container[:rwm]]>', 'give the container a device of the machine (repeatable)', collect)
    .option('--network-alias <name>', 'another name the container answers to on its first --network, a user network (repeatable)', collect)
    .option('--sysctl <key=value>', 'set a namespaced kernel parameter, e.g. net.ipv4.ip_forward=1 (repeatable)', collect)
    .option(
      '--userns <mode>',
      "auto: a range of the machine's ids of its own (root inside is not root outside); host: the machine's (default: the machine's setting)",
      usernsMode,
    );
}

function readEnvFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`--env-file ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseEnvFile(text, file, process.env);
}

/** The spec fields these options give; `env` are the env files' entries, to go before `-e`'s. */
export function runOptionsSpec(options: ExtraRunOptions): { env: string[]; spec: Partial<ContainerSpecInput> } {
  return {
    env: (options.envFile ?? []).flatMap(readEnvFile),
    spec: {
      ...(options.label?.length ? { labels: parseLabels(options.label) } : {}),
      ...(options.dns?.length ? { dns: options.dns } : {}),
      ...(options.dnsSearch?.length ? { dnsSearch: options.dnsSearch } : {}),
      ...(options.dnsOption?.length ? { dnsOptions: options.dnsOption } : {}),
      ...(options.addHost?.length ? { addHosts: options.addHost } : {}),
      ...(options.readOnly ? { readOnly: true } : {}),
      ...(options.stopSignal !== undefined ? { stopSignal: options.stopSignal } : {}),
      ...(options.stopTimeout !== undefined ? { stopTimeout: options.stopTimeout } : {}),
      ...(options.shmSize !== undefined ? { shmSize: options.shmSize } : {}),
      ...(options.capAdd?.length ? { capAdd: options.capAdd } : {}),
      ...(options.capDrop?.length ? { capDrop: options.capDrop } : {}),
      ...(options.privileged ? { privileged: true } : {}),
      ...(options.device?.length ? { devices: options.device } : {}),
      ...(options.sysctl?.length ? { sysctls: parseSysctls(options.sysctl) } : {}),
      ...(options.userns ? { userns: options.userns } : {}),
      ...(options.networkAlias?.length ? { networkAliases: networkAliases(options.networkAlias, options.network) } : {}),
    },
  };
}

/** `--network-alias`es, on the first `--network` as Docker puts them; the default network and none have no names. */
function networkAliases(aliases: string[], networks: readonly string[] = []): Record<string, string[]> {
  const first = networks[0];
  if (first === undefined || first === 'none')
    throw new Error('--network-alias: aliases are for user networks only; name one with --network');
  return { [first]: aliases };
}

/** `--sysctl KEY=VALUE`s; which keys a container may set is the spec schema's (and the agent's) to say. */
export function parseSysctls(pairs: readonly string[]): Record<string, string> {
  const sysctls = new Map<string, string>();
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new Error(`--sysctl: "${pair}" is not KEY=VALUE`);
    sysctls.set(pair.slice(0, equals).trim(), pair.slice(equals + 1));
  }
  return Object.fromEntries(sysctls);
}

// ---- ps ----------------------------------------------------------------------------------------

const FILTER_KEYS = ['label', 'name', 'status', 'id'] as const;
const STATUSES: readonly string[] = ['created', 'running', 'exited', 'dead'] satisfies ContainerState[];

export type PsFilters = Map<(typeof FILTER_KEYS)[number], string[]>;

/** `--filter KEY=VALUE` (repeatable): label, name, status, id, as Docker's. */
export function parsePsFilters(specs: readonly string[]): PsFilters {
  const filters: PsFilters = new Map();
  for (const spec of specs) {
    const equals = spec.indexOf('=');
    const key = spec.slice(0, equals) as (typeof FILTER_KEYS)[number];
    const value = spec.slice(equals + 1);
    if (equals < 0 || !FILTER_KEYS.includes(key))
      throw new Error(`--filter: "${spec}" is not one of ${FILTER_KEYS.map((k) => `${k}=…`).join(', ')}`);
    if (key === 'status' && !STATUSES.includes(value)) throw new Error(`--filter status: "${value}" is not one of ${STATUSES.join(', ')}`);
    filters.set(key, [...(filters.get(key) ?? []), value]);
  }
  return filters;
}

/**
 * Docker's rule: values of one key are alternatives, different keys must all match. `label=K`
 * asks for the label, `label=K=V` for that value; `name` and `id` match a part (`id` a prefix).
 */
export function matchesPsFilters(container: ContainerSummary, filters: PsFilters): boolean {
  const tests: Record<(typeof FILTER_KEYS)[number], (value: string) => boolean> = {
    label: (value) => {
      const equals = value.indexOf('=');
      const key = equals < 0 ? value : value.slice(0, equals);
      const label = container.labels?.[key];
      return label !== undefined && (equals < 0 || label === value.slice(equals + 1));
    },
    name: (value) => container.name.includes(value),
    status: (value) => container.state === value,
    id: (value) => container.id.startsWith(value),
  };
  // Labels are one test each: every label filter must hold, as Docker requires.
  const labels = filters.get('label') ?? [];
  if (!labels.every(tests.label)) return false;
  return [...filters].every(([key, values]) => key === 'label' || values.some(tests[key]));
}
