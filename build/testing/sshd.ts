// A real OpenSSH server on 127.0.0.1 for tests: Debian's /usr/sbin/sshd with a config, host key,
// user key and authorized_keys of the test's own, in a fresh temp dir. stop() ends only the sshd
// this fixture started (by pid) and removes the dir, even when the test failed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SSHD = '/usr/sbin/sshd';

export interface SshdOptions {
  /** Extra public key lines for authorized_keys (the fixture's own user key is always there). */
  authorizedKeys?: string[];
  /** Extra sshd_config lines. */
  config?: string[];
  /** Session channels per connection (OpenSSH's default is 10; 64 unless a test asks for a real host's limit). */
  maxSessions?: number;
  /** false: let bash source the login user's ~/.bashrc for every command, as sshd normally does. */
  cleanShell?: boolean;
  /**
   * Environment every session gets (sshd's SetEnv), e.g. the cgroup parent of the agents a test
   * deploys. Values are the test's own tokens: no spaces or quotes.
   */
  env?: Record<string, string>;
  /**
   * Run sshd inside this network namespace (made by the test), listening on `address` there
   * instead of 127.0.0.1: the machine is then a netns of the test's own, where its agent may make
   * bridges and packet filter rules.
   */
  netns?: { name: string; address: string };
  /**
   * A folder of the test's own that the machine must not see: sshd (and all it starts: the agent,
   * sharefs) runs in a mount namespace of its own where an empty tmpfs covers it. The namespace goes
   * when its last process does. With `netns` too: sshd then enters the netns first.
   */
  hide?: string;
}

export interface Sshd {
  readonly host: string;
  readonly port: number;
  /** The fixture's temp dir (keys, config, log); removed by stop(). */
  readonly dir: string;
  readonly hostKeyPath: string;
  /** A key with no passphrase that authorized_keys accepts (root login). */
  readonly userKeyPath: string;
  /** The listening sshd's pid. */
  readonly pid: number;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:...`). */
  hostKeyFingerprint(): string;
  /** The host public key line (`ssh-ed25519 AAAA...`). */
  hostPublicKey(): Promise<string>;
  /** Makes a new key pair in the fixture dir (optionally passphrase-protected) and authorizes it. */
  makeUserKey(name: string, passphrase?: string): Promise<string>;
  /**
   * The sshd processes serving one connection (the per-connection monitor and its sshd
   * children), found by the client's local port; all connections when no port is given.
   */
  connectionPids(clientPort?: number): Promise<number[]>;
  /** Kills (SIGKILL) the sshd processes serving a connection: the link drops mid-stream. */
  killConnection(clientPort?: number): Promise<number[]>;
  /** Restarts on the same port, with a freshly generated host key when asked (a "changed" host). */
  restart(options?: { newHostKey?: boolean }): Promise<void>;
  log(): Promise<string>;
  stop(): Promise<void>;
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'onggi-sshd-'));
  try {
    // sshd's privilege-separation dir; harmless when it exists.
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
    const userKeyPath = join(dir, 'user_ed25519');
    keygen(hostKeyPath, '');
    keygen(userKeyPath, '');
    const authorized = join(dir, 'authorized_keys');
    const lines = [(await readFile(`${userKeyPath}.pub`, 'utf8')).trim(), ...(options.authorizedKeys ?? [])];
    await writeFile(authorized, `${lines.join('\n')}\n`, { mode: 0o600 });
    const port = await freePort();
    const configPath = join(dir, 'sshd_config');
    await writeFile(
      configPath,
      [
        `Port ${port}`,
        `ListenAddress ${options.netns?.address ?? '127.0.0.1'}`,
        `HostKey ${hostKeyPath}`,
        `AuthorizedKeysFile ${authorized}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        `PidFile ${join(dir, 'sshd.pid')}`,
        'Subsystem sftp internal-sftp',
        'AllowTcpForwarding yes',
        `MaxSessions ${options.maxSessions ?? 64}`,
        'MaxStartups 64',
        'PrintMotd no',
        'LogLevel VERBOSE',
        // Debian's bash sources ~/.bashrc for every command sshd runs (SSH_SOURCE_BASHRC) unless
        // SHLVL says it is nested; root's .bashrc on the test machines runs `pyenv init`, which
        // adds ~100 ms to every exec. Timings measured here should be Onggi's, not that.
        ...setEnvLine(options),
        ...(options.config ?? []),
        '',
      ].join('\n'),
    );
    const logPath = join(dir, 'sshd.log');
    let child = await launch(configPath, logPath, port, options.netns, options.hide);

    const sshd: Sshd = {
      host: options.netns?.address ?? '127.0.0.1',
      port,
      dir,
      hostKeyPath,
      userKeyPath,
      get pid() {
        return child.pid ?? 0;
      },
      hostKeyFingerprint() {
        const out = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKeyPath}.pub`], { encoding: 'utf8' });
        const match = /(SHA256:[A-Za-z0-9+/]+)/.exec(out.stdout);
        if (!match?.[1]) throw new Error(`ssh-keygen -lf printed no fingerprint: ${out.stdout}${out.stderr}`);
        return match[1];
      },
      async hostPublicKey() {
        return (await readFile(`${hostKeyPath}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
      },
      async makeUserKey(name, passphrase = '') {
        const path = join(dir, name);
        keygen(path, passphrase);
        const existing = await readFile(authorized, 'utf8');
        await writeFile(authorized, `${existing}${(await readFile(`${path}.pub`, 'utf8')).trim()}\n`);
        return path;
      },
      connectionPids: (clientPort) => connectionPids(child.pid ?? 0, clientPort),
      async killConnection(clientPort) {
        const pids = await connectionPids(child.pid ?? 0, clientPort);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        return pids;
      },
      async restart(restartOptions = {}) {
        await stopChild(child);
        if (restartOptions.newHostKey) {
          await rm(hostKeyPath, { force: true });
          await rm(`${hostKeyPath}.pub`, { force: true });
          keygen(hostKeyPath, '');
        }
        child = await launch(configPath, logPath, port, options.netns, options.hide);
      },
      log: () => readFile(logPath, 'utf8').catch(() => ''),
      async stop() {
        // A connection's sshd processes outlive the listener and may still append to its log in
        // this dir (seen as ENOTEMPTY on the removal in a fresh-clone run): they end first.
        const connections = await connectionPids(child.pid ?? 0);
        await stopChild(child);
        for (const pid of connections) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        for (let i = 0; i < 200 && (await processes()).some((proc) => connections.includes(proc.pid)); i += 1)
          await new Promise((resolve) => setTimeout(resolve, 10));
        await rm(dir, { recursive: true, force: true, maxRetries: 5 });
      },
    };
    return sshd;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** sshd honours only its first SetEnv line: every variable goes on one. */
function setEnvLine(options: SshdOptions): string[] {
  const vars = { ...(options.cleanShell === false ? {} : { SHLVL: '1' }), ...options.env };
  for (const [name, value] of Object.entries(vars)) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name) || !/^[\w./:-]*$/.test(value)) throw new Error(`SetEnv ${name}=${value}: not a plain token`);
  }
  const pairs = Object.entries(vars).map(([name, value]) => `${name}=${value}`);
  return pairs.length > 0 ? [`SetEnv ${pairs.join(' ')}`] : [];
}

function keygen(path: string, passphrase: string): void {
  const run = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'onggi-test', '-f', path], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ssh-keygen failed: ${run.stderr}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts sshd in the foreground (-D) so the spawned pid is the listener (nsenter execs it; only the
 * network namespace changes: `ip netns exec` would also give it a /sys without the cgroup mounts),
 * and waits for its banner; in a netns, which this process cannot connect into, for the line sshd
 * logs once it listens.
 */
async function launch(
  configPath: string,
  logPath: string,
  port: number,
  netns?: SshdOptions['netns'],
  hide?: string,
): Promise<ChildProcess> {
  const argv = [SSHD, '-D', '-f', configPath, '-E', logPath];
  // nsenter, unshare and sh exec: the spawned pid is still sshd's.
  const inMountNs = hide
    ? ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs onggi-hidden "$1" && shift && exec "$@"', 'sh', hide, ...argv] // prettier-ignore
    : argv;
  const [command = SSHD, ...args] = netns ? ['nsenter', `--net=/run/netns/${netns.name}`, ...inMountNs] : inMountNs;
  const child = spawn(command, args, { stdio: 'ignore' });
  const ready = netns
    ? async () =>
        (await readFile(logPath, 'utf8').catch(() => '')).includes(`Server listening on ${netns.address} port ${port}.`) ? 'SSH-2.0' : ''
    : () => readBanner(port);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(`sshd exited (${signal ?? `code ${code}`})`));
    child.once('error', (error) => resolve(`sshd could not start: ${error.message}`));
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const banner = await Promise.race([ready(), exited]);
    if (banner.startsWith('SSH-2.0')) return child;
    if (banner.startsWith('sshd ')) throw new Error(`${banner}: ${await readFile(logPath, 'utf8').catch(() => '')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sshd on 127.0.0.1:${port} sent no SSH-2.0 banner within 10 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The first line the server sends, or '' when it does not accept or say anything within `timeoutMs`. */
export function readBanner(port: number, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let text = '';
    const done = (value: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(''), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) done(text.split('\n')[0] ?? '');
    });
    socket.once('error', () => done(''));
    socket.once('close', () => done(text));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
}

async function processes(): Promise<ProcInfo[]> {
  const out: ProcInfo[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...; comm may hold spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    out.push({ pid: Number(entry), ppid, comm });
  }
  return out;
}

/** The socket inodes of TCP connections whose peer (the client) uses this local port. */
async function inodesForClientPort(clientPort: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const remote = fields[2];
      const inode = fields[9];
      if (!remote || !inode) continue;
      const port = parseInt(remote.split(':')[1] ?? '', 16);
      if (port === clientPort) inodes.add(inode);
    }
  }
  return inodes;
}

async function holdsSocket(pid: number, inodes: Set<string>): Promise<boolean> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1] && inodes.has(match[1])) return true;
  }
  return false;
}

async function connectionPids(listenerPid: number, clientPort?: number): Promise<number[]> {
  const all = await processes();
  const monitors = all.filter((proc) => proc.ppid === listenerPid && proc.comm === 'sshd');
  const inodes = clientPort === undefined ? undefined : await inodesForClientPort(clientPort);
  const pids: number[] = [];
  for (const monitor of monitors) {
    if (inodes && !(await holdsSocket(monitor.pid, inodes))) continue;
    // The monitor and the sshd processes under it (the unprivileged child); not the user's commands.
    const queue = [monitor.pid];
    while (queue.length > 0) {
      const pid = queue.shift() ?? 0;
      pids.push(pid);
      for (const proc of all) if (proc.ppid === pid && proc.comm === 'sshd') queue.push(proc.pid);
    }
  }
  return pids;
}
