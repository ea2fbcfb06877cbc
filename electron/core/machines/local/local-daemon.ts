// Finds the local agent daemon, or starts it. A daemon from another build is replaced by ours
// (containers outlive the daemon, so a restart costs nothing but the reconnect).
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import { AgentLink } from '../../agent/agent-link.js';
import { readAgentBundle } from '../../agent/agent-bundle.js';
import { AGENT_DAEMON_ENV, agentDaemonNodeFlags } from '../../../../shared/agent-launch.js';

/** How to run a Node script here: plain Node for the CLI, the Electron binary as Node in the app. */
export interface NodeRuntime {
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

export interface LocalDaemonOptions {
  runDir: string;
  stateDir: string;
  agentDir: string;
  nodeRuntime: NodeRuntime;
  /** How long a starting daemon may take to say it is ready. */
  startTimeoutMs?: number;
}

export interface ConnectOptions {
  /**
   * Replace a daemon of another build with ours. Done when the user asks for the machine, never
   * on a background reconnect: two app builds on one host would otherwise take turns killing
   * each other's daemon.
   */
  replaceOtherBuild: boolean;
}

const CLIENT_NAME = 'onggi-host';

export function socketPathIn(runDir: string): string {
  return join(runDir, 'agent.sock');
}

/** Connects to the local agent, starting or replacing the daemon as needed. */
export async function connectLocalAgent(
  options: LocalDaemonOptions,
  how: ConnectOptions = { replaceOtherBuild: true },
): Promise<AgentLink> {
  const bundle = await readAgentBundle(options.agentDir);
  const socketPath = socketPathIn(options.runDir);
  for (let attempt = 0; ; attempt += 1) {
    const existing = await tryConnect(socketPath);
    if (existing) {
      const link = new AgentLink(existing, 'the local agent');
      try {
        const hello = await link.hello(CLIENT_NAME);
        if (hello.buildId === bundle.buildId) return link;
        if (!how.replaceOtherBuild) {
          link.close();
          throw new OnggiError(
            ErrorCode.Conflict,
            'other_build',
            `the local agent is now another Onggi build (${hello.agentVersion}, ${hello.buildId.slice(0, 12)}); open the machine again to replace it with this app's`,
          );
        }
      } catch (error) {
        if (!(error instanceof OnggiError && error.kind === 'incompatible_version')) {
          link.close();
          throw error;
        }
      }
      link.close();
      await stopDaemon(options.runDir);
    }
    try {
      await startDaemon(options, bundle.entry);
      break;
    } catch (error) {
      // Another host core (a second window, another app build) may have started a daemon between
      // our look at the socket and our start: ours then refuses to serve. Look once more, and treat
      // that daemon like one that was already running.
      if (attempt > 0 || !(await socketAccepts(socketPath))) throw error;
    }
  }
  const socket = await tryConnect(socketPath);
  if (!socket) throw unavailable(`the local agent started but ${socketPath} does not accept connections`);
  const link = new AgentLink(socket, 'the local agent');
  const hello = await link.hello(CLIENT_NAME);
  if (hello.buildId !== bundle.buildId) {
    link.close();
    throw unavailable(`another agent build (${hello.buildId.slice(0, 12)}) took over ${socketPath}`);
  }
  return link;
}

async function socketAccepts(socketPath: string): Promise<boolean> {
  const socket = await tryConnect(socketPath);
  socket?.destroy();
  return socket !== undefined;
}

function tryConnect(socketPath: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(undefined));
  });
}

async function startDaemon(options: LocalDaemonOptions, entry: string): Promise<void> {
  try {
    await mkdir(options.runDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw needsRoot(options.runDir, error);
  }
  const logPath = join(options.runDir, 'agent.log');
  const logFd = openSync(logPath, 'a', 0o600);
  try {
    const child = spawn(
      options.nodeRuntime.command,
      [
        ...(options.nodeRuntime.args ?? []),
        // The runtime is this process's own binary (the CLI's Node, or Electron run as Node).
        ...agentDaemonNodeFlags(process.versions.node),
        entry,
        'daemon',
        '--socket',
        socketPathIn(options.runDir),
        '--state',
        options.stateDir,
        '--ready-fd',
        '3',
      ],
      {
        // Detached into its own session: the daemon outlives this process, its terminal and its signals.
        detached: true,
        windowsHide: true,
        stdio: ['ignore', logFd, logFd, 'pipe'],
        env: { ...process.env, ...AGENT_DAEMON_ENV, ...options.nodeRuntime.env },
      },
    );
    const timeoutMs = options.startTimeoutMs ?? 15_000;
    const said = await waitForReady(child, timeoutMs, logPath);
    child.unref();
    // Another agent holds the state directory (another CLI or window started one a moment
    // before us): ours exited without touching anything; that one serves once it has recovered.
    if (said === 'busy') await waitForSocket(socketPathIn(options.runDir), timeoutMs, logPath);
  } finally {
    closeSync(logFd);
  }
}

/**
 * `ready` once the daemon serves; `busy` when it found another agent serving the same state
 * directory and exits (the agent's lifetime lock).
 */
function waitForReady(child: ReturnType<typeof spawn>, timeoutMs: number, logPath: string): Promise<'ready' | 'busy'> {
  // fd 3 is a pipe the daemon writes `ready` (or `busy PID`) into (stdio[3] is typed as either direction).
  const readyPipe = child.stdio[3] as Readable | null;
  return new Promise((resolve, reject) => {
    let said = '';
    const finish = (error?: Error, outcome: 'ready' | 'busy' = 'ready'): void => {
      clearTimeout(timer);
      readyPipe?.removeAllListeners();
      readyPipe?.destroy();
      child.removeAllListeners('exit');
      if (error) reject(error);
      else resolve(outcome);
    };
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      void logTail(logPath).then((tail) => finish(unavailable(`the local agent did not become ready within ${timeoutMs} ms${tail}`)));
    }, timeoutMs);
    readyPipe?.setEncoding('utf8');
    readyPipe?.on('data', (chunk: string) => {
      said += chunk;
      if (said.includes('ready\n')) finish();
      else if (/^busy \d*\n/m.test(said)) finish(undefined, 'busy');
    });
    child.once('error', (error) => finish(unavailable(`cannot start the local agent: ${errorMessage(error)}`)));
    child.once('exit', (code, signal) => {
      void logTail(logPath).then((tail) =>
        finish(unavailable(`the local agent exited during start-up (${signal ?? `code ${code}`})${tail}`)),
      );
    });
  });
}

/** Waits, bounded, until the socket accepts a connection (an agent that is still recovering does not yet). */
async function waitForSocket(socketPath: string, timeoutMs: number, logPath: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await socketAccepts(socketPath))) {
    if (Date.now() > deadline)
      throw unavailable(
        `another local agent holds the state directory but did not serve ${socketPath} within ${timeoutMs} ms${await logTail(logPath)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Stops the daemon named by the pid file and waits until its socket is gone. */
export async function stopDaemon(runDir: string, timeoutMs = 10_000): Promise<void> {
  // no pid file: no daemon to stop (Number('') is 0, handled below)
  const pid = Number((await readFile(join(runDir, 'agent.pid'), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw unavailable(`the old local agent (pid ${pid}) did not stop within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function logTail(logPath: string): Promise<string> {
  // the log tail only decorates an error already being reported
  const text = await readFile(logPath, 'utf8').catch(() => '');
  const lines = text.trim().split('\n').slice(-5).join('\n');
  return lines ? `:\n${lines}` : '';
}

function unavailable(message: string): OnggiError {
  return new OnggiError(ErrorCode.Unavailable, 'agent_unreachable', message);
}

function needsRoot(dir: string, error: unknown): OnggiError {
  return new OnggiError(
    ErrorCode.Forbidden,
    'needs_root',
    `the local machine's agent runs as root and could not create ${dir} (${errorMessage(error)}); start Onggi as root (e.g. \`sudo onggi serve\`)`,
  );
}
