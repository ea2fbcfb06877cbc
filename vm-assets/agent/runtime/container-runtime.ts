// The container lifecycle: create, start, stop, kill, remove, and what happens when a container
// ends — whether the daemon watched it end or finds out after a restart.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { constants as osConstants } from 'node:os';
import {
  DEFAULT_LOG_OPTIONS,
  type ContainerDetail,
  type ContainerSpec,
  type ContainerStats,
  type ContainerSummary,
  type LogEntry,
  type LogOptions,
} from '../../../shared/containers.js';
import { OnggiError, errorMessage } from '../../../shared/errors.js';
import type { ImageConfig } from '../../../shared/images.js';
import type { UsernsMaps, UsernsMode } from '../../../shared/userns.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { ActivityLog, ActivityScope } from '../activity/activity-log.js';
import { createLogger, type Logger } from '../daemon/logger.js';
import { Teardown } from '../daemon/teardown.js';
import type { CgroupDriver } from './cgroups/index.js';
import { commandLine, mergeEnv } from './container-command.js';
import { consoleOf, consoleOptions, terminalEnv } from './console.js';
import { readExit, type ExitRecord } from './exit-file.js';
import { normalizeSignal } from './signals.js';
import { followLog, readLog } from './container-logs.js';
import { CONTAINER_RECORD_VERSION, ContainerRecords, type ContainerPaths, type ContainerRecord } from './container-record.js';
import { generateName } from './names.js';
import { endProcesses, supervisorsUnder } from './leftover-processes.js';
import { isSameProcess, namespaceInodes, processStartTime } from './proc.js';
import { makeContainerDirs, mountArgv, mountRootfs, prepareRootfs, unmountRootfs } from './rootfs.js';
import { initArgs } from './helper-protocol.js';
import type { SecurityPolicy } from './security-policy.js';
import { checkPrivileges, containerDevices, containerPolicy, containerSeccomp, helperPrivilegeOptions } from './privileges.js';
import { readProcessSecurity } from './process-security.js';
import { GO_FD, READY_FD, StartError, launchSupervisor } from './supervisor.js';
import { UserError, resolveUser } from './users.js';
import { helperMounts, makeMounts, mountPoints, planMounts, undoMounts, type MadeMounts, type MountContext } from './mounts.js';
import type { VolumeStore } from '../volumes/store.js';
import { DEFAULT_RESOLV_SOURCES, writeContainerResolvConf, type ResolvSources } from './resolv-conf.js';
import { checkRunOptions, helperRunOptions, imageStopSignal, killEndsRestarts, restartWanted, stopPlan } from './run-options.js';
import { resolveLimits } from './resource-limits.js';
import { HealthMonitor, effectiveHealthcheck } from './health.js';
import type { UsernsRuntime } from '../userns/userns-settings.js';
import { chownForUserns, usernsRunOptions, volumeDirs } from '../userns/container-userns.js';

export interface ResolvedImage {
  id: string;
  names: string[];
  config: ImageConfig;
  /** Absolute layer directories, bottom layer first. */
  layerDirs: string[];
}

export interface ImageResolver {
  resolve(selector: string): Promise<ResolvedImage>;
}

export interface RuntimeOptions {
  root: string;
  helper: string;
  cgroups: CgroupDriver;
  activity: ActivityLog;
  images: ImageResolver;
  policy: SecurityPolicy;
  emit: (event: {
    type: 'container.state';
    id: string;
    name: string;
    state: ContainerRecord['state'];
    exitCode: number | null;
    changed?: true;
  }) => void;
  /** Runs before the container's process is made: what needs its plan, not its process (its published ports' claim and rules). */
  prepareStart?: (record: ContainerRecord) => Promise<void>;
  /** Runs between the container's process being created and its command starting (network set-up). */
  beforeStart?: (record: ContainerRecord, pid: number, rootfs: string) => Promise<void>;
  /** Undoes beforeStart's work when the container ends or is removed. */
  afterStop?: (record: ContainerRecord) => Promise<void>;
  /** Where failures no caller sees (teardown steps, restarts, recovery) are logged: the daemon's logger. */
  log?: Logger;
  /** Where the machine's log rotation default is kept, for what a container's --log-opt leaves out (read at each create). */
  logDefaults?: { read(): Promise<LogOptions>; write(options: LogOptions): Promise<void> };
  /** Named and anonymous volumes; absent, a mount of a volume (or an image with VOLUMEs) is refused. */
  volumes?: VolumeStore;
  /** Where the machine's resolver configuration is read for containers' /etc/resolv.conf (default /etc/resolv.conf and systemd-resolved's). */
  resolvSources?: ResolvSources;
  /** --userns=auto's ranges and the machine's --userns default; absent, only --userns=host runs. */
  userns?: UsernsRuntime;
  /** Where a container can reach the agent's DNS forwarder (its first network's gateway), for a machine whose only name server is on loopback. */
  dnsForwarderAddress?: (record: ContainerRecord) => string | undefined;
  /** The file the helper binds over a networked container's /etc/hosts (made before it starts), or undefined for none. */
  hostsFile?: (record: ContainerRecord) => Promise<string | undefined>;
}

const RESTART_LIMIT = 10;
/** How long recovery lets a leftover supervisor finish on its own (it needs milliseconds) before SIGKILL. */
const SUPERVISOR_GRACE_MS = 3000;

export class ContainerRuntime {
  private readonly records = new Map<string, ContainerRecord>();
  private readonly store: ContainerRecords;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly exitWaiters = new Map<string, Array<() => void>>();
  /** Resolved as soon as a container's exit file is readable, whoever holds its lock. */
  private readonly exitObservers = new Map<string, Array<(exit: ExitRecord) => void>>();
  private readonly reservedNames = new Set<string>();
  /** Containers whose process, cgroup and mount were released since their last start: removal skips doing it again. */
  private readonly released = new Set<string>();
  /** Containers reconcile found with a start the agent's death cut short, for resumeInterrupted. */
  private readonly interrupted = new Set<string>();
  /** Set by close: the runtime no longer finishes exits or starts containers. */
  private closed = false;

  private readonly log: Logger;

  private readonly health: HealthMonitor;

  constructor(private readonly options: RuntimeOptions) {
    this.store = new ContainerRecords(options.root);
    this.log = options.log ?? createLogger();
    this.health = new HealthMonitor(this, this.log);
  }

  // ---- queries -------------------------------------------------------------------------------

  list(all = false): ContainerSummary[] {
    return [...this.records.values()]
      .filter((r) => r.phase === 'ready' && (all || r.state === 'running'))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .map(summarize);
  }

  /** Names of the containers that use an image (the image store refuses to delete it). */
  usingImage(imageId: string): string[] {
    return [...this.records.values()].filter((r) => r.imageId === imageId).map((r) => r.name);
  }

  /** Every container with its directory on the machine (for disk use and prune). */
  directories(): Array<ContainerSummary & { dir: string }> {
    return [...this.records.values()].filter((r) => r.phase === 'ready').map((r) => ({ ...summarize(r), dir: this.store.paths(r.id).dir }));
  }

  find(selector: string): ContainerRecord {
    const exact = [...this.records.values()].find((r) => r.phase === 'ready' && (r.name === selector || r.id === selector));
    if (exact) return exact;
    if (/^[a-f0-9]{4,63}$/.test(selector)) {
      const matches = [...this.records.values()].filter((r) => r.phase === 'ready' && r.id.startsWith(selector));
      if (matches.length === 1 && matches[0]) return matches[0];
      if (matches.length > 1)
        throw new OnggiError(
          ErrorCode.Conflict,
          'ambiguous',
          `"${selector}" matches ${matches.length} containers; give more of the id`,
          'params.container',
        );
    }
    throw new OnggiError(ErrorCode.NotFound, 'not_found', `no container "${selector}"`, 'params.container');
  }

  async inspect(selector: string): Promise<ContainerDetail> {
    const record = this.find(selector);
    const paths = this.store.paths(record.id);
    const placement = this.options.cgroups.placement(record.id, record.limits);
    const limits = this.options.cgroups.limitFiles(record.id, record.limits);
    return {
      ...summarize(record),
      spec: record.spec,
      namespaces: record.state === 'running' && record.pid !== null ? await namespaceInodes(record.pid) : null,
      cgroup: { version: placement.version, paths: placement.dirs, limits },
      rootfs: { lowerdirs: [...record.layerDirs].reverse(), upperdir: paths.upper, workdir: paths.work, merged: paths.merged },
      logPath: paths.log,
      hostname: record.hostname,
      mounts: mountPoints(record.mounts, this.options.volumes, record.spec.labels),
      security: record.state === 'running' && record.pid !== null ? (readProcessSecurity(record.pid) ?? null) : null,
      ...(record.userns ? { userns: record.userns } : {}),
      seccomp: containerSeccomp(record.spec, containerPolicy(record.spec, this.options.policy).caps).summary,
    };
  }

  async stats(selector: string): Promise<ContainerStats> {
    const record = this.find(selector);
    if (record.state !== 'running')
      throw new OnggiError(ErrorCode.Conflict, 'not_running', `container ${record.name} is not running`, 'params.container');
    const usage = await this.options.cgroups.usage(record.id);
    return {
      at: new Date().toISOString(),
      cpu: { usageNs: usage.cpuUsageNs, limitCpus: record.limits.cpus ?? null },
      memory: { usage: usage.memoryUsage, limit: usage.memoryLimit },
      pids: { current: usage.pidsCurrent, limit: usage.pidsLimit },
    };
  }

  /**
   * A container's output across its rotated log files. With `onEntries` every entry goes there in
   * batches (the result is empty) and `follow` keeps it coming until the container ends; without,
   * the entries are returned.
   */
  async logs(
    selector: string,
    options: { tail?: number; since?: string; follow?: boolean; onEntries?: (entries: LogEntry[]) => void },
  ): Promise<LogEntry[]> {
    const record = this.find(selector);
    const paths = this.store.paths(record.id);
    const path = !existsSync(paths.log) && existsSync(paths.legacyLog) ? paths.legacyLog : paths.log;
    const collected: LogEntry[] = [];
    const onEntries = options.onEntries ?? ((entries: LogEntry[]) => void collected.push(...entries));
    const read = {
      ...(options.tail === undefined ? {} : { tail: options.tail }),
      ...(options.since ? { sinceMs: Date.parse(options.since) } : {}),
    };
    const cursor = await readLog(path, read, onEntries);
    if (!options.follow || record.state !== 'running' || !options.onEntries) {
      await cursor?.handle.close();
      return collected;
    }
    await followLog(path, cursor, options.onEntries, this.waitForExit(record.id));
    return [];
  }

  async wait(selector: string): Promise<{ exitCode: number; oomKilled: boolean }> {
    const record = this.find(selector);
    if (record.state === 'running') await this.waitForExit(record.id);
    // --rm: the removal follows the exit on the container's lock. Answered once it is done, so what
    // comes next (`rmi` of its image, a new container of its name) finds it gone, as after
    // Docker's `wait --condition removed`, which `docker run --rm` uses.
    if (record.autoRemove) await this.locks.get(record.id);
    const after = this.records.get(record.id) ?? record;
    return { exitCode: after.exitCode ?? -1, oomKilled: after.oomKilled };
  }

  /** The helper arguments for `agent exec` (up to the command): join this container with its own security settings. */
  execSpec(selector: string): string[] {
    const record = this.find(selector);
    if (record.state !== 'running' || record.pid === null)
      throw new OnggiError(ErrorCode.Conflict, 'not_running', `container ${record.name} is not running`, 'params.container');
    const args = initArgs({
      command: 'exec',
      targetPid: record.pid,
      // Only the hierarchies it was started in: an older agent's container lacks the newer ones (cpuset, blkio, freezer on v1).
      ...this.processSettings(
        record,
        this.options.cgroups.placement(record.id).procsFiles.filter((file) => existsSync(file)),
      ),
      argv: ['_'],
    });
    return args.slice(0, args.lastIndexOf('--'));
  }

  /** Where `agent attach` reaches a running container's console. */
  attachSpec(selector: string) {
    const record = this.find(selector);
    if (record.state !== 'running')
      throw new OnggiError(
        ErrorCode.Conflict,
        'not_running',
        `You cannot attach to a stopped container, start it first (${record.name})`,
        'params.container',
      );
    return consoleOf(record.spec, this.store.paths(record.id));
  }

  /** Who the container's processes run as and what they may do: the same for its first process and every exec. */
  private processSettings(record: ContainerRecord, cgroupProcs: string[]) {
    const { caps } = containerPolicy(record.spec, this.options.policy);
    return {
      env: record.env,
      cwd: record.workingDir,
      uid: record.uid,
      gid: record.gid,
      caps,
      ...containerSeccomp(record.spec, caps).helper,
      cgroupProcs,
      argv: record.argv,
    };
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Names of the containers whose mounts use a volume (it is never removed while any does). */
  usingVolume(name: string): string[] {
    return [...this.records.values()].filter((r) => r.mounts.some((m) => m.type === 'volume' && m.source === name)).map((r) => r.name);
  }

  /** Where mounts are checked against and volumes kept: the state directory is the one holding `containers/`. */
  private mountContext(): MountContext {
    return { volumes: this.options.volumes, stateDir: dirname(this.options.root) };
  }

  async create(spec: ContainerSpec): Promise<{ id: string; name: string }> {
    checkRunOptions(spec);
    checkPrivileges(spec);
    // A profile whose rules contradict each other is refused now, not at each start.
    containerSeccomp(spec, containerPolicy(spec, this.options.policy).caps);
    const name = spec.name ?? generateName((candidate) => this.nameTaken(candidate));
    if (this.nameTaken(name))
      throw new OnggiError(ErrorCode.Conflict, 'name_in_use', `the name "${name}" is already in use by another container`, 'params.name');
    this.reservedNames.add(name);
    try {
      const image = await this.options.images.resolve(spec.image).catch((error: unknown) => {
        throw error instanceof OnggiError ? new OnggiError(error.code, error.kind, error.message, 'params.image') : error;
      });
      const argv = commandLine(spec, image.config);
      // Every mount checked before anything is made: a refused one leaves nothing behind.
      const mountPlan = await planMounts(spec.mounts ?? [], image.config.volumes ?? [], this.mountContext());
      const madeMounts: MadeMounts = { dirs: [], volumes: [] };
      const id = randomBytes(32).toString('hex');
      const record: ContainerRecord = {
        version: CONTAINER_RECORD_VERSION,
        id,
        name,
        phase: 'creating',
        state: 'created',
        image: spec.image,
        imageId: image.id,
        layerDirs: image.layerDirs,
        argv,
        env: terminalEnv(mergeEnv(image.config.env, spec.env ?? [], spec.hostname ?? id.slice(0, 12)), spec.tty),
        workingDir: spec.workingDir ?? (image.config.workingDir || '/'),
        uid: 0,
        gid: 0,
        hostname: spec.hostname ?? id.slice(0, 12),
        limits: resolveLimits(spec.limits, this.options.cgroups),
        autoRemove: spec.autoRemove ?? false,
        restart: spec.restart ?? 'no',
        spec,
        pid: null,
        pidStartTime: null,
        exitCode: null,
        oomKilled: false,
        error: null,
        createdAt: new Date().toISOString(),
        startedAt: null,
        finishedAt: null,
        restartCount: 0,
        startPending: false,
        startsCutShort: 0,
        log: await this.logOptions(spec),
        mounts: [],
        stoppedByUser: false,
        ...imageStopSignal(image.config),
        paused: false,
        ...withHealthcheck(effectiveHealthcheck(image.config.healthcheck, spec.healthcheck)),
      };
      // Taken before anything is made: an exhausted range refuses the create with nothing to undo
      // (from here on a failure goes through purge, which releases it).
      const userns = await this.allocateUserns(id, spec.userns);
      if (userns) record.userns = userns;
      const user = spec.user ?? image.config.user;
      // Only a user name (or a uid without a gid) needs the image's /etc/passwd, read through the mounted layers.
      const needsMount = user !== '' && !/^\d+:\d+$/.test(user);
      // Recorded as `creating` before anything is made, so a crash from here on is rolled back. Without
      // a mount to make nothing comes before the record, which is then written once, ready (one atomic
      // write, two fsyncs, less per create).
      if (needsMount) await this.store.save(record);
      this.records.set(id, record);
      try {
        record.mounts = await makeMounts(mountPlan, this.mountContext(), madeMounts);
        if (needsMount) {
          const paths = this.store.paths(id);
          await mountRootfs(this.options.activity, record.layerDirs, paths, this.scope(record));
          try {
            Object.assign(record, await resolveUser(paths.merged, user));
          } finally {
            await unmountRootfs(this.options.activity, paths, this.scope(record));
          }
        } else if (user !== '') {
          const [uid, gid] = user.split(':').map(Number);
          Object.assign(record, { uid, gid });
        }
        record.phase = 'ready';
        await this.store.save(record);
        // The container's own directories now, as Docker makes its RW layer at create: a start
        // (100 at once in bench case 3) then only finds them (start still makes any that are missing).
        makeContainerDirs(this.store.paths(id));
      } catch (error) {
        await this.purge(record);
        await undoMounts(madeMounts, this.mountContext());
        if (error instanceof UserError) throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', error.message, 'params.user');
        throw error;
      }
      this.options.emit({ type: 'container.state', id, name, state: 'created', exitCode: null });
      return { id, name };
    } finally {
      this.reservedNames.delete(name);
    }
  }

  start(selector: string, options: { waitForAttach?: boolean | undefined } = {}): Promise<ContainerSummary> {
    const record = this.find(selector);
    return this.locked(record.id, async () => {
      if (record.state === 'running') return summarize(record);
      if (record.state === 'dead')
        throw new OnggiError(
          ErrorCode.Conflict,
          'dead',
          `container ${record.name} cannot be started: ${record.error ?? 'it could not be recovered'}`,
          'params.container',
        );
      await this.startLocked(record, options);
      return summarize(record);
    });
  }

  /** The container's log rotation: its own --log-opt, then the machine's default. */
  private async logOptions(spec: ContainerSpec): Promise<ContainerRecord['log']> {
    const machine = await this.logDefaults();
    return { maxSize: spec.log?.maxSize ?? machine.maxSize, maxFiles: spec.log?.maxFiles ?? machine.maxFiles };
  }

  /** The machine's default log rotation (10 MiB × 3 unless changed); `change` sets the fields it has. */
  async logDefaults(change?: LogOptions): Promise<ContainerRecord['log']> {
    const store = this.options.logDefaults;
    // an unreadable defaults file means the built-in default (10 MiB × 3); log-defaults.ts says why
    const kept = (await store?.read().catch(() => undefined)) ?? {};
    if (change && store && Object.keys(change).length > 0) await store.write({ ...kept, ...change });
    const now = { ...kept, ...change };
    return { maxSize: now.maxSize ?? DEFAULT_LOG_OPTIONS.maxSize, maxFiles: now.maxFiles ?? DEFAULT_LOG_OPTIONS.maxFiles };
  }

  /** The machine's default --userns; `change` sets it (for containers created from now on). */
  async usernsDefault(change?: UsernsMode): Promise<{ mode: UsernsMode }> {
    const store = this.options.userns;
    if (change && store) await store.writeDefault(change);
    return { mode: change ?? (await store?.readDefault()) ?? 'host' };
  }

  /** A new container's user namespace: --userns, else the machine's default; `auto` takes a range (released by purge). */
  private async allocateUserns(id: string, asked: UsernsMode | undefined): Promise<UsernsMaps | undefined> {
    const mode = asked ?? (await this.options.userns?.readDefault()) ?? 'host';
    if (mode === 'host') return undefined;
    if (!this.options.userns)
      throw new OnggiError(ErrorCode.Unavailable, 'userns_unavailable', '--userns=auto is unavailable on this machine', 'params.userns');
    return this.options.userns.allocator.allocate(id);
  }

  private async startLocked(record: ContainerRecord, options: { waitForAttach?: boolean | undefined } = {}): Promise<void> {
    if (this.closed)
      throw new OnggiError(ErrorCode.Unavailable, 'agent_closing', `container ${record.name} was not started: the agent is stopping`);
    const scope = this.scope(record);
    this.released.delete(record.id);
    const paths = this.store.paths(record.id);
    // Two unlinks: synchronously, cheaper than two thread-pool trips.
    rmSync(paths.exit, { force: true });
    rmSync(paths.pid, { force: true });
    mkdirSync(paths.logDir, { recursive: true, mode: 0o700 });
    // The supervisor mounts the overlay itself, unless it still is (the helper only reports the time).
    const overlay = await prepareRootfs(record.layerDirs, paths);
    chownForUserns(record.userns, [paths.upper, ...volumeDirs(record.mounts, this.options.volumes)]);
    const resolvConf = writeContainerResolvConf(
      paths.dir,
      this.options.resolvSources ?? DEFAULT_RESOLV_SOURCES,
      record.spec,
      this.options.dnsForwarderAddress?.(record),
    );
    const hostsFile = await this.options.hostsFile?.(record);
    record.stoppedByUser = false;
    // From here on a daemon that dies leaves things half made: recovery must know a start was under way.
    record.startPending = true;
    await this.store.save(record, { durable: false });
    try {
      // First, so its work overlaps the container's making; a refusal (a port taken) fails the start as one from beforeStart does.
      await this.options.prepareStart?.(record).catch((error: unknown) => {
        throw new StartError(errorMessage(error));
      });
      // A leftover of an earlier run goes first. remove() checks this container's directories only:
      // listing every container's cgroup made each of 100 concurrent starts O(containers).
      await this.options.cgroups.remove(record.id, scope);
      // --device and --privileged: read from the machine at each start, as the devices may have changed.
      const devices = containerDevices(record.spec);
      const policy = containerPolicy(record.spec, this.options.policy);
      const placement = await this.options.cgroups.create(record.id, { ...record.limits, deviceRules: devices.rules }, scope);
      this.watchExit(record.id);
      const args = initArgs({
        command: 'run',
        rootfs: paths.merged,
        ...(overlay === undefined ? {} : { overlay }),
        hostname: record.hostname,
        ...this.processSettings(record, placement.procsFiles),
        masked: policy.masked,
        readonly: policy.readonly,
        cgroupfs: placement.version === 2 ? 'v2' : 'none',
        // v2 has no devices controller: the helper attaches the rules as a BPF program (v1 writes devices.allow).
        ...(placement.version === 2 ? { deviceAllow: devices.rules } : {}),
        logFile: paths.log,
        logMaxSize: record.log.maxSize,
        logMaxFiles: record.log.maxFiles,
        exitFile: paths.exit,
        pidFile: paths.pid,
        // The supervisor unmounts after the end: no umount spawned on the exit path.
        unmountRootfs: true,
        readyFd: READY_FD,
        goFd: GO_FD,
        ...(record.mounts.length > 0 ? { mounts: helperMounts(record.mounts, this.options.volumes) } : {}),
        ...consoleOptions(record.spec, paths, options),
        resolvConf,
        ...(hostsFile === undefined ? {} : { hostsFile }),
        ...helperRunOptions(record.spec),
        ...helperPrivilegeOptions(record.spec, devices.nodes),
        ...usernsRunOptions(record.userns, overlay),
      });
      const pid = await launchSupervisor(
        this.options.activity,
        {
          helper: this.options.helper,
          args,
          supervisorLog: paths.supervisorLog,
          ...(overlay === undefined ? {} : { mountArgv: mountArgv(overlay, paths) }),
          beforeGo: this.options.beforeStart
            ? (pid) => this.options.beforeStart?.(record, pid, paths.merged) ?? Promise.resolve()
            : undefined,
        },
        scope,
      );
      Object.assign(record, {
        state: 'running',
        pid,
        pidStartTime: await processStartTime(pid),
        startedAt: new Date().toISOString(),
        finishedAt: null,
        exitCode: null,
        oomKilled: false,
        error: null,
        startPending: false,
        startsCutShort: 0,
      });
      this.health.start(record, { fresh: true });
      // Durable only where recovery acts on it: after a power loss, a restart policy restarts a
      // container whose record says running; without one, running or created ends the same way.
      await this.store.save(record, { durable: record.restart !== 'no' });
      this.options.emit({ type: 'container.state', id: record.id, name: record.name, state: 'running', exitCode: null });
      // A quick command may have ended before we marked it running, and its exit event found
      // nothing to finish: look once more now (queued behind this start, on the same lock).
      void this.onExitFile(record.id);
    } catch (error) {
      this.unwatchExit(record.id);
      await this.releaseResources(record);
      record.error = errorMessage(error);
      record.startPending = false;
      await this.store.save(record);
      throw error instanceof StartError
        ? new OnggiError(ErrorCode.OperationFailed, 'start_failed', `container ${record.name} failed to start: ${error.message}`)
        : error;
    }
  }

  stop(selector: string, timeoutSeconds?: number): Promise<ContainerSummary> {
    const record = this.find(selector);
    return this.locked(record.id, async () => {
      if (record.state !== 'running') return summarize(record);
      refuseIfPaused(record, 'stop');
      record.stoppedByUser = true;
      const plan = stopPlan(record, timeoutSeconds);
      // PID 1 of a pid namespace ignores SIGTERM unless it handles it: then SIGKILL, as Docker does.
      const exit = (await this.signalAndObserve(record, plan.signal, plan.timeoutMs)) ?? (await this.signalAndObserve(record, 'SIGKILL'));
      if (exit) await this.finish(record, exit);
      return summarize(this.records.get(record.id) ?? record);
    });
  }

  async kill(selector: string, signal = 'SIGKILL'): Promise<ContainerSummary> {
    const record = this.find(selector);
    if (record.state !== 'running')
      throw new OnggiError(ErrorCode.Conflict, 'not_running', `container ${record.name} is not running`, 'params.container');
    refuseIfPaused(record, 'kill');
    if (killEndsRestarts(record, signal)) record.stoppedByUser = true;
    if (normalizeSignal(signal) !== 'SIGKILL') {
      this.signal(record, signal);
      return summarize(record);
    }
    return this.locked(record.id, async () => {
      if (record.state !== 'running') return summarize(record);
      const exit = await this.signalAndObserve(record, 'SIGKILL');
      if (exit) await this.finish(record, exit);
      return summarize(this.records.get(record.id) ?? record);
    });
  }

  remove(selector: string, force = false, volumes = false): Promise<{ id: string }> {
    const record = this.find(selector);
    return this.locked(record.id, async () => {
      if (record.state === 'running') {
        if (!force)
          throw new OnggiError(
            ErrorCode.Conflict,
            'running',
            `container ${record.name} is running: stop it first or remove with force`,
            'params.container',
          );
        // A frozen process cannot act on SIGKILL (v1's freezer): thawed first, as Docker's rm -f does.
        if (record.paused) await this.options.cgroups.freeze(record.id, false, this.scope(record));
        const exit = await this.signalAndObserve(record, 'SIGKILL');
        if (exit) await this.finish(record, exit, { noRestart: true });
      }
      await this.purge(record, { volumes: volumes || record.autoRemove });
      return { id: record.id };
    });
  }

  // ---- the end of a container ----------------------------------------------------------------

  private watchExit(id: string): void {
    this.unwatchExit(id);
    const paths = this.store.paths(id);
    const watcher = watch(paths.dir, (_event, file) => {
      if (file === 'exit.json') void this.onExitFile(id);
    });
    this.watchers.set(id, watcher);
  }

  private unwatchExit(id: string): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
  }

  private async onExitFile(id: string): Promise<void> {
    const record = this.records.get(id);
    if (!record) return;
    const seen = await readExit(this.store.paths(id).exit);
    if (!seen) return; // not written completely yet: the rename will fire again
    for (const observer of this.exitObservers.get(id)?.splice(0) ?? []) observer(seen);
    await this.locked(id, async () => {
      // Queued before close: the next agent finishes it from the exit file.
      if (this.closed) return;
      // Read again under the lock: by now a restart may have replaced (or removed) that run's
      // exit file, and an exit must only ever end the run that wrote it.
      const exit = record.state === 'running' ? await readExit(this.store.paths(id).exit) : undefined;
      if (exit) await this.finish(record, exit);
    });
  }

  /** Signals a running container and waits, without taking its lock, until its supervisor records the end. */
  private async signalAndObserve(record: ContainerRecord, signal: string, timeoutMs?: number): Promise<ExitRecord | undefined> {
    const observed = new Promise<ExitRecord>((resolve) => {
      const list = this.exitObservers.get(record.id) ?? [];
      list.push(resolve);
      this.exitObservers.set(record.id, list);
    });
    this.signal(record, signal);
    // The exit may have been written before we started observing.
    const already = await readExit(this.store.paths(record.id).exit);
    if (already) return already;
    if (timeoutMs === undefined) return observed;
    return Promise.race([observed, delay(timeoutMs).then(() => undefined)]);
  }

  /** Records how a container ended, frees what it held, and applies --rm and restart policies. */
  private async finish(record: ContainerRecord, exit: ExitRecord, options: { noRestart?: boolean } = {}): Promise<void> {
    if (record.state !== 'running') return;
    this.unwatchExit(record.id);
    this.health.stop(record.id);
    if (exit.rootfsUnmountedMs !== undefined)
      this.options.activity.record({
        kind: 'command',
        argv: ['umount', this.store.paths(record.id).merged],
        ok: true,
        durationMs: exit.rootfsUnmountedMs,
        container: record.name,
      });
    const oomKills = await this.options.cgroups.oomKills(record.id).catch((error: unknown) => {
      this.log.error(`container ${record.name}: its OOM kill count cannot be read; taken as none`, error);
      return 0;
    });
    await this.releaseResources(record, { rootfsUnmounted: exit.rootfsUnmountedMs !== undefined });
    Object.assign(record, {
      state: 'exited',
      paused: false,
      pid: null,
      pidStartTime: null,
      exitCode: exit.exitCode,
      oomKilled: oomKills > 0,
      error: exit.error ?? null,
      finishedAt: exit.finishedAt ?? new Date().toISOString(),
    });
    // Not durable (see ContainerRecords.save), and not at all when --rm removes the record next:
    // a daemon killed before the removal finds the container running, its process gone, and
    // finishes it again from the exit file.
    const removedNext = record.autoRemove && !options.noRestart;
    if (!removedNext) await this.store.save(record, { durable: false });
    this.options.emit({ type: 'container.state', id: record.id, name: record.name, state: 'exited', exitCode: record.exitCode });
    for (const waiter of this.exitWaiters.get(record.id) ?? []) waiter();
    this.exitWaiters.delete(record.id);
    if (options.noRestart) return;
    if (record.autoRemove) {
      await this.purge(record);
      return;
    }
    const again = restartWanted(record.restart, record.exitCode, record.stoppedByUser);
    if (again && record.restartCount < RESTART_LIMIT && !exit.error) {
      record.restartCount += 1;
      // startLocked records a failure on the container itself, where the user sees it.
      await this.startLocked(record).catch((error: unknown) => this.log.debug(`container ${record.name}: restart failed`, error));
    }
  }

  /**
   * Kills stragglers, removes the cgroup and unmounts the rootfs; safe to call twice.
   * `rootfsUnmounted`: the supervisor's exit record says it unmounted, so no mount table to read.
   */
  private async releaseResources(record: ContainerRecord, { rootfsUnmounted = false } = {}): Promise<void> {
    const scope = this.scope(record);
    const teardown = new Teardown(this.log, `container ${record.name}: releasing its resources`);
    try {
      await teardown.step('network teardown', async () => this.options.afterStop?.(record), undefined);
      await this.killAll(record.id);
      await teardown.step('cgroup removal', () => this.options.cgroups.remove(record.id, scope), undefined);
      if (!rootfsUnmounted) await unmountRootfs(this.options.activity, this.store.paths(record.id), scope);
    } finally {
      teardown.report();
    }
    this.released.add(record.id);
  }

  /** `volumes` (`rm -v`; always with --rm, as Docker): its anonymous volumes go too, unless another container uses one. */
  private async purge(record: ContainerRecord, { volumes = record.autoRemove } = {}): Promise<void> {
    record.phase = 'removing';
    // Unlinking the record commits the removal as atomically as saving it `removing` did, without
    // a write and two fsyncs: a daemon that dies from here on finds a directory without a record,
    // which reconcile reaps as an orphan (mount, cgroup, processes; the networks prune members
    // they no longer find).
    const teardown = new Teardown(this.log, `container ${record.name}: removing it`);
    await teardown.step('forgetting its record', () => this.store.forget(record.id), undefined);
    this.unwatchExit(record.id);
    // Released when it ended: only the hook is left to run, which frees the network addresses on removal.
    if (this.released.has(record.id)) await teardown.step('network teardown', async () => this.options.afterStop?.(record), undefined);
    teardown.report();
    if (!this.released.has(record.id)) await this.releaseResources(record);
    await this.options.activity.timed(['rm', '-rf', this.store.paths(record.id).dir], this.scope(record), () =>
      this.store.delete(record.id),
    );
    this.records.delete(record.id);
    this.released.delete(record.id);
    this.options.userns?.allocator.release(record.id);
    if (volumes) await this.removeAnonymousVolumes(record);
    this.options.emit({ type: 'container.state', id: record.id, name: record.name, state: 'dead', exitCode: record.exitCode });
  }

  private async removeAnonymousVolumes(record: ContainerRecord): Promise<void> {
    const teardown = new Teardown(this.log, `container ${record.name}: removing its anonymous volumes`);
    for (const mount of record.mounts)
      if (mount.type === 'volume' && mount.anonymous && mount.source && this.usingVolume(mount.source).length === 0) {
        const name = mount.source;
        await teardown.step(`volume ${name}`, () => this.options.volumes?.remove(name) ?? Promise.resolve(), undefined);
      }
    teardown.report();
  }

  private waitForExit(id: string): Promise<void> {
    const record = this.records.get(id);
    if (!record || record.state !== 'running') return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.exitWaiters.get(id) ?? [];
      list.push(resolve);
      this.exitWaiters.set(id, list);
    });
  }

  // ---- recovery ------------------------------------------------------------------------------

  /**
   * On daemon start: find every container again, learn how those that ended while we were down
   * ended, reap half-done work. Recovery is per container: one whose leftovers cannot be reconciled
   * is marked dead with the reason and left for `rm -f`, and every other container, and the
   * runtime, go on working. What each state a crash can leave becomes:
   * - no record (a create before its first save, or a removal after its unlink): an orphan, reaped;
   * - record `creating` / `removing`: rolled back / finished (purged);
   * - `created` or `exited`, start cut short (`startPending`): the start's supervisor is ended, what
   *   it made is released, and the container is started again once, after the daemon listens
   *   (`resumeInterrupted`); a start cut short twice in a row stays created, saying why;
   * - `running`, its process alive: adopted; its process gone: finished from the exit file;
   * - dead (recovery failed before): released again, still dead until removed.
   */
  async reconcile(): Promise<{
    unreadable: { id: string; dir: string; reason: string }[];
    unrecoverable: { id: string; name: string; reason: string }[];
  }> {
    const { records, orphans, unreadable } = await this.store.loadAll();
    const supervisors = supervisorsUnder(this.options.root);
    const unrecoverable: { id: string; name: string; reason: string }[] = [];
    for (const id of orphans) {
      try {
        // A removal cut short after its record was unlinked may have left the process running: it
        // goes first, or the busy overlay would not unmount; then its supervisor, done writing.
        await this.endLeftovers(id, supervisors.get(id) ?? []);
        await unmountRootfs(this.options.activity, this.store.paths(id), {});
        await this.options.cgroups.remove(id, {});
        await this.store.delete(id);
      } catch (error) {
        // No record, so nothing to show in a list: kept for the next start to try again.
        unrecoverable.push({ id, name: id.slice(0, 12), reason: `its leftovers could not be reaped: ${errorMessage(error)}` });
      }
    }
    for (const record of records) {
      this.records.set(record.id, record);
      if (record.userns) this.options.userns?.allocator.adopt(record.id, record.userns);
      try {
        await this.recover(record, supervisors.get(record.id) ?? []);
      } catch (error) {
        const reason = errorMessage(error);
        unrecoverable.push({ id: record.id, name: record.name, reason });
        if (!this.records.has(record.id)) continue;
        Object.assign(record, {
          phase: 'ready',
          state: 'dead',
          pid: null,
          pidStartTime: null,
          startPending: false,
          error: `the agent could not recover it after a restart: ${reason}; remove it with rm -f`,
        });
        await this.store
          .save(record, { durable: false })
          .catch((error: unknown) => this.log.error(`container ${record.name}: its record cannot be saved as dead`, error));
      }
    }
    // A container whose record cannot be read keeps its processes and cgroup, as it keeps its files.
    const known = new Set([...this.records.keys(), ...unreadable.map(({ id }) => id)]);
    for (const id of await this.options.cgroups.list()) {
      if (known.has(id)) continue;
      try {
        await this.killAll(id);
        await this.options.cgroups.remove(id, {});
      } catch (error) {
        unrecoverable.push({ id, name: id.slice(0, 12), reason: `its cgroup could not be removed: ${errorMessage(error)}` });
      }
    }
    return { unreadable: unreadable.map(({ id, reason }) => ({ id, dir: this.store.paths(id).dir, reason })), unrecoverable };
  }

  /** One container's part of reconcile; throws when its leftovers cannot be reconciled. */
  private async recover(record: ContainerRecord, supervisors: readonly number[]): Promise<void> {
    if (record.phase !== 'ready') {
      await this.endLeftovers(record.id, supervisors);
      await this.purge(record);
      return;
    }
    if (record.state === 'running' && (await isSameProcess(record.pid, record.pidStartTime))) {
      this.watchExit(record.id);
      this.health.start(record, { fresh: false });
      // It may have ended between our check and the watch.
      if (await readExit(this.store.paths(record.id).exit)) void this.onExitFile(record.id);
      return;
    }
    if (record.state === 'running') {
      // Its process is gone; its supervisor may still be draining output and writing the exit file.
      await endProcesses(supervisors, { graceMs: SUPERVISOR_GRACE_MS });
      const exit = (await readExit(this.store.paths(record.id).exit)) ?? {
        exitCode: -1,
        error: 'the container ended while the agent was down and left no exit status',
      };
      await this.locked(record.id, () => this.finish(record, exit));
      return;
    }
    // Created, exited or dead: such a container holds nothing. A supervisor still here belongs to a
    // start the daemon did not live to record (before "go", or after it but before the running
    // save): it is ended with what it made, and the start is done again below.
    await this.endLeftovers(record.id, supervisors);
    const exit = await readExit(this.store.paths(record.id).exit);
    await this.releaseResources(record, { rootfsUnmounted: exit?.rootfsUnmountedMs !== undefined });
    if (record.startPending) {
      record.startPending = false;
      record.startsCutShort += 1;
      if (record.startsCutShort === 1) this.interrupted.add(record.id);
      else record.error = `its start was cut short by the agent's end ${record.startsCutShort} times in a row; start it again when ready`;
      await this.store.save(record, { durable: false });
    }
  }

  /**
   * Starts again the containers whose start the agent's death cut short (the user asked for them
   * to run): once, in parallel, each under its own lock, so a remove that came first wins.
   */
  async resumeInterrupted(): Promise<void> {
    const ids = [...this.interrupted];
    this.interrupted.clear();
    await Promise.all(
      ids.map((id) =>
        this.locked(id, async () => {
          const record = this.records.get(id);
          if (!record || record.phase !== 'ready' || record.state === 'running' || record.state === 'dead') return;
          // A failure is recorded on the container by startLocked itself.
          await this.startLocked(record).catch((error: unknown) => this.log.debug(`container ${record.name}: restart failed`, error));
        }),
      ),
    );
  }

  /**
   * Ends what a dead agent's container left running: its processes (the cgroup), then its
   * supervisors, given time to see that end, unmount and write the exit file as they do — so
   * nothing of theirs lands after we release or start again — and SIGKILLed past it.
   */
  private async endLeftovers(id: string, supervisors: readonly number[]): Promise<void> {
    await this.killAll(id);
    await endProcesses(supervisors, { graceMs: SUPERVISOR_GRACE_MS });
  }

  /** SIGKILLs every process in the container's cgroup and waits, bounded, for the kernel to reap them. */
  private async killAll(id: string): Promise<void> {
    // No cgroup (never made, or already removed) holds no processes.
    const pids = await this.options.cgroups.pids(id).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') this.log.error(`container ${id}: its cgroup's processes cannot be listed`, error);
      return [];
    });
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (pids.length > 0) for (let i = 0; i < 200 && (await this.options.cgroups.pids(id)).length > 0; i += 1) await delay(10);
  }

  /**
   * Stops acting, then waits for the work in hand. From here on no exit is finished and nothing is
   * started — a start or restart begun by an agent on its way out would be cut short — and once
   * every operation already queued on a container has settled, nothing of this runtime's lands on
   * disk any more: what the next agent reads is final.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.watchers.keys()]) this.unwatchExit(id);
    this.health.close();
    await Promise.all([...this.locks.values()]);
  }

  // ---- verbs beyond the lifecycle (container-verbs.ts) -----------------------------------------

  /** Runs an operation on one container under its lock: what pause, update and rename are built on. */
  withContainer<T>(selector: string, operation: (record: ContainerRecord, access: RuntimeAccess) => Promise<T>): Promise<T> {
    const record = this.find(selector);
    return this.locked(record.id, () => operation(record, this.access()));
  }

  /** The same access without the lock, for reads (top, diff) and the healthcheck timer. */
  access(): RuntimeAccess {
    return {
      cgroups: this.options.cgroups,
      activity: this.options.activity,
      helper: this.options.helper,
      paths: (id) => this.store.paths(id),
      save: (record) => this.store.save(record, { durable: false }),
      changed: (record) =>
        this.options.emit({
          type: 'container.state',
          id: record.id,
          name: record.name,
          state: record.state,
          exitCode: record.exitCode,
          changed: true,
        }),
      summarize,
      nameTaken: (name) => this.nameTaken(name),
      scope: (record) => this.scope(record),
      records: () => [...this.records.values()].filter((r) => r.phase === 'ready'),
    };
  }

  // ---- helpers -------------------------------------------------------------------------------

  private nameTaken(name: string): boolean {
    return this.reservedNames.has(name) || [...this.records.values()].some((r) => r.name === name);
  }

  private scope(record: ContainerRecord): ActivityScope {
    return { container: record.name };
  }

  private signal(record: ContainerRecord, signal: string): void {
    if (record.pid === null) return;
    const name = normalizeSignal(signal);
    if (!(name in osConstants.signals))
      throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', `unknown signal "${signal}"`, 'params.signal');
    try {
      process.kill(record.pid, name as NodeJS.Signals);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  private locked<T>(id: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const next = previous.then(operation, operation);
    this.locks.set(
      id,
      // The chain only orders the next operation; this one's caller gets its error from `next`.
      next.catch(() => undefined),
    );
    return next;
  }
}

function summarize(record: ContainerRecord): ContainerSummary {
  return {
    id: record.id,
    name: record.name,
    image: record.image,
    imageId: record.imageId,
    command: record.argv,
    state: record.state,
    pid: record.pid,
    exitCode: record.exitCode,
    oomKilled: record.oomKilled,
    error: record.error,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    ...(record.spec.tty ? { tty: true } : {}),
    ...(record.spec.labels ? { labels: record.spec.labels } : {}),
    ...(record.paused ? { paused: true } : {}),
    ...(record.health ? { health: record.health } : {}),
    ...(record.spec.privileged ? { privileged: true } : {}),
  };
}

function withHealthcheck(healthcheck: ContainerRecord['healthcheck']): Pick<ContainerRecord, 'healthcheck'> {
  return healthcheck ? { healthcheck } : {};
}

/** Docker refuses to stop or kill a paused container: the signal would wait for an unpause. */
function refuseIfPaused(record: ContainerRecord, verb: string): void {
  if (record.paused)
    throw new OnggiError(
      ErrorCode.Conflict,
      'paused',
      `cannot ${verb} container ${record.name}: it is paused; unpause it first (rm -f ends it anyway)`,
      'params.container',
    );
}

/** What the verbs in container-verbs.ts may use of the runtime. */
export interface RuntimeAccess {
  cgroups: CgroupDriver;
  activity: ActivityLog;
  helper: string;
  paths: (id: string) => ContainerPaths;
  /** Saves the record (not flushed: a pause, a rename, a health change). */
  save: (record: ContainerRecord) => Promise<void>;
  /** Tells subscribers the container changed (a container.state event). */
  changed: (record: ContainerRecord) => void;
  summarize: (record: ContainerRecord) => ContainerSummary;
  nameTaken: (name: string) => boolean;
  scope: (record: ContainerRecord) => ActivityScope;
  records: () => ContainerRecord[];
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
