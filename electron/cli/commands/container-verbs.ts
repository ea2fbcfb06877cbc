// Docker's container verbs beyond the lifecycle (pause, unpause, update, top, diff, rename, wait),
// and the run options for the finer resource limits and healthchecks.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Command, InvalidArgumentError } from 'commander';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { ContainerSpecInput } from '../../../shared/containers.js';
import { healthFromOptions, parseDuration } from '../../../shared/health.js';
import { parseDeviceRate } from '../../../shared/resource-options.js';
import { formatTable } from '../format.js';
import { collect, printJson, withSession, type Session } from '../session.js';

/**
 * cp names files on this computer, and the agent reads and writes them in place, which only the
 * local machine (this computer) can do; remote machines refuse, saying so. (export and save carry a
 * single tar over the link with fileFromMachine; cp's source or destination may be a folder.)
 */
async function requireLocal({ api, machine }: Session, verb: string): Promise<void> {
  const summary = (await api.call('machines.list', {})).find((entry) => entry.name === machine);
  if (summary && summary.provider !== 'local')
    throw new OnggiError(
      ErrorCode.InvalidParams,
      'unsupported',
      `${verb} works with the local machine only for now (machine ${machine} is ${summary.provider})`,
      'machine',
    );
}

/** `NAME:PATH` names a path in a container; anything else (`./x`, `/x`, `x`) is a local path. */
export function containerPath(arg: string): { container: string; path: string } | undefined {
  const match = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(arg);
  return match?.[1] && match[2] !== undefined ? { container: match[1], path: match[2] || '/' } : undefined;
}

/**
 * Writes a tar the agent makes (`produce` gets a machine path) to `output`, or to stdout. The file
 * is made here first, so it is ours (not root's) when the agent has filled it.
 */
async function tarTo(output: string | undefined, produce: (path: string) => Promise<unknown>): Promise<void> {
  if (output !== undefined) {
    await writeFile(resolve(output), '');
    await produce(resolve(output));
    return;
  }
  if (process.stdout.isTTY) throw new InvalidArgumentError('refusing to write a tar to a terminal: use -o FILE or a redirect');
  const dir = await mkdtemp(join(tmpdir(), 'onggi-tar-'));
  try {
    const file = join(dir, 'out.tar');
    await writeFile(file, '');
    await produce(file);
    await pipeline(createReadStream(file), process.stdout, { end: false });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function deviceRate(value: string, previous: ReturnType<typeof parseDeviceRate>[] = []) {
  try {
    return [...previous, parseDeviceRate(value)];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export interface ResourceRunOptions {
  cpusetCpus?: string;
  cpuShares?: number;
  memorySwap?: string;
  blkioWeight?: number;
  deviceReadBps?: Array<{ path: string; rate: string }>;
  deviceWriteBps?: Array<{ path: string; rate: string }>;
  healthCmd?: string;
  healthInterval?: number;
  healthTimeout?: number;
  healthRetries?: number;
  healthStartPeriod?: number;
  /** Commander's `--no-healthcheck` sets this false. */
  healthcheck?: boolean;
}

/** Adds `run`'s resource and healthcheck options (Docker's spelling) to a command. */
export function addResourceRunOptions(command: Command): Command {
  return command
    .option('--cpuset-cpus <list>', 'CPUs the container may use, e.g. 0-3 or 0,2')
    .option('-c, --cpu-shares <n>', 'relative CPU weight (2-262144)', wholeNumber)
    .option('--memory-swap <size>', 'memory plus swap (needs -m; -1 for unlimited swap)')
    .option('--blkio-weight <n>', 'relative block IO weight (10-1000)', wholeNumber)
    .option('--device-read-bps <dev:rate>', 'limit reads from a device, e.g. /dev/sda:1mb (repeatable)', deviceRate)
    .option('--device-write-bps <dev:rate>', 'limit writes to a device, e.g. /dev/sda:1mb (repeatable)', deviceRate)
    .option('--health-cmd <command>', 'command run in the container to check its health (through /bin/sh -c)')
    .option('--health-interval <duration>', 'time between checks (e.g. 30s)', duration)
    .option('--health-timeout <duration>', 'longest a check may run (e.g. 30s)', duration)
    .option('--health-retries <n>', 'failures in a row that make it unhealthy', wholeNumber)
    .option('--health-start-period <duration>', 'time to start before failures count (e.g. 5s)', duration)
    .option('--no-healthcheck', "disable any healthcheck, the image's too");
}

/** The spec fields those options give (checked later with the whole spec). */
export function resourceRunSpec(
  options: ResourceRunOptions,
): Pick<ContainerSpecInput, 'healthcheck'> & { limits: Record<string, unknown> } {
  const limits = {
    ...(options.cpusetCpus !== undefined ? { cpusetCpus: options.cpusetCpus } : {}),
    ...(options.cpuShares !== undefined ? { cpuShares: options.cpuShares } : {}),
    ...(options.memorySwap !== undefined ? { memorySwap: options.memorySwap } : {}),
    ...(options.blkioWeight !== undefined ? { blkioWeight: options.blkioWeight } : {}),
    ...(options.deviceReadBps?.length ? { deviceReadBps: options.deviceReadBps } : {}),
    ...(options.deviceWriteBps?.length ? { deviceWriteBps: options.deviceWriteBps } : {}),
  };
  const healthcheck = healthFromOptions({
    ...(options.healthCmd !== undefined ? { cmd: options.healthCmd } : {}),
    ...(options.healthInterval !== undefined ? { intervalMs: options.healthInterval } : {}),
    ...(options.healthTimeout !== undefined ? { timeoutMs: options.healthTimeout } : {}),
    ...(options.healthRetries !== undefined ? { retries: options.healthRetries } : {}),
    ...(options.healthStartPeriod !== undefined ? { startPeriodMs: options.healthStartPeriod } : {}),
    disabled: options.healthcheck === false,
  });
  return { limits, ...(healthcheck ? { healthcheck } : {}) };
}

export function registerContainerVerbCommands(program: Command): void {
  const forEach = (name: string, description: string, method: 'containers.pause' | 'containers.unpause') =>
    program
      .command(name)
      .description(description)
      .argument('<containers...>')
      .action((containers: string[], _options: unknown, cmd: Command) =>
        withSession(cmd, async ({ api, machine }) => {
          for (const container of containers) {
            await api.call(method, { machine, container });
            process.stdout.write(`${container}\n`);
          }
        }),
      );
  forEach('pause', 'freeze every process in containers', 'containers.pause');
  forEach('unpause', 'thaw paused containers', 'containers.unpause');

  program
    .command('update')
    .description("change running (or stopped) containers' limits; kept for their next starts")
    .argument('<containers...>')
    .option('--cpus <n>', 'CPU limit, e.g. 0.5')
    .option('-m, --memory <size>', 'memory limit, e.g. 64m')
    .option('--memory-swap <size>', 'memory plus swap (-1 for unlimited swap)')
    .option('--pids-limit <n>', 'maximum number of processes', wholeNumber)
    .option('-c, --cpu-shares <n>', 'relative CPU weight (2-262144)', wholeNumber)
    .option('--cpuset-cpus <list>', 'CPUs the container may use, e.g. 0-3')
    .option('--blkio-weight <n>', 'relative block IO weight (10-1000)', wholeNumber)
    .action((containers: string[], options: Record<string, string | number | undefined>, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const { pidsLimit, ...rest } = options;
        const change = Object.fromEntries(Object.entries({ ...rest, pids: pidsLimit }).filter(([, value]) => value !== undefined));
        for (const container of containers) {
          await api.call('containers.update', { machine, container, ...change });
          process.stdout.write(`${container}\n`);
        }
      }),
    );

  program
    .command('top')
    .description("a running container's processes, numbered in the container and on the machine")
    .argument('<container>')
    .option('--json', 'print JSON')
    .action((container: string, options: { json?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const { processes } = await api.call('containers.top', { machine, container });
        if (options.json) printJson(processes);
        else
          process.stdout.write(
            formatTable([
              ['PID', 'HOST PID', 'PPID', 'USER', 'COMMAND'],
              ...processes.map((p) => [String(p.pid), String(p.hostPid), String(p.ppid), p.user, p.command]),
            ]),
          );
      }),
    );

  program
    .command('diff')
    .description('what a container changed in its filesystem: A added, C changed, D deleted')
    .argument('<container>')
    .option('--json', 'print JSON')
    .action((container: string, options: { json?: boolean }, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        const { changes } = await api.call('containers.diff', { machine, container });
        if (options.json) printJson(changes);
        else for (const change of changes) process.stdout.write(`${change.kind} ${change.path}\n`);
      }),
    );

  program
    .command('rename')
    .description('rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action((container: string, name: string, _options: unknown, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        await api.call('containers.rename', { machine, container, name });
      }),
    );

  program
    .command('cp')
    .description('copy files between a container and this computer: cp CONTAINER:PATH DEST or cp SRC CONTAINER:PATH')
    .argument('<source>')
    .argument('<dest>')
    .action((source: string, dest: string, _options: unknown, cmd: Command) =>
      withSession(cmd, async (session) => {
        await requireLocal(session, 'cp');
        const from = containerPath(source);
        const to = containerPath(dest);
        if (Boolean(from) === Boolean(to))
          throw new InvalidArgumentError(
            'exactly one of source and dest must be CONTAINER:PATH (copying between containers is not supported)',
          );
        if (from) await session.api.call('containers.copyFrom', { machine: session.machine, ...from, dest: resolve(dest) });
        else if (to) await session.api.call('containers.copyTo', { machine: session.machine, ...to, source: resolve(source) });
      }),
    );

  program
    .command('export')
    .description("a container's filesystem as a tar, to stdout or a file")
    .argument('<container>')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action((container: string, options: { output?: string }, cmd: Command) =>
      withSession(cmd, async (session) => {
        const { core, api, machine } = session;
        await tarTo(options.output, (dest) =>
          core.fileFromMachine(machine, dest, (path) => api.call('containers.export', { machine, container, dest: path })),
        );
      }),
    );

  program
    .command('commit')
    .description("a new image from a container's changes")
    .argument('<container>')
    .argument('[reference]', 'name for the image, e.g. myapp:v2')
    .option(
      '-c, --change <instruction>',
      'apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE (repeatable)',
      collect,
    )
    .option('-a, --author <name>', 'author')
    .option('-m, --message <text>', 'commit message')
    .action(
      (container: string, reference: string | undefined, options: { change?: string[]; author?: string; message?: string }, cmd: Command) =>
        withSession(cmd, async ({ api, machine }) => {
          const image = await api.call('images.commit', {
            machine,
            container,
            ...(reference ? { reference } : {}),
            ...(options.change?.length ? { changes: options.change } : {}),
            ...(options.author ? { author: options.author } : {}),
            ...(options.message ? { message: options.message } : {}),
          });
          process.stdout.write(`${image.id}\n`);
        }),
    );

  const save = (command: Command) =>
    command
      .description('images as a docker-archive tar (what image import and docker load read), to stdout or a file')
      .argument('<images...>')
      .option('-o, --output <file>', 'write to a file instead of stdout')
      .action((images: string[], options: { output?: string }, cmd: Command) =>
        withSession(cmd, async (session) => {
          const { core, api, machine } = session;
          await tarTo(options.output, (dest) =>
            core.fileFromMachine(machine, dest, (path) => api.call('images.save', { machine, images, dest: path })),
          );
        }),
      );
  const image = program.commands.find((command) => command.name() === 'image');
  if (image) save(image.command('save'));
  save(program.command('save'));

  program
    .command('wait')
    .description('wait for containers to end and print their exit codes')
    .argument('<containers...>')
    .action((containers: string[], _options: unknown, cmd: Command) =>
      withSession(cmd, async ({ api, machine }) => {
        for (const container of containers) {
          const { exitCode } = await api.call('containers.wait', { machine, container });
          process.stdout.write(`${exitCode}\n`);
        }
      }),
    );
}
