// One SSH connection to a machine (through jump hosts when asked): host key checked against
// known_hosts before anything else, keys and ssh-agent offered, keepalive on, Nagle off (an SFTP
// write stream without TCP_NODELAY crawls at 1.8 MB/s). Channels for exec, shells, SFTP and
// port forwards are opened on it.
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type {
  AgentAuthMethod,
  Client,
  ClientChannel,
  ConnectConfig,
  ExecOptions,
  PseudoTtyOptions,
  PublicKeyAuthMethod,
  SFTPWrapper,
} from 'ssh2';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import type { HostKeyPrompt } from '../../../../shared/machines.js';
import { loadPrivateKey, type AskPassphrase, type LoadedKey, type PassphraseCache } from './keys.js';
import { KnownHosts, changedHostKeyError, fingerprint, keyTypeOf, revokedHostKeyError } from './known-hosts.js';
import { currentFacts, sshAgentHint, type PlatformFacts } from '../../platform/platform.js';
import { boundedAgent } from './bounded-agent.js';
import { coalesceWrites } from './coalesced-writes.js';
import { ssh2 } from './ssh2-runtime.js';

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  /** Key files to offer, in order. */
  identityFiles: string[];
  /** The user named these files: a missing one is an error (defaults are skipped when absent). */
  identityFilesRequired: boolean;
  /** ssh-agents to offer keys from, in order (socket, Windows pipe or `pageant`); one that is not running is skipped. */
  agents?: string[];
}

export type HostKeyPolicy = 'ask' | 'accept-new' | 'refuse-new';

export interface SshConnectOptions {
  target: SshEndpoint;
  /** Hops in order, the first reached directly (ProxyJump). */
  jumps?: SshEndpoint[];
  knownHosts: KnownHosts;
  hostKeyPolicy: HostKeyPolicy;
  /** Asked about an unknown host key when the policy is `ask`. */
  askHostKey: (prompt: Omit<HostKeyPrompt, 'requestId' | 'machine'>) => Promise<boolean>;
  /**
   * A key known_hosts does not list is trusted when this resolves, whatever the policy, and refused
   * with the error it throws (an EC2 instance: the fingerprints it printed on its console).
   */
  vouchHostKey?: (key: Buffer) => Promise<void>;
  askPassphrase: AskPassphrase;
  /** Passphrases the user gave, by key file (memory, or the OS keychain when the user opted in). */
  passphraseCache: PassphraseCache;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** The desktop's OS and home: `~` in key files, the advice in messages (default: this process's). */
  facts?: Pick<PlatformFacts, 'os' | 'homedir'>;
  /** TCP connect plus SSH handshake plus authentication, not counting time spent waiting for the user. */
  timeoutMs?: number;
  /** How long a spare connection (see MAX_SPARES) outlives its last session (default 10 s; tests). */
  spareIdleMs?: number;
}

export interface ExecResult {
  code: number | null;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;
type HostKeyAlgorithm = (typeof HOST_KEY_ALGORITHMS)[number];

/** Asks the server for a key type we already know for it first, as OpenSSH does, so a known host does not look changed. */
export function hostKeyAlgorithmsFor(knownTypes: readonly string[]): HostKeyAlgorithm[] {
  const wanted = (algorithm: HostKeyAlgorithm): boolean =>
    knownTypes.includes(algorithm) || (knownTypes.includes('ssh-rsa') && algorithm.startsWith('rsa-sha2-'));
  return [...HOST_KEY_ALGORITHMS.filter(wanted), ...HOST_KEY_ALGORITHMS.filter((algorithm) => !wanted(algorithm))];
}

export interface ChannelExit {
  /** The command's exit code; null when the channel closed without one (hung up, killed, lost). */
  code: number | null;
  /** The signal that ended it (`TERM`, `KILL`, …), when the server said so. */
  signal?: string;
}

const channelExits = new WeakMap<ClientChannel, Promise<ChannelExit>>();

/**
 * Watches a channel's end from the moment it opens. ssh2 processes a whole TCP read at once, so a
 * quick command's exit status and close can be emitted in the same tick the channel is handed
 * over, before any `await` resumes: listeners attached later would miss them.
 */
function watchExit(channel: ClientChannel): ClientChannel {
  channelExits.set(
    channel,
    new Promise<ChannelExit>((resolve) => {
      let exit: ChannelExit = { code: null };
      channel.on('exit', (code: number | null, signal?: string) => {
        exit = typeof code === 'number' ? { code } : { code: null, ...(signal ? { signal: signal.replace(/^SIG/, '') } : {}) };
      });
      channel.once('close', () => resolve(exit));
    }),
  );
  return channel;
}

/** Settles once the channel has closed, with the exit status the server sent (if any). */
export function channelExit(channel: ClientChannel): Promise<ChannelExit> {
  return channelExits.get(channel) ?? Promise.resolve({ code: null });
}

/**
 * A server allows so many session channels on one connection (OpenSSH's MaxSessions, 10 unless
 * its admin changed it): terminals, shared folders, the agent link and every command each hold
 * one, and past the limit OpenSSH refuses the channel ("open failed"). A session refused so is
 * opened on a spare connection to the same host, made as the first one was (the host key is known
 * by then, a key's passphrase cached), and closed when its last session ends. A few spares at most:
 * a server that refuses sessions for another reason gets the error, not a stream of connections.
 */
const MAX_SPARES = 4;
const SPARE_IDLE_MS = 10_000;

/** Something a session channel opened: it says when it is gone. */
interface SessionHandle {
  once(event: 'close', listener: () => void): unknown;
}

export class SshConnection {
  private readonly closeListeners = new Set<(error?: Error) => void>();
  private closedWith: Error | undefined;
  private isClosed = false;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  /** Connections to the same host for sessions past the server's limit (see MAX_SPARES). */
  private readonly spares = new Set<SshConnection>();
  private spareDial: Promise<SshConnection> | undefined;
  /** Sessions open on this connection while it is a spare: it closes SPARE_IDLE_MS after the last. */
  private sessionsHeld = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly client: Client,
    /** The local port of the TCP connection to the first hop (tests find the sshd child by it). */
    readonly localPort: number,
    readonly label: string,
    private readonly hops: Client[],
    /** Makes another connection like this one, for sessions past the server's limit. */
    private readonly dialSpare?: () => Promise<SshConnection>,
    private readonly spareIdleMs = SPARE_IDLE_MS,
  ) {
    const closed = (error?: Error): void => {
      if (this.isClosed) return;
      this.isClosed = true;
      this.closedWith = error;
      for (const hop of this.hops) hop.end();
      clearTimeout(this.idleTimer);
      for (const spare of this.spares) spare.close();
      for (const listener of this.closeListeners) listener(error);
    };
    client.on('error', (error: Error) => closed(error));
    client.on('close', () => closed(this.closedWith));
    for (const hop of hops) {
      hop.on('error', () => client.end());
      hop.on('close', () => client.end());
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  onClose(listener: (error?: Error) => void): () => void {
    if (this.isClosed) {
      queueMicrotask(() => listener(this.closedWith));
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** An exec channel for a command line (build it with shellCommand). */
  execChannel(command: string, options: ExecOptions = {}): Promise<ClientChannel> {
    return this.session((connection) => connection.openExec(command, options));
  }

  private openExec(command: string, options: ExecOptions): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) return reject(this.lostError());
      this.client.exec(command, options, (error, channel) => (error ? reject(this.channelError(error)) : resolve(watchExit(channel))));
    });
  }

  /** Runs a command line to completion, collecting its output. */
  async exec(command: string, options: { stdin?: string | Buffer; timeoutMs?: number } = {}): Promise<ExecResult> {
    const channel = await this.execChannel(command);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    channel.on('data', (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    if (options.stdin !== undefined) channel.end(options.stdin);
    else channel.end();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      if (options.timeoutMs === undefined) return;
      timer = setTimeout(() => {
        channel.close();
        reject(
          new OnggiError(
            ErrorCode.Unavailable,
            'ssh_timeout',
            `${this.label}: a remote command did not finish within ${options.timeoutMs} ms`,
          ),
        );
      }, options.timeoutMs);
    });
    try {
      const exit = await Promise.race([channelExit(channel), timeout]);
      return {
        code: exit.code,
        signal: exit.signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The login shell, with a PTY unless `false`. */
  shell(pty: PseudoTtyOptions | false, env?: Record<string, string>): Promise<ClientChannel> {
    return this.session((connection) => connection.openShell(pty, env));
  }

  private openShell(pty: PseudoTtyOptions | false, env: Record<string, string> | undefined): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) return reject(this.lostError());
      this.client.shell(pty, env ? { env } : {}, (error, channel) =>
        error ? reject(this.channelError(error)) : resolve(watchExit(channel)),
      );
    });
  }

  /** One SFTP session per connection, opened on first use. */
  sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= this.session((connection) => connection.openSftp()).then(
      (sftp) => {
        sftp.once('close', () => {
          this.sftpSession = undefined;
        });
        return sftp;
      },
      (error: unknown) => {
        this.sftpSession = undefined;
        throw error;
      },
    );
    return this.sftpSession;
  }

  private openSftp(): Promise<SFTPWrapper> {
    return new Promise<SFTPWrapper>((resolve, reject) => {
      if (this.isClosed) return reject(this.lostError());
      this.client.sftp((error, sftp) => (error ? reject(this.channelError(error)) : resolve(sftp)));
    });
  }

  /** Opens a session here, or on a spare connection when the server refuses one more here (see MAX_SPARES). */
  private async session<T extends SessionHandle>(open: (connection: SshConnection) => Promise<T>): Promise<T> {
    try {
      return await open(this);
    } catch (error) {
      if (!refusedChannel(error) || !this.dialSpare || this.isClosed) throw error;
      for (const spare of this.spares) {
        // Full too, or closing as its last session ended: the next one, or a new one, will do.
        const opened = await open(spare).catch(() => undefined);
        if (opened) return spare.hold(opened);
      }
      if (this.spares.size >= MAX_SPARES) throw error;
      const spare = await this.newSpare();
      try {
        return spare.hold(await open(spare));
      } catch (failure) {
        // A fresh connection refusing its first session: the server refuses them for another reason.
        if (spare.sessionsHeld === 0) spare.close();
        throw refusedChannel(failure) ? error : failure;
      }
    }
  }

  private newSpare(): Promise<SshConnection> {
    this.spareDial ??= (async () => {
      try {
        const spare = await (this.dialSpare as () => Promise<SshConnection>)();
        if (this.isClosed) {
          spare.close();
          throw this.lostError();
        }
        this.spares.add(spare);
        spare.onClose(() => this.spares.delete(spare));
        return spare;
      } finally {
        this.spareDial = undefined;
      }
    })();
    return this.spareDial;
  }

  /**
   * Counts a session opened on this spare; the spare closes a while after its last session has
   * (quick commands past the limit, one after another, reuse it instead of each dialling anew).
   */
  private hold<T extends SessionHandle>(session: T): T {
    this.sessionsHeld++;
    clearTimeout(this.idleTimer);
    session.once('close', () => {
      if (--this.sessionsHeld > 0) return;
      this.idleTimer = setTimeout(() => this.close(), this.spareIdleMs);
      this.idleTimer.unref();
    });
    return session;
  }

  /** A TCP connection from the remote machine to host:port (ssh -L, ProxyJump). */
  forwardOut(host: string, port: number, source = { host: '127.0.0.1', port: 0 }): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) return reject(this.lostError());
      this.client.forwardOut(source.host, source.port, host, port, (error, channel) =>
        error
          ? reject(new OnggiError(ErrorCode.Unavailable, 'forward_failed', `${this.label} cannot open ${host}:${port}: ${error.message}`))
          : resolve(channel),
      );
    });
  }

  close(): void {
    this.client.end();
  }

  /** Drops a connection that stopped answering, without the goodbye a silent peer would never acknowledge. */
  abandon(reason: Error): void {
    this.closedWith ??= reason;
    this.client.destroy();
  }

  private lostError(): OnggiError {
    return new OnggiError(ErrorCode.Unavailable, 'ssh_closed', `the SSH connection to ${this.label} is closed`);
  }

  private channelError(error: Error): OnggiError {
    return new OnggiError(ErrorCode.Unavailable, 'ssh_channel', `${this.label}: ${error.message}`);
  }
}

/** The server refused to open a channel (the connection itself is fine). */
function refusedChannel(error: unknown): boolean {
  return error instanceof OnggiError && error.kind === 'ssh_channel';
}

/** Connects to the target (through its jump hosts), checking host keys and authenticating. */
export async function connectSsh(options: SshConnectOptions): Promise<SshConnection> {
  const hops: Client[] = [];
  const path = [...(options.jumps ?? []), options.target];
  let stream: Duplex | undefined;
  let firstLocalPort = 0;
  try {
    for (const [index, endpoint] of path.entries()) {
      let socket: Duplex;
      if (stream === undefined) {
        const tcp = await openTcp(endpoint.host, endpoint.port, options.timeoutMs ?? 20_000);
        firstLocalPort = tcp.localPort ?? 0;
        socket = tcp;
      } else socket = stream;
      const client = await handshake(endpoint, socket, options);
      if (index === path.length - 1) {
        return new SshConnection(
          client,
          firstLocalPort,
          endpointLabel(options.target),
          hops,
          () => connectSsh(options),
          options.spareIdleMs,
        );
      }
      hops.push(client);
      const next = path[index + 1];
      if (!next) break;
      stream = await new Promise<ClientChannel>((resolve, reject) =>
        client.forwardOut('127.0.0.1', 0, next.host, next.port, (error, channel) =>
          error
            ? reject(
                new OnggiError(
                  ErrorCode.Unavailable,
                  'ssh_jump_failed',
                  `the jump host ${endpointLabel(endpoint)} could not reach ${endpointLabel(next)}: ${error.message}`,
                ),
              )
            : resolve(channel),
        ),
      );
    }
  } catch (error) {
    for (const hop of hops) hop.end();
    throw error;
  }
  throw new Error('unreachable');
}

export function endpointLabel(endpoint: { host: string; port: number; user?: string }): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.user ? `${endpoint.user}@` : ''}${host}${endpoint.port === 22 ? '' : `:${endpoint.port}`}`;
}

function openTcp(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new OnggiError(ErrorCode.Unavailable, 'ssh_unreachable', `cannot reach ${host}:${port}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      coalesceWrites(socket);
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new OnggiError(ErrorCode.Unavailable, 'ssh_unreachable', `cannot reach ${host}:${port}: ${error.code ?? error.message}`));
    });
  });
}

async function handshake(endpoint: SshEndpoint, sock: Duplex, options: SshConnectOptions): Promise<Client> {
  const { Client: SshClient } = ssh2();
  const keys: LoadedKey[] = [];
  for (const file of endpoint.identityFiles) {
    const key = await loadPrivateKey(file, {
      required: endpoint.identityFilesRequired,
      ask: options.askPassphrase,
      cache: options.passphraseCache,
      ...(options.facts ? { facts: options.facts } : {}),
    });
    if (key) keys.push(key);
  }
  const label = endpointLabel(endpoint);
  const auth: Array<PublicKeyAuthMethod | AgentAuthMethod> = [
    ...keys.map((loaded) => ({ type: 'publickey' as const, username: endpoint.user, key: loaded.key })),
    ...(endpoint.agents ?? []).map((agent) => ({ type: 'agent' as const, username: endpoint.user, agent: boundedAgent(agent) })),
  ];
  const agentHint = sshAgentHint(options.facts ?? currentFacts());
  if (auth.length === 0) {
    throw new OnggiError(
      ErrorCode.InvalidParams,
      'ssh_no_credentials',
      `no key to offer ${label}: give a key file (--key), or ${agentHint}`,
      'identityFile',
    );
  }
  /** Agents that could not be reached (not running): skipped by ssh2, named if nothing else works. */
  const unreachableAgents: string[] = [];
  const knownTypes = await options.knownHosts.knownTypes(endpoint.host, endpoint.port);
  const client = new SshClient();
  // Our own deadline for connect + handshake + auth, paused while the user is being asked.
  const budget = options.timeoutMs ?? 20_000;
  let refusal: Error | undefined;

  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        client.end();
        sock.destroy();
        reject(error);
      } else resolve(client);
    };
    const arm = (): void => {
      timer = setTimeout(
        () =>
          finish(new OnggiError(ErrorCode.Unavailable, 'ssh_timeout', `${label} did not complete the SSH handshake within ${budget} ms`)),
        budget,
      );
    };
    arm();
    const hostVerifier = (key: Buffer, verify: (valid: boolean) => void): void => {
      void (async () => {
        const check = await options.knownHosts.check(endpoint.host, endpoint.port, key);
        if (check.status === 'known') return true;
        if (check.status === 'changed') throw changedHostKeyError(endpoint.host, endpoint.port, key, check.entries);
        if (check.status === 'revoked') throw revokedHostKeyError(endpoint.host, endpoint.port, check.entry);
        const prompt = {
          host: endpoint.host,
          port: endpoint.port,
          keyType: keyTypeOf(key),
          fingerprint: fingerprint(key),
          otherKnownTypes: check.otherTypes,
        };
        let accepted: boolean;
        if (options.vouchHostKey) {
          clearTimeout(timer);
          try {
            await options.vouchHostKey(key);
          } finally {
            if (!settled) arm();
          }
          accepted = true;
        } else if (options.hostKeyPolicy === 'accept-new') accepted = true;
        else if (options.hostKeyPolicy === 'refuse-new') accepted = false;
        else {
          clearTimeout(timer);
          try {
            accepted = await options.askHostKey(prompt);
          } finally {
            if (!settled) arm();
          }
        }
        if (!accepted) {
          throw new OnggiError(
            ErrorCode.Forbidden,
            'host_key_unknown',
            `the host key of ${endpointLabel({ host: endpoint.host, port: endpoint.port })} is not known and was not accepted (${keyTypeOf(key)} ${fingerprint(key)})`,
          );
        }
        await options.knownHosts.add(endpoint.host, endpoint.port, key);
        return true;
      })().then(
        (ok) => verify(ok),
        (error: unknown) => {
          refusal = error instanceof Error ? error : new Error(String(error));
          verify(false);
        },
      );
    };
    client.once('ready', () => {
      client.removeAllListeners('error');
      finish();
    });
    client.on('error', (error: Error & { level?: string }) => {
      // An agent that is not there (no pipe, Pageant not running): ssh2 goes on to the next method.
      if (error.level === 'agent') {
        unreachableAgents.push(errorMessage(error));
        return;
      }
      if (refusal) return finish(refusal);
      if (error.level === 'client-authentication') {
        const agents = endpoint.agents ?? [];
        const reached = agents.length - unreachableAgents.length;
        const offered = [...keys.map((key) => key.file), ...(reached > 0 ? ['the ssh-agent'] : [])];
        const advice = reached > 0 ? '' : `; ${agentHint}`;
        return finish(
          new OnggiError(
            ErrorCode.Forbidden,
            'ssh_auth_failed',
            offered.length > 0
              ? `${label} refused every key offered (${offered.join(', ')})${advice}`
              : `no key to offer ${label}: no ssh-agent answered (${agents.join(', ')}); give a key file (--key), or ${agentHint}`,
          ),
        );
      }
      finish(new OnggiError(ErrorCode.Unavailable, 'ssh_failed', `SSH to ${label} failed: ${errorMessage(error)}`));
    });
    client.once('close', () =>
      finish(refusal ?? new OnggiError(ErrorCode.Unavailable, 'ssh_failed', `${label} closed the connection during the SSH handshake`)),
    );
    const config: ConnectConfig = {
      sock: sock as ConnectConfig['sock'],
      username: endpoint.user,
      hostVerifier,
      authHandler: auth,
      keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: options.keepaliveCountMax ?? 3,
      // The deadline above is ours (it pauses for the user); ssh2's own is only a backstop.
      readyTimeout: 30 * 60_000,
      algorithms: { serverHostKey: hostKeyAlgorithmsFor(knownTypes) },
    };
    try {
      client.connect(config);
    } catch (error) {
      finish(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
