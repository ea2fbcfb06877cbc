// Docker's container verbs over the host API: what the window does, scriptable.
import { spawn } from 'node:child_process';
import { isatty } from 'node:tty';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ContainerSpecInput, ContainerSummary, LogEntry } from '../../../shared/containers.js';
import { ContainerSpec } from '../../../shared/containers.js';
import { formatActivity } from '../../../shared/activity-format.js';
import { parseOrThrow } from '../../../shared/errors.js';
import { formatContainerTable, formatStats } from '../format.js';
import { collect, printJson, withSession, type Session } from '../session.js';
import { followLogs } from '../log-follow.js';
import { attachContainer, detachKeysOption, registerAttachCommands } from './attach.js';
import { execOverTerminal } from './machines.js';
import { MOUNT_OPTIONS, mountsFrom, parseVolumeFlag, volumeSourceText, type MountOptions } from '../mount-options.js';
import { shareDesktopBinds } from '../desktop-binds.js';
import { addRunOptions, matchesPsFilters, parsePsFilters, runOptionsSpec, type ExtraRunOptions } from '../run-options.js';
import { addResourceRunOptions, resourceRunSpec, type ResourceRunOptions } from './container-verbs.js';
import { addSecurityOptions, securityOptionsSpec, type SecurityRunOptions } from '../security-options.js';

interface RunOptions extends MountOptions, ExtraRunOptions, ResourceRunOptions, SecurityRunOptions {
  rm?: boolean;
  detach?: boolean;
  name?: string;
  env?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  memory?: string;
  cpus?: string;
  pidsLimit?: number;
  restart?: 'no' | 'on-failure' | 'always' | 'unless-stopped';
  entrypoint?: string;
  network?: string[];
  publish?: string[];
  ip?: string;
  logOpt?: string[];
  interactive?: boolean;
  tty?: boolean;
  detachKeys?: string;
}

/** Docker's `--log-opt KEY=VALUE` (repeatable, or comma-separated): max-size and max-file. */
function logOptions(options: string[]): NonNullable<ContainerSpecInput['log']> {
  const log: NonNullable<ContainerSpecInput['log']> = {};
  for (const pair of options.flatMap((option) => option.split(','))) {
    const [key, value = ''] = pair.split('=', 2);
    if (key === 'max-size') log.maxSize = value;
    else if (key === 'max-file') log.maxFiles = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    else throw new InvalidArgumentError(`--log-opt: unknown option "${key}" (max-size and max-file are supported)`);
  }
  return log;
}

/** Docker's `--since`: an RFC 3339 time, or a duration back from now (`10m`, `1h30m`, `45s`). */
export function sinceTime(value: string, now = Date.now()): string {
  const relative = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(value);
  if (relative && value !== '') {
    const [, h = '0', m = '0', sec = '0'] = relative;
    return new Date(now - ((Number(h) * 60 + Number(m)) * 60 + Number(sec)) * 1000).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)))
    return new Date(Date.parse(value)).toISOString();
  throw new InvalidArgumentError('must be an RFC 3339 time (2026-01-02T15:04:05Z) or a duration like 10m or 1h30m');
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number above 0');
  return Number(value);
}

/** Builds the spec and checks it with the same schema the agent uses, so errors name the flag's field before anything runs. */
function specFrom(image: string, command: string[], options: RunOptions, autoRemove: boolean): ContainerSpecInput {
  const extra = runOptionsSpec(options);
  // The env files first, so -e wins over them, as Docker orders them.
  const env = [...extra.env, ...(options.env ?? [])];
  const spec: ContainerSpecInput = {
    image,
    ...(command.length > 0 ? { command } : {}),
    ...(options.entrypoint !== undefined ? { entrypoint: options.entrypoint === '' ? [] : [options.entrypoint] } : {}),
    ...(options.name ? { name: options.name } : {}),
    ...(env.length ? { env } : {}),
    ...(options.workdir ? { workingDir: options.workdir } : {}),
    ...(options.user ? { user: options.user } : {}),
    ...(options.hostname ? { hostname: options.hostname } : {}),
    ...(options.restart ? { restart: options.restart } : {}),
    ...(autoRemove ? { autoRemove: true } : {}),
    ...(options.network?.length ? { networks: options.network } : {}),
    ...(options.publish?.length ? { ports: options.publish } : {}),
    ...(options.ip ? { ip: options.ip } : {}),
    ...(options.logOpt?.length ? { log: logOptions(options.logOpt) } : {}),
    ...(options.tty ? { tty: true } : {}),
    ...(options.interactive ? { stdinOpen: true } : {}),
    ...extra.spec,
    ...securityOptionsSpec(options),
  };
  const mounts = mountsFrom(options);
  if (mounts.length > 0) spec.mounts = mounts;
  const resources = resourceRunSpec(options);
  if (resources.healthcheck) spec.healthcheck = resources.healthcheck;
  const limits = {
    ...resources.limits,
    ...(options.memory ? { memory: options.memory } : {}),
    ...(options.cpus ? { cpus: options.cpus } : {}),
    ...(options.pidsLimit ? { pids: options.pidsLimit } : {}),
  };
  if (Object.keys(limits).length > 0) spec.limits = limits;
  parseOrThrow(ContainerSpec, spec, 'params');
  return spec;
}

/** Desktop folders among the binds mounted through the machine's shares (desktop-binds.ts); the mapping goes in labels. */
async function withDesktopBinds(
  session: Session,
  spec: ContainerSpecInput,
  volumeFlags: readonly string[],
  detached: boolean,
): Promise<ContainerSpecInput> {
  if (!spec.mounts?.length) return spec;
  const written = new Map<string, string>();
  for (const text of volumeFlags) {
    const mount = parseVolumeFlag(text);
    if (mount.type === 'bind') written.set(mount.target, volumeSourceText(text));
  }
  const { mounts, labels } = await shareDesktopBinds(session.api, session.machine, spec.mounts, written);
  if (Object.keys(labels).length === 0) return spec;
  // This process serves the share while it runs (electron/core/shares/share-mount.ts).
  if (detached) {
    process.stderr.write(
      `onggi: the desktop folders of this container are served while the window or \`onggi serve\` is connected to ${session.machine}; until then they read as errors there\n`,
    );
  }
  return { ...spec, mounts, labels: { ...spec.labels, ...labels } };
}

function writeEntries(entries: readonly LogEntry[], timestamps = false): void {
  for (const entry of entries) {
    const text = timestamps ? `${entry.time} ${entry.log}` : entry.log;
    (entry.stream === 'stderr' ? process.stderr : process.stdout).write(text);
  }
}

/**
 * Streams a container's log, in batches as the agent reads them (a long log never becomes one
 * answer); with follow, until the container ends, across lost links (log-follow.ts).
 */
async function streamLogs(
  session: Session,
  container: string,
  options: { tail?: number; since?: string; timestamps?: boolean; follow?: boolean },
): Promise<void> {
  await followLogs(
    session.api,
    { machine: session.machine, container },
    {
      follow: options.follow ?? true,
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(options.since !== undefined ? { since: options.since } : {}),
    },
    (entries) => writeEntries(entries, options.timestamps),
    (error) =>
      process.stderr.write(
        `onggi: ${error.message}\nonggi: following again when ${session.machine} answers (the container goes on there)\n`,
      ),
  );
}

/**
 * The options that describe a container, shared by `run` and `create` (Docker's `create` takes
 * `run`'s, less what only starting does: -d and --detach-keys).
 */
function addCreateOptions(command: Command): Command {
  return addSecurityOptions(addResourceRunOptions(addRunOptions(command)))
    .argument('<image>', 'image reference, id or id prefix')
    .argument('[command...]', 'command and arguments (replace the image CMD)')
    .option('--rm', 'remove the container when it exits')
    .option('--name <name>', 'container name')
    .option('-e, --env <NAME=value>', 'environment variable (repeatable)', collect)
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .option('-u, --user <user[:group]>', "user to run as: names from the image's /etc/passwd and /etc/group, or numbers")
    .option('--hostname <name>', 'container host name')
    .option('-m, --memory <size>', 'memory limit, e.g. 64m')
    .option('--cpus <n>', 'CPU limit, e.g. 0.5')
    .option('--pids-limit <n>', 'maximum number of processes', positiveInt)
    .option('--entrypoint <cmd>', 'override the image ENTRYPOINT ("" clears it)')
    .option('--network <name>', 'network to join (repeatable; "none" for no network; default: the default bridge)', collect)
    .option('-p, --publish <[hostip:]hostport:port[/proto]>', 'publish a container port on the machine (repeatable)', collect)
    .option('--ip <address>', 'static address on the first network')
    .option('--log-opt <key=value>', 'log rotation: max-size=10m, max-file=3 (repeatable or comma-separated)', collect)
    .addOption(new Option('--restart <policy>', 'restart policy').choices(['no', 'on-failure', 'always', 'unless-stopped']))
    .addOption(MOUNT_OPTIONS.volume())
    .addOption(MOUNT_OPTIONS.mount())
    .addOption(MOUNT_OPTIONS.tmpfs())
    .option('-i, --interactive', 'keep stdin open and attach it')
    .option('-t, --tty', "give the container's process a terminal (attached: this one)");
}

export function registerContainerCommands(program: Command): void {
  addCreateOptions(program.command('create'))
    .description('create a container without starting it (`onggi start` starts it) and print its id')
    .passThroughOptions()
    .action((image: string, command: string[], options: RunOptions, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        // --rm: the agent removes it when it ends after a start, as Docker's create --rm.
        const spec = specFrom(image, command, options, Boolean(options.rm));
        const { id } = await api.call('containers.create', { machine, ...spec });
        process.stdout.write(`${id}\n`);
      }),
    );

  addCreateOptions(program.command('run'))
    .description('create and start a container; attached, print its output and exit with its exit code')
    .option('-d, --detach', 'run in the background and print the container id')
    .option('--detach-keys <keys>', 'the key sequence that detaches (default ctrl-p,ctrl-q)', detachKeysOption)
    .passThroughOptions()
    .action((image: string, command: string[], options: RunOptions, cmd: Command) =>
      withSession(cmd, async (session) => {
        const { api, machine } = session;
        // Attached with --rm, the CLI removes the container itself after reading its exit code;
        // attached to its console the agent does, as one detached from stays running.
        const consoleAttached = !options.detach && Boolean(options.interactive || options.tty);
        const spec = await withDesktopBinds(
          session,
          specFrom(image, command, options, Boolean(options.rm && (options.detach || consoleAttached))),
          options.volume ?? [],
          options.detach === true,
        );
        const { id } = await api.call('containers.create', { machine, ...spec });
        if (options.detach) {
          await api.call('containers.start', { machine, container: id });
          process.stdout.write(`${id}\n`);
          return;
        }
        if (consoleAttached) {
          process.exitCode = await attachContainer(session, id, {
            start: true,
            ...(options.detachKeys ? { detachKeys: options.detachKeys } : {}),
          });
          return;
        }
        try {
          await api.call('containers.start', { machine, container: id });
          await streamLogs(session, id, {});
          const { exitCode } = await api.call('containers.wait', { machine, container: id });
          process.exitCode = exitCode;
        } finally {
          if (options.rm) await api.call('containers.remove', { machine, container: id, force: true, volumes: true });
        }
      }),
    );

  program
    .command('ps')
    .description('list containers')
    .option('-a, --all', 'include stopped containers')
    .option('--json', 'print JSON')
    .option(
      '-f, --filter <key=value>',
      'only containers matching: label=KEY[=VALUE], name=PART, status=STATE, id=PREFIX (repeatable)',
      collect,
    )
    .action((options: { all?: boolean; json?: boolean; filter?: string[] }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const filters = parsePsFilters(options.filter ?? []);
        // A status filter looks at stopped containers too, as Docker's does.
        const all = (options.all ?? false) || filters.has('status');
        const list = (await api.call('containers.list', { machine, all })).filter((c) => matchesPsFilters(c, filters));
        if (options.json) printJson(list);
        else process.stdout.write(formatContainerTable(list));
      }),
    );

  const each = (
    name: string,
    description: string,
    run: (session: Session, container: string, options: Record<string, unknown>) => Promise<ContainerSummary | { id: string }>,
  ) =>
    program
      .command(name)
      .description(description)
      .argument('<containers...>')
      .action(async (containers: string[], options: Record<string, unknown>, cmd: Command) =>
        withSession(cmd, async (session) => {
          for (const container of containers) {
            await run(session, container, options);
            process.stdout.write(`${container}\n`);
          }
        }),
      );

  registerAttachCommands(program);
  each('stop', 'stop running containers (SIGTERM, then SIGKILL after the timeout)', (s, container, o) =>
    s.api.call('containers.stop', { machine: s.machine, container, ...(o.time !== undefined ? { timeoutSeconds: Number(o.time) } : {}) }),
  ).option('-t, --time <seconds>', 'seconds to wait before killing', positiveIntOrZero);
  each('kill', 'send a signal to running containers (default SIGKILL)', (s, container, o) =>
    s.api.call('containers.kill', { machine: s.machine, container, ...(typeof o.signal === 'string' ? { signal: o.signal } : {}) }),
  ).option('-s, --signal <signal>', 'signal to send');
  each('rm', 'remove containers', (s, container, o) =>
    s.api.call('containers.remove', { machine: s.machine, container, force: o.force === true, volumes: o.volumes === true }),
  )
    .option('-f, --force', 'kill a running container first')
    .option('-v, --volumes', 'remove its anonymous volumes too');

  program
    .command('logs')
    .description("print a container's output")
    .argument('<container>')
    .option('-f, --follow', 'keep printing new output until the container ends')
    .option('-t, --timestamps', 'show timestamps')
    .option('-n, --tail <lines>', 'only the last N lines', positiveIntOrZero)
    .option('--since <time>', 'only lines since a time (RFC 3339) or for a duration back (10m, 1h30m)', (value: string) => sinceTime(value))
    .action((container: string, options: { follow?: boolean; timestamps?: boolean; tail?: number; since?: string }, cmd: Command) =>
      withSession(cmd, (session) => streamLogs(session, container, { ...options, follow: options.follow ?? false })),
    );

  program
    .command('exec')
    .description('run a command in a running container, with its namespaces, cgroup and security settings')
    .argument('<container>')
    .argument('<command...>')
    .option('-i, --interactive', 'keep stdin attached')
    .option('-t, --tty', "the command gets a terminal of the container's own, relayed to this one")
    .passThroughOptions()
    .action((container: string, command: string[], options: { interactive?: boolean; tty?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ core, machine, api }) => {
        // Machines reached over SSH run the command on a channel, not as a local process.
        const summary = (await api.call('machines.list', {})).find((entry) => entry.name === machine);
        if (summary && summary.provider !== 'local') {
          process.exitCode = await execOverTerminal(core, machine, container, command, options);
          return;
        }
        const exec = await core.execCommand(machine, container, command, { tty: Boolean(options.tty) });
        process.exitCode = await execLocally(exec, options);
      }),
    );

  program
    .command('inspect')
    .description("a container's full record: namespaces, cgroup and limits, overlay dirs")
    .argument('<container>')
    .option('--json', 'print JSON (the default)')
    .action((container: string, _options: unknown, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => printJson(await api.call('containers.inspect', { machine, container }))),
    );

  program
    .command('stats')
    .description("a running container's cpu, memory and pids usage")
    .argument('<container>')
    .option('--no-stream', 'print one sample and exit (the only mode for now)')
    .option('--json', 'print JSON')
    .action((container: string, options: { json?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const stats = await api.call('containers.stats', { machine, container });
        if (options.json) printJson(stats);
        else process.stdout.write(formatStats(container, stats));
      }),
    );

  program
    .command('activity')
    .description('the commands and file writes the agent performed')
    .option('--container <name>', 'only this container')
    .option('--network <name>', 'only this network')
    .option('--json', 'print JSON')
    .action((options: { container?: string; network?: string; json?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const entries = await api.call('activity.list', {
          machine,
          ...(options.container ? { container: options.container } : {}),
          ...(options.network ? { network: options.network } : {}),
        });
        if (options.json) printJson(entries);
        else
          for (const entry of entries)
            process.stdout.write(`${entry.ok ? ' ' : '!'} ${entry.durationMs.toFixed(1).padStart(7)} ms  ${formatActivity(entry)}\n`);
      }),
    );
}

/**
 * Runs the agent's exec entry on this host with this process's stdio. With -t the command gets a
 * pty of the container's own, which the init helper relays to this terminal: the terminal goes raw
 * while it runs (keys, ^C included, travel as bytes to the container's pty, whose line discipline
 * echoes them and makes the signals) and is restored however the exec ends.
 */
export async function execLocally(
  exec: { command: string; args: string[]; env: Record<string, string> },
  options: { interactive?: boolean; tty?: boolean },
): Promise<number> {
  const raw = Boolean(options.tty) && isatty(0);
  const restore = (): void => void process.stdin.setRawMode(false);
  // A raw terminal makes no signals of its own: these come from other processes (or a hangup)
  // and go on to the command, whose end restores the terminal.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  let child: ReturnType<typeof spawn> | undefined;
  const forward = (signal: NodeJS.Signals): void => void child?.kill(signal);
  if (raw) {
    process.stdin.setRawMode(true);
    process.once('exit', restore);
    for (const signal of signals) process.on(signal, forward);
  }
  try {
    child = spawn(exec.command, exec.args, {
      stdio: [options.interactive || options.tty ? 'inherit' : 'ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...exec.env },
    });
    const running = child;
    return await new Promise<number>((resolve) => {
      running.once('error', () => resolve(126));
      running.once('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    if (raw) {
      restore();
      process.off('exit', restore);
      for (const signal of signals) process.off(signal, forward);
    }
  }
}

function positiveIntOrZero(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}
