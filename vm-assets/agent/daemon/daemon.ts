// The agent daemon: serves the RPC on a unix socket only root can open. Its lifetime is its own:
// launched detached, it outlives the app that started it (containers outlive both).
import { closeSync, writeSync } from 'node:fs';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { ActivityLog } from '../activity/activity-log.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import { IdleStop } from '../idle/idle-stop.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { AgentNetworks } from '../networks/agent-networks.js';
import { NetworkManager } from '../networks/network-manager.js';
import { createHandlers } from '../rpc/handlers.js';
import { VolumeStore } from '../volumes/store.js';
import { createRuntime, initHelperPath, openNetworks, reconcileNetworks } from './services.js';
import { openImageStore } from '../images/store.js';
import { serveConnection } from './connection.js';
import { startDockerApi, type DockerApiServer } from '../docker-api/server.js';
import { dockerSocketBeside } from '../../../shared/docker-api.js';
import { listenOwnerOnly } from './owner-only-listen.js';
import { EventHub } from './event-hub.js';
import type { AgentIdentity } from '../system/system-info.js';
import { createLogger } from './logger.js';
import { MemorySettle, exposedGc } from './memory-settle.js';
import { StateDirBusyError, lockStateDir } from './state-lock.js';

export interface DaemonOptions {
  socketPath: string;
  stateDir: string;
  identity: AgentIdentity;
  /** Where the agent bundle lives (the init helper sits beside agent.cjs). */
  bundleDir: string;
  /** A file descriptor to write `ready\n` to once the socket accepts connections, then close. */
  readyFd?: number;
}

export interface RunningDaemon {
  server: Server;
  stop(): Promise<void>;
}

export function pidFileFor(socketPath: string): string {
  return join(dirname(socketPath), 'agent.pid');
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const log = createLogger();
  const runDir = dirname(options.socketPath);
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  // Before anything reads or changes the state, the socket included: a second agent leaves both alone.
  try {
    await lockStateDir(options.stateDir, initHelperPath(options.bundleDir));
  } catch (error) {
    // The launcher waiting on the ready fd hears that another agent serves (it then connects to that one).
    if (error instanceof StateDirBusyError && options.readyFd !== undefined) {
      writeSync(options.readyFd, `busy ${error.holderPid ?? ''}\n`);
      closeSync(options.readyFd);
    }
    throw error;
  }
  await removeStaleSocket(options.socketPath);

  const events = new EventHub();
  const activity = new ActivityLog(join(options.stateDir, 'activity.jsonl'));
  activity.onEntry((entry) => events.publish({ type: 'activity', entry }));
  const images = await openImageStore({
    root: join(options.stateDir, 'images'),
    activity,
    helper: initHelperPath(options.bundleDir),
    // Called only on images.remove, long after the runtime below exists.
    inUse: (imageId) => (runtime instanceof Error ? [] : runtime.usingImage(imageId)),
    log: (message) => log.info(message),
  }).catch((error: unknown) => {
    log.error('the image store is unavailable', error);
    return error instanceof Error ? error : new Error(String(error));
  });
  // Nothing is read until a call needs it: the directory is made with the first volume.
  const volumes = new VolumeStore(join(options.stateDir, 'volumes'));
  const networkDeps = { stateDir: options.stateDir, activity, events, log };
  const openedNetworks = await openNetworks(networkDeps);
  // Where the packet filter is missing, the next request that needs a network opens them again.
  const networks = new AgentNetworks(openedNetworks, async () => {
    const opened = await openNetworks(networkDeps);
    const settled = await reconcileNetworks(opened, runtime, log);
    // A manager that could not be reconciled is not used: its kernel monitor stops with it.
    if (settled !== opened && opened instanceof NetworkManager) opened.close();
    return settled;
  });
  const runtime = await createRuntime({
    stateDir: options.stateDir,
    bundleDir: options.bundleDir,
    activity,
    events,
    log,
    images: images instanceof Error ? undefined : images,
    networks,
    volumes,
  });
  networks.settle(await reconcileNetworks(openedNetworks, runtime, log));
  // Starts the agent's death cut short are done again before anyone is served (on the reconciled
  // networks): the first list a client sees shows them running, not half-way.
  if (!(runtime instanceof Error))
    await runtime.resumeInterrupted().catch((error: unknown) => log.error('resuming interrupted starts failed', error));
  const idle = new IdleStop({
    stateDir: options.stateDir,
    containerCpu: () => containerCpu(runtime),
    onWarn: (minutes) => events.publish({ type: 'idle.warning', minutes }),
    log: (message) => log.info(message),
  });
  await idle.start();
  const handlers = createHandlers({ identity: options.identity, events, activity, runtime, images, networks, volumes, idle });
  const memory = new MemorySettle({ gc: exposedGc(), onSettled: (ms) => log.debug(`quiet: heap settled in ${ms.toFixed(1)} ms`) });
  const clients = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    clients.add(socket);
    socket.once('close', () => clients.delete(socket));
    serveConnection(socket, handlers, events, log, () => memory.touch());
  });

  // Root only, from the instant it is bound.
  await listenOwnerOnly(server, options.socketPath);
  // A second front end over the same handlers: docker clients see the containers the window does.
  const dockerApi: DockerApiServer | undefined = await startDockerApi(dockerSocketBeside(options.socketPath), {
    handlers,
    events,
    activity,
    identity: options.identity,
    helper: initHelperPath(options.bundleDir),
    scratchDir: join(options.stateDir, 'docker-api'),
  }).catch((error: unknown) => {
    log.error('the Docker API is unavailable', error);
    return undefined;
  });
  const pidFile = pidFileFor(options.socketPath);
  await writeFileAtomic(pidFile, `${process.pid}\n`, { mode: 0o644 });
  log.info(`agent ${options.identity.version} (${options.identity.buildId.slice(0, 12)}) listening on ${options.socketPath}`);

  if (options.readyFd !== undefined) {
    writeSync(options.readyFd, 'ready\n');
    closeSync(options.readyFd);
  }
  // Start-up's garbage goes at once, after the launcher heard `ready` (it connects meanwhile).
  memory.settleNow();

  let stopped = false;
  return {
    server,
    async stop() {
      if (stopped) return;
      stopped = true;
      idle.stop();
      memory.stop();
      if (!(openedNetworks instanceof Error)) openedNetworks.close();
      networks.close();
      await dockerApi?.close();
      // close() alone waits for every client to hang up; a stopping daemon hangs up on them.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of clients) socket.destroy();
      await closed;
      // No request can come in now: let a start or stop in hand finish, rather than leave it cut short.
      if (!(runtime instanceof Error)) await runtime.close();
      // The journal's last lines (written in batches) before the process exits.
      await activity.flushed();
      // Only remove the pid file if it is still ours (a newer daemon may have replaced us).
      const current = await readFile(pidFile, 'utf8').catch(() => '');
      // shutting down: a pid file already gone is the goal
      if (current.trim() === String(process.pid)) await unlink(pidFile).catch(() => undefined);
    },
  };
}

/**
 * A socket file left by a daemon that died is removed. Holding the state lock, one that answers is
 * an agent of another state directory on the same socket path: refused, never replaced.
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another agent is already serving ${socketPath}`);
  await unlink(socketPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/** CPU used so far by each running container (ns): what auto-stop counts as a container's activity. */
async function containerCpu(runtime: ContainerRuntime | Error): Promise<Map<string, number>> {
  const used = new Map<string, number>();
  if (runtime instanceof Error) return used;
  for (const container of runtime.list()) {
    if (container.state !== 'running') continue;
    // a container that stopped between the list and the look has no usage to count
    const stats = await runtime.stats(container.id).catch(() => undefined);
    if (stats) used.set(container.id, stats.cpu.usageNs);
  }
  return used;
}
