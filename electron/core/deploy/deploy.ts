// Deploy, Remote-SSH style: one probe says what the machine is and what it already has; parts
// whose hash directory is absent are uploaded compressed (SFTP), checked with sha256sum and
// unpacked into place as root; the daemon is (re)started under systemd or a background
// supervisor; the host then talks to it through the init helper's `dial` over an exec channel. A machine that
// already runs this build costs two exec channels and a handshake, and uploads nothing.
import { randomBytes } from 'node:crypto';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { OnggiError, errorMessage } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { DeployPhase, DeployProgress, RemoteLayout } from '../../../shared/machines.js';
import type { RuntimeStager } from './runtime-staging.js';
import { AgentLink } from '../agent/agent-link.js';
import { checkHash, checkRemotePath, shellCommand } from '../machines/ssh/quote.js';
import type { SshConnection } from '../machines/ssh/ssh-connection.js';
import {
  INIT_HELPER_HINT,
  agentPart,
  chooseRuntimePart,
  initHelperName,
  readRuntimeManifest,
  type AgentPart,
  type DeployPart,
} from './bundles.js';
import { ACTIVATE_SCRIPT, INSTALL_SCRIPT, PRUNE_SCRIPT, SUPERVISOR_SCRIPT } from './remote-scripts.js';
import { agentContainerArgs, type ContainerAttach } from '../machines/agent-container-command.js';
import { redact, sudoInput, sudoPassword, type AskSudoPassword } from './sudo.js';
import {
  DEFAULT_GLIBC_MIN,
  PROBE_SCRIPT,
  UNAME_MACHINE,
  checkArch,
  checkTarget,
  parseProbe,
  privilegePrefix,
  type RuntimeArch,
  type TargetFacts,
} from './targets.js';

export const CLIENT_NAME = 'onggi-host';
const KEEP_VERSIONS = 2;
const UPLOAD_CHUNK = 32 * 1024;
const UPLOAD_IN_FLIGHT = 64;

export interface DeployOptions {
  connection: SshConnection;
  /** The machine's name, for progress events. */
  machine: string;
  layout: RemoteLayout;
  agentDir: string;
  bundlesDir: string;
  /**
   * Replace a daemon of another build with ours. True when the user asked for the machine; false
   * on a background reconnect, so two app builds do not take turns replacing each other's agent.
   */
  replaceOtherBuild: boolean;
  onProgress?: (progress: DeployProgress) => void;
  handshakeTimeoutMs?: number;
  /**
   * How long installing and starting may take (default 10 min): unpacking the runtime is seconds on
   * a server and minutes on an emulated VM or a small board; a dead link still fails at once.
   */
  applyTimeoutMs?: number;
  /**
   * Asks for the sudo password when the login user's sudo wants one (asked at most twice, kept
   * for this connection in memory only; see sudo.ts). Without it such a machine is refused.
   */
  askSudoPassword?: AskSudoPassword;
  /**
   * Stages the machine's runtime when none is staged for its architecture (a checkout's first
   * deploy; see runtime-staging.ts), then deploys again from the probe. Without it, a missing
   * runtime is an error naming the command that stages it.
   */
  stageRuntime?: RuntimeStager;
}

export interface RemotePaths {
  node: string;
  agent: string;
  /** The init helper, deployed beside the agent (deploy refuses a build without it). */
  helper: string;
  socket: string;
  /**
   * The words that run a command as root there: [] for root, sudo otherwise; with `sudo -S` the
   * command's stdin must start with the password line (see sudo.ts and `sudoPasswordFor`).
   */
  privilege: string[];
}

export interface DeployResult {
  link: AgentLink;
  arch: RuntimeArch;
  facts: TargetFacts;
  paths: RemotePaths;
  runtimeId: string;
  agentId: string;
  buildId: string;
  uploadedBytes: number;
  uploaded: Array<'runtime' | 'agent'>;
  /** Whether the daemon was (re)started. */
  restarted: boolean;
  removed: string[];
  durationMs: number;
  /** Milliseconds per step (probe, upload, apply, handshake), for the record. */
  timings: Record<string, number>;
}

export function resolveLayout(layout: RemoteLayout): RemoteLayout {
  return {
    installRoot: checkRemotePath(layout.installRoot, 'remote.installRoot'),
    runDir: checkRemotePath(layout.runDir, 'remote.runDir'),
    stateDir: checkRemotePath(layout.stateDir, 'remote.stateDir'),
    supervisor: layout.supervisor,
  };
}

export function remotePaths(layout: RemoteLayout, runtimeId: string, agentId: string, privilege: string[], arch: RuntimeArch): RemotePaths {
  return {
    node: `${layout.installRoot}/runtime/${checkHash(runtimeId)}/bin/node`,
    agent: `${layout.installRoot}/agent/${checkHash(agentId)}/agent.cjs`,
    helper: `${layout.installRoot}/agent/${checkHash(agentId)}/${initHelperName(arch)}`,
    socket: `${layout.runDir}/agent.sock`,
    privilege,
  };
}

/**
 * The command line that runs `agent exec` for a container (terminals use it). With `tty` the
 * command gets a pty of the container's own, relayed to the channel's pty, whose size it follows.
 */
export function agentExecCommand(
  paths: RemotePaths,
  container: string,
  command: readonly string[],
  options: { tty?: boolean; attach?: ContainerAttach } = {},
): string {
  return shellCommand([...paths.privilege, paths.node, paths.agent, ...agentContainerArgs(paths.socket, container, command, options)]);
}

/**
 * The agent's `hold` for a terminal session that outlives the link (vm-assets/agent/terminal-hold.ts):
 * the holder runs `command` (the login shell when empty) with the privilege of `paths`.
 */
export function agentHoldArgs(
  paths: RemotePaths,
  id: string,
  options: { from: number; reattach: boolean; cols: number; rows: number; command: readonly string[] },
): string[] {
  return [
    ...paths.privilege,
    paths.node,
    paths.agent,
    'hold',
    '--from',
    String(options.from),
    ...(options.reattach ? ['--reattach'] : []),
    '--rows',
    String(options.rows),
    '--cols',
    String(options.cols),
    id,
    ...(options.command.length > 0 ? ['--', ...options.command] : []),
  ];
}

export async function deployAgent(options: DeployOptions): Promise<DeployResult> {
  const started = performance.now();
  const { connection } = options;
  const layout = resolveLayout(options.layout);
  const host = connection.label;
  let uploadTotal = 0;
  let uploadedBytes = 0;
  const uploads: Array<{ part: DeployPart; sha256: string; remote: string }> = [];
  const timings: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    timings[name] = Math.round((now - mark) * 10) / 10;
    mark = now;
  };
  const progress = (phase: DeployPhase, part?: 'runtime' | 'agent', detail?: string): void => {
    const weights: Record<DeployPhase, number> = { probe: 2, upload: 5, install: 85, start: 92, handshake: 97, done: 100, stage: 1 };
    let percent = weights[phase];
    if (phase === 'upload' && uploadTotal > 0) percent = 5 + (80 * uploadedBytes) / uploadTotal;
    options.onProgress?.({
      machine: options.machine,
      phase,
      ...(part ? { part } : {}),
      bytes: uploadedBytes,
      total: uploadTotal,
      percent: Math.round(percent * 10) / 10,
      ...(detail === undefined ? {} : { detail }),
    });
  };

  // 1. What the machine is and which of our parts it has (for every arch we could ship); when it
  //    has this build's parts, the same channel goes on to dial the agent.
  progress('probe');
  const candidates = await candidateParts(options.agentDir, options.bundlesDir);
  lap('pack');
  const installed = candidates.map(({ arch, runtimeId, agent }) => ({ arch, paths: remotePaths(layout, runtimeId, agent.id, [], arch) }));
  const probePaths = installed.flatMap(({ paths }) => [paths.node, paths.agent]);
  const dialTriples = installed.flatMap(({ arch, paths }) => [UNAME_MACHINE[arch], paths.agent, paths.helper]);
  const channel = await connection.execChannel(
    shellCommand([
      'sh',
      '-c',
      PROBE_SCRIPT,
      'onggi-probe',
      String(probePaths.length),
      ...probePaths,
      `${layout.runDir}/agent.sock`,
      ...dialTriples,
    ]),
  );
  const probed = await readProbe(channel, host);
  const facts = probed.facts;
  lap('probe');
  const checked = await (async () => {
    const arch = checkArch(facts, host);
    const staged = await readRuntimeManifest(options.bundlesDir, arch).catch((error: unknown) => error as Error);
    checkTarget(
      facts,
      host,
      staged instanceof Error ? DEFAULT_GLIBC_MIN : staged.glibcMin,
      staged instanceof Error ? 'runtime' : staged.node,
    );
    if (staged instanceof Error) throw staged;
    // An agent without its init helper starts but cannot run a container: refuse before uploading.
    if (!(await agentPart(options.agentDir, arch)).hasInitHelper) {
      throw new OnggiError(
        ErrorCode.Unavailable,
        'init_helper_missing',
        `cannot deploy to ${host} (${arch}): this build has no ${initHelperName(arch)}, without which the agent cannot start a container. ${INIT_HELPER_HINT}`,
      );
    }
    const privilege = privilegePrefix(facts, host);
    if (!facts.sha256sum) {
      throw new OnggiError(
        ErrorCode.OperationFailed,
        'unsupported_target',
        `${host} has no sha256sum (coreutils); deploy checks every upload with it`,
      );
    }
    // Asked (and checked) once per connection, before anything runs as root.
    const password = facts.sudo === 'password' ? await sudoPassword(connection, host, options.askSudoPassword) : undefined;
    return { arch, manifest: staged, privilege, password };
  })().catch((error: unknown) => {
    channel.close();
    if (options.stageRuntime && error instanceof OnggiError && error.kind === 'runtime_bundle_missing') return undefined;
    throw error;
  });
  if (checked === undefined) {
    // The machine passed every check but its runtime is not staged here yet: stage it (minutes the
    // first time), then start over, so the probe asks about the runtime that now exists.
    const arch = checkArch(facts, host);
    progress('stage', 'runtime', `staging the Node runtime for linux-${arch}`);
    await options.stageRuntime?.(arch, options.bundlesDir, (line) => progress('stage', 'runtime', line));
    const { stageRuntime: _staged, ...again } = options;
    return deployAgent(again);
  }
  const { arch, manifest, privilege, password } = checked;
  const runtime = chooseRuntimePart(options.bundlesDir, manifest, facts.xz);
  const agent = await agentPart(options.agentDir, arch);
  const paths = remotePaths(layout, runtime.id, agent.id, privilege, arch);
  const has = new Set(facts.existing);
  const missing: DeployPart[] = [runtime, agent].filter((part) => !has.has(part.kind === 'runtime' ? paths.node : paths.agent));

  // 2. Already installed: the probe dialed on (or, with a sudo password, a dial of its own); the
  //    daemon may well be ours and running.
  if (missing.length === 0 && (facts.dialed || password !== undefined)) {
    progress('handshake');
    if (!facts.dialed) channel.close();
    const attempt = await (
      facts.dialed
        ? handshake(channel, probed.stderr, connection.label, options.handshakeTimeoutMs)
        : dial(connection, paths, options.handshakeTimeoutMs, password)
    ).catch((error: unknown) => error as Error);
    lap('handshake');
    if (!(attempt instanceof Error)) {
      if (attempt.hello.buildId === agent.buildId) {
        progress('done');
        return result(attempt.link, false, []);
      }
      attempt.link.close();
      if (!options.replaceOtherBuild) throw otherBuild(host, attempt.hello.agentVersion, attempt.hello.buildId);
    } else if (!options.replaceOtherBuild) throw attempt;
  } else channel.close();
  // A background reconnect only dials: it never installs or restarts (the supervisor brings a
  // crashed daemon back; another app's build is not ours to replace). The user's next request does.
  if (!options.replaceOtherBuild) {
    throw new OnggiError(
      ErrorCode.Unavailable,
      'agent_unreachable',
      `the agent on ${host} is not running this build; open the machine to deploy it`,
    );
  }

  // 3. Upload what is missing, install, (re)start, prune.
  const loaded = await Promise.all(missing.map(async (part) => ({ part, ...(await part.load()) })));
  uploadTotal = loaded.reduce((sum, { data }) => sum + data.length, 0);
  if (loaded.length > 0) {
    const sftp = await connection.sftp();
    for (const { part, data, sha256 } of loaded) {
      progress('upload', part.kind);
      const remote = `/tmp/onggi-upload-${randomBytes(16).toString('hex')}.tar.${part.format}`;
      await uploadBytes(sftp, data, remote, (n) => {
        uploadedBytes += n;
        progress('upload', part.kind);
      });
      uploads.push({ part, sha256, remote });
    }
  }
  if (uploads.length > 0) lap('upload');
  progress('install');
  const mode = layout.supervisor === 'auto' ? (facts.systemd ? 'systemd' : 'background') : layout.supervisor;
  const commands = [
    ...(uploads.length > 0
      ? [
          shellCommand([
            ...privilege,
            'sh',
            '-c',
            INSTALL_SCRIPT,
            'onggi-install',
            layout.installRoot,
            ...uploads.flatMap(({ part, sha256, remote }) => [part.kind, part.id, sha256, remote, part.format]),
          ]),
        ]
      : []),
    shellCommand([
      ...privilege,
      'sh',
      '-c',
      ACTIVATE_SCRIPT,
      'onggi-activate',
      mode,
      paths.node,
      paths.agent,
      paths.socket,
      layout.stateDir,
      layout.runDir,
      SUPERVISOR_SCRIPT,
    ]),
    shellCommand([...privilege, 'sh', '-c', PRUNE_SCRIPT, 'onggi-prune', layout.installRoot, String(KEEP_VERSIONS), runtime.id, agent.id]),
  ];
  progress('start');
  const applied = await connection.exec(commands.join(' && '), {
    timeoutMs: options.applyTimeoutMs ?? 600_000,
    // Each sudo reads one line; a command that failed leaves the rest unread.
    ...(password !== undefined ? { stdin: sudoInput(password, commands.length) } : {}),
  });
  if (applied.code !== 0) {
    throw new OnggiError(
      ErrorCode.OperationFailed,
      'deploy_failed',
      `installing the agent on ${host} failed (exit ${applied.code}): ${redact(applied.stderr || applied.stdout, password)
        .trim()
        .slice(-1500)}`,
    );
  }
  lap('apply');
  const removed = [...applied.stdout.matchAll(/^removed=(.+)$/gm)].map((match) => match[1] ?? '');

  progress('handshake');
  const { link, hello } = await dial(connection, paths, options.handshakeTimeoutMs, password);
  lap('handshake');
  if (hello.buildId !== agent.buildId) {
    link.close();
    throw new OnggiError(
      ErrorCode.Unavailable,
      'agent_unreachable',
      `the agent started on ${host} reports build ${hello.buildId.slice(0, 12)}, not ${agent.buildId.slice(0, 12)}: another agent took over ${paths.socket}`,
    );
  }
  progress('done');
  return result(link, true, removed);

  function result(link: AgentLink, restarted: boolean, removedDirs: string[]): DeployResult {
    return {
      link,
      arch,
      facts,
      paths,
      runtimeId: runtime.id,
      agentId: agent.id,
      buildId: agent.buildId,
      uploadedBytes,
      uploaded: uploads.map(({ part }) => part.kind),
      restarted,
      removed: removedDirs,
      durationMs: performance.now() - started,
      timings,
    };
  }
}

async function candidateParts(
  agentDir: string,
  bundlesDir: string,
): Promise<Array<{ arch: RuntimeArch; runtimeId: string; agent: AgentPart }>> {
  const out: Array<{ arch: RuntimeArch; runtimeId: string; agent: AgentPart }> = [];
  for (const arch of ['x64', 'arm64'] as const) {
    // probe: an architecture without a staged runtime is skipped
    const manifest = await readRuntimeManifest(bundlesDir, arch).catch(() => undefined);
    if (manifest) out.push({ arch, runtimeId: manifest.id, agent: await agentPart(agentDir, arch) });
  }
  return out;
}

function otherBuild(host: string, version: string, buildId: string): OnggiError {
  return new OnggiError(
    ErrorCode.Conflict,
    'other_build',
    `the agent on ${host} is now another Onggi build (${version}, ${buildId.slice(0, 12)}); open the machine again to replace it with this app's`,
  );
}

/**
 * Opens the init helper's `dial` to the agent's socket over an exec channel and shakes hands with
 * the daemon behind it. With a sudo password (privilege `sudo -S`), its line goes first on the
 * channel: sudo reads it and nothing more, the agent gets the rest.
 */
export async function dial(connection: SshConnection, paths: RemotePaths, timeoutMs?: number, password?: string): Promise<Dialed> {
  const channel = await connection.execChannel(shellCommand([...paths.privilege, paths.helper, 'dial', paths.socket]));
  if (password !== undefined) channel.write(sudoInput(password));
  const stderr: DialStderr = { text: '', closed: false };
  channel.stderr.setEncoding('utf8');
  channel.stderr.on('data', (chunk: string) => {
    if (stderr.text.length < 4096) stderr.text += redact(chunk, password);
  });
  return handshake(channel, stderr, connection.label, timeoutMs);
}

/** What the dial printed on stderr (for error messages), and whether its channel has closed. */
interface DialStderr {
  text: string;
  closed: boolean;
}

interface Dialed {
  link: AgentLink;
  hello: Awaited<ReturnType<AgentLink['hello']>>;
}

/** The version handshake over a channel running the helper's `dial`; what it printed on stderr explains a failure. */
// 45 s: the daemon may still be starting (a Node start on the machine, seconds under emulation or load).
async function handshake(channel: ClientChannel, stderr: DialStderr, label: string, timeoutMs = 45_000): Promise<Dialed> {
  // The probe's channel may have closed while the deploy read its bundles: a dial that found no
  // agent ends within a round trip, and a link made on a closed channel would wait out the timeout.
  if (stderr.closed) {
    const said = stderr.text.trim();
    throw new OnggiError(
      ErrorCode.Unavailable,
      'agent_unreachable',
      `the connection to the agent on ${label} closed${said ? ` (${said})` : ''}`,
    );
  }
  const link = new AgentLink(channel, `the agent on ${label}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    const hello = await Promise.race([
      link.hello(CLIENT_NAME),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new OnggiError(ErrorCode.Unavailable, 'agent_unreachable', `the agent on ${label} did not answer within ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
      }),
    ]);
    return { link, hello };
  } catch (error) {
    link.close();
    if (error instanceof OnggiError && error.kind === 'incompatible_version') throw error;
    const said = stderr.text.trim();
    throw new OnggiError(ErrorCode.Unavailable, 'agent_unreachable', `${errorMessage(error)}${said ? ` (${said})` : ''}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads the probe's facts from the channel's stderr (up to `end=1`); what comes after on stderr
 * is the dial's, kept for error messages.
 */
function readProbe(channel: ClientChannel, host: string, timeoutMs = 30_000): Promise<{ facts: TargetFacts; stderr: DialStderr }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const after: DialStderr = { text: '', closed: false };
    let done = false;
    const timer = setTimeout(
      () => finish(new OnggiError(ErrorCode.Unavailable, 'probe_failed', `probing ${host} took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) {
        channel.close();
        return reject(error);
      }
      try {
        resolve({ facts: parseProbe(text), stderr: after });
      } catch (parseError) {
        channel.close();
        reject(parseError instanceof Error ? parseError : new Error(String(parseError)));
      }
    };
    // Nothing comes on stdout until the host speaks to a dialed agent; flowing, so 'close' arrives.
    channel.resume();
    channel.stderr.setEncoding('utf8');
    channel.stderr.on('data', (chunk: string) => {
      if (done) {
        if (after.text.length < 4096) after.text += chunk;
        return;
      }
      text += chunk;
      const end = text.indexOf('\nend=1\n');
      if (end >= 0) {
        after.text = text.slice(end + '\nend=1\n'.length);
        text = text.slice(0, end + '\nend=1\n'.length);
        finish();
      }
    });
    channel.once('close', () => {
      after.closed = true;
      finish(
        new OnggiError(
          ErrorCode.OperationFailed,
          'probe_failed',
          `probing ${host} failed: ${text.trim().slice(-500) || 'the command ended without output'}`,
        ),
      );
    });
  });
}

/** Writes bytes to a new remote file (exclusive create, 0600), many requests in flight. */
export function uploadBytes(sftp: SFTPWrapper, data: Buffer, remotePath: string, onBytes: (bytes: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.open(remotePath, 'wx', { mode: 0o600 }, (openError, handle) => {
      if (openError)
        return reject(new OnggiError(ErrorCode.OperationFailed, 'upload_failed', `cannot create ${remotePath}: ${openError.message}`));
      let next = 0;
      let inFlight = 0;
      let failed = false;
      const finish = (error?: Error): void => {
        sftp.close(handle, (closeError) => {
          const problem = error ?? closeError;
          if (problem)
            reject(new OnggiError(ErrorCode.OperationFailed, 'upload_failed', `uploading ${remotePath} failed: ${problem.message}`));
          else resolve();
        });
      };
      const pump = (): void => {
        while (!failed && inFlight < UPLOAD_IN_FLIGHT && next < data.length) {
          const offset = next;
          const length = Math.min(UPLOAD_CHUNK, data.length - offset);
          next += length;
          inFlight += 1;
          sftp.write(handle, data, offset, length, offset, (error) => {
            inFlight -= 1;
            if (failed) return;
            if (error) {
              failed = true;
              finish(error);
              return;
            }
            onBytes(length);
            if (next >= data.length && inFlight === 0) finish();
            else pump();
          });
        }
      };
      if (data.length === 0) finish();
      else pump();
    });
  });
}
