// The SSH layer against a real OpenSSH server on 127.0.0.1: host keys (new, known, hashed,
// changed), keys with passphrases, ssh-agent, ProxyJump, exec quoting, PTYs, port forwards.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createConnection, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, type Sshd } from '../../../../build/testing/sshd.js';
import { OnggiError } from '../../../../shared/errors.js';
import { factsFor } from '../../platform/test-facts.js';
import { AGENT_ANSWER_MS } from './bounded-agent.js';
import { KnownHosts, fingerprint } from './known-hosts.js';
import { forwardPort } from './port-forward.js';
import { shellCommand } from './quote.js';
import { connectSsh, type HostKeyPolicy, type SshConnection, type SshConnectOptions, type SshEndpoint } from './ssh-connection.js';
import { channelTerminal, ptyOptions } from './ssh-terminal.js';

let sshd: Sshd;
let dir: string;
const open: SshConnection[] = [];

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});
afterEach(async () => {
  for (const connection of open.splice(0)) connection.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'onggi-ssh-test-'));
  return dir;
}

function endpoint(overrides: Partial<SshEndpoint> = {}): SshEndpoint {
  return { host: '127.0.0.1', port: sshd.port, user: 'root', identityFiles: [sshd.userKeyPath], identityFilesRequired: true, ...overrides };
}

async function connect(options: Partial<SshConnectOptions> & { policy?: HostKeyPolicy; known?: KnownHosts } = {}): Promise<SshConnection> {
  const known = options.known ?? new KnownHosts({ own: join(dir ?? (await freshDir()), 'known_hosts'), readOnly: [] });
  const connection = await connectSsh({
    target: endpoint(),
    knownHosts: known,
    hostKeyPolicy: options.policy ?? 'accept-new',
    askHostKey: () => Promise.resolve(false),
    askPassphrase: () => Promise.resolve(undefined),
    passphraseCache: new Map(),
    ...options,
  });
  open.push(connection);
  return connection;
}

/** A real ssh-agent on a socket in `home`, holding the sshd's user key. */
async function agentHoldingUserKey(home: string): Promise<{ socket: string; agent: ChildProcess }> {
  const socket = join(home, 'agent.sock');
  const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  for (let i = 0; i < 100 && spawnSync('test', ['-S', socket]).status !== 0; i++) await new Promise((r) => setTimeout(r, 20));
  const added = spawnSync('ssh-add', [sshd.userKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: 'utf8' });
  expect(added.status).toBe(0);
  return { socket, agent };
}

async function failure(promise: Promise<unknown>): Promise<OnggiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OnggiError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('host keys', () => {
  it('asks about an unknown host with the fingerprint ssh-keygen -lf prints, and remembers an accepted key', async () => {
    const home = await freshDir();
    const known = new KnownHosts({ own: join(home, 'known_hosts'), readOnly: [] });
    const asked: Array<{ fingerprint: string; keyType: string; host: string; port: number }> = [];
    const connection = await connect({
      known,
      policy: 'ask',
      askHostKey: (question) => {
        asked.push(question);
        return Promise.resolve(true);
      },
    });
    expect(asked).toEqual([
      { host: '127.0.0.1', port: sshd.port, keyType: 'ssh-ed25519', fingerprint: sshd.hostKeyFingerprint(), otherKnownTypes: [] },
    ]);
    connection.close();
    const line = (await readFile(join(home, 'known_hosts'), 'utf8')).trim();
    expect(line).toBe(`[127.0.0.1]:${sshd.port} ${await sshd.hostPublicKey()}`);
    // Known now: not asked again.
    await connect({ known, policy: 'ask', askHostKey: () => Promise.reject(new Error('asked again')) });
  });

  it('refuses an unknown host the user declines, and one nobody can be asked about', async () => {
    await freshDir();
    const declined = await failure(connect({ policy: 'ask', askHostKey: () => Promise.resolve(false) }));
    expect(declined.kind).toBe('host_key_unknown');
    expect(declined.message).toContain(sshd.hostKeyFingerprint());
    const strict = await failure(connect({ policy: 'refuse-new' }));
    expect(strict.kind).toBe('host_key_unknown');
  });

  it("trusts the user's hashed known_hosts entries (ssh-keygen -H) without writing to that file", async () => {
    const home = await freshDir();
    const userFile = join(home, 'user_known_hosts');
    await writeFile(userFile, `# the user's\n[127.0.0.1]:${sshd.port} ${await sshd.hostPublicKey()}\n`);
    const hashed = spawnSync('ssh-keygen', ['-H', '-f', userFile], { encoding: 'utf8' });
    expect(hashed.status).toBe(0);
    const text = await readFile(userFile, 'utf8');
    expect(text).toMatch(/^\|1\|/m);
    const known = new KnownHosts({ own: join(home, 'own_known_hosts'), readOnly: [userFile] });
    await connect({ known, policy: 'refuse-new' });
    expect(await readFile(userFile, 'utf8')).toBe(text);
  });

  it('refuses a changed host key loudly: host, old and new fingerprints, the known_hosts line', async () => {
    const home = await freshDir();
    const known = new KnownHosts({ own: join(home, 'known_hosts'), readOnly: [] });
    (await connect({ known })).close();
    const oldFingerprint = sshd.hostKeyFingerprint();
    await sshd.restart({ newHostKey: true });
    const newFingerprint = sshd.hostKeyFingerprint();
    expect(newFingerprint).not.toBe(oldFingerprint);
    // Even with accept-new: a changed key is never accepted.
    const error = await failure(connect({ known, policy: 'accept-new' }));
    expect(error.kind).toBe('host_key_changed');
    expect(error.message).toContain(`THE HOST KEY OF 127.0.0.1:${sshd.port} HAS CHANGED`);
    expect(error.message).toContain(oldFingerprint);
    expect(error.message).toContain(newFingerprint);
    expect(error.message).toContain(`${join(home, 'known_hosts')} line 1: [127.0.0.1]:${sshd.port} ssh-ed25519 `);
  });
});

describe('user keys', () => {
  it('decrypts a passphrase-protected key with the passphrase asked for, and keeps it in memory only', async () => {
    const home = await freshDir();
    const key = await sshd.makeUserKey('locked_key', 'correct horse');
    const cache = new Map<string, string>();
    const asked: number[] = [];
    await connect({
      target: endpoint({ identityFiles: [key] }),
      passphraseCache: cache,
      askPassphrase: (_file, attempt) => {
        asked.push(attempt);
        return Promise.resolve(attempt === 1 ? 'wrong' : 'correct horse');
      },
    });
    expect(asked).toEqual([1, 2]);
    expect(cache.get(key)).toBe('correct horse');
    // A reconnect uses the remembered passphrase without asking.
    await connect({
      target: endpoint({ identityFiles: [key] }),
      passphraseCache: cache,
      askPassphrase: () => Promise.reject(new Error('asked')),
    });
    expect(await readFile(join(home, 'known_hosts'), 'utf8')).not.toContain('correct horse');
  });

  it('says clearly when the passphrase is wrong, when none is given, and when the server refuses the key', async () => {
    await freshDir();
    const key = await sshd.makeUserKey('locked_key2', 'sesame');
    const wrong = await failure(connect({ target: endpoint({ identityFiles: [key] }), askPassphrase: () => Promise.resolve('not it') }));
    expect(wrong.kind).toBe('wrong_passphrase');
    expect(wrong.message).toBe(`wrong passphrase for the key ${key} (3 attempts)`);
    const none = await failure(connect({ target: endpoint({ identityFiles: [key] }) }));
    expect(none.kind).toBe('passphrase_cancelled');
    const stranger = join(dir, 'stranger');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const refused = await failure(connect({ target: endpoint({ identityFiles: [stranger] }) }));
    expect(refused.kind).toBe('ssh_auth_failed');
    expect(refused.message).toContain(stranger);
    const missing = await failure(connect({ target: endpoint({ identityFiles: [join(dir, 'nope')] }) }));
    expect(missing.kind).toBe('key_unreadable');
  });

  it("authenticates with an ssh-agent's key", async () => {
    const { socket, agent } = await agentHoldingUserKey(await freshDir());
    try {
      const connection = await connect({ target: endpoint({ identityFiles: [], identityFilesRequired: false, agents: [socket] }) });
      expect((await connection.exec('echo via-agent')).stdout).toBe('via-agent\n');
    } finally {
      agent.kill('SIGTERM');
    }
  });
});

describe('several ssh-agents (SSH_AUTH_SOCK, then on Windows the OpenSSH pipe and Pageant)', () => {
  it('one that is not running is skipped and the next one is used', async () => {
    const home = await freshDir();
    const { socket, agent } = await agentHoldingUserKey(home);
    try {
      const connection = await connect({
        target: endpoint({ identityFiles: [], identityFilesRequired: false, agents: [join(home, 'no-agent.sock'), socket] }),
      });
      expect((await connection.exec('echo second-agent')).stdout).toBe('second-agent\n');
    } finally {
      agent.kill('SIGTERM');
    }
  });

  it('one that accepts but never answers (as Pageant’s helper under Wine) is given up after a deadline, and the next one is used', async () => {
    const home = await freshDir();
    const hung = join(home, 'hung.sock');
    const silent = createNetServer(() => undefined); // accepts, reads, never replies
    await new Promise<void>((resolve) => silent.listen(hung, resolve));
    const { socket, agent } = await agentHoldingUserKey(home);
    try {
      const started = Date.now();
      const connection = await connect({ target: endpoint({ identityFiles: [], identityFilesRequired: false, agents: [hung, socket] }) });
      expect((await connection.exec('echo after-the-silent-one')).stdout).toBe('after-the-silent-one\n');
      expect(Date.now() - started).toBeGreaterThanOrEqual(AGENT_ANSWER_MS);
    } finally {
      agent.kill('SIGTERM');
      silent.close();
    }
  });

  it('none answers and there is no key: the advice is the desktop’s (Windows: its OpenSSH agent service or Pageant, not SSH_AUTH_SOCK)', async () => {
    const home = await freshDir();
    const agents = [join(home, 'pipe-stand-in'), join(home, 'pageant-stand-in')];
    const windows = await failure(
      connect({ target: endpoint({ identityFiles: [], identityFilesRequired: false, agents }), facts: factsFor('win32') }),
    );
    expect(windows.kind).toBe('ssh_auth_failed');
    expect(windows.message).toContain(`no ssh-agent answered (${agents.join(', ')})`);
    expect(windows.message).toMatch(/Start-Service ssh-agent.*Pageant/);
    expect(windows.message).not.toContain('SSH_AUTH_SOCK');
    const mac = await failure(
      connect({ target: endpoint({ identityFiles: [], identityFilesRequired: false }), facts: factsFor('darwin', 'arm64') }),
    );
    expect(mac.kind).toBe('ssh_no_credentials');
    expect(mac.message).toContain('ssh-add --apple-use-keychain');
  });
});

describe('channels', () => {
  it('passes any word to the remote shell as exactly one word (quoting, property-tested over real sshd)', async () => {
    const connection = await connect();
    // Each run sends several arbitrary words through the remote login shell in one exec and gets
    // them back NUL-separated: every word arrives whole, unchanged, in its place.
    const word = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0') && !/\p{Cs}/u.test(s));
    await fc.assert(
      fc.asyncProperty(fc.array(word, { minLength: 1, maxLength: 8 }), async (words) => {
        const result = await connection.exec(shellCommand(['printf', '%s\\0', ...words]));
        expect(result.code).toBe(0);
        expect(result.stdout.split('\0').slice(0, -1)).toEqual(words);
      }),
      { numRuns: 200 },
    );
    const hostile = [
      "'",
      "a'b",
      '$(touch /tmp/onggi-pwned)',
      '`id`',
      '"; rm -rf /; "',
      '\\',
      '\n',
      '-n',
      '*',
      '~',
      '$HOME',
      "''",
      '!!',
      "\\'",
      '%s',
    ];
    const echoed = await connection.exec(shellCommand(['printf', '%s\\0', ...hostile]));
    expect(echoed.stdout.split('\0').slice(0, -1)).toEqual(hostile);
    expect(() => shellCommand(['a\0b'])).toThrow(/NUL/);
    // Several words stay several words, in order.
    const many = await connection.exec(shellCommand(['printf', '[%s]', 'a b', '', "c'd", '$x']));
    expect(many.stdout).toBe("[a b][][c'd][$x]");
    expect(spawnSync('test', ['-e', '/tmp/onggi-pwned']).status).not.toBe(0);
  });

  it('opens a shell with a PTY, resizes it, and stty sees the new size; measures keystroke echo', async () => {
    const connection = await connect();
    const channel = await connection.shell(ptyOptions({ cols: 80, rows: 24, term: 'xterm' }));
    const terminal = channelTerminal(channel, true);
    let output = '';
    terminal.stream.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const waitFor = async (pattern: RegExp): Promise<RegExpExecArray> => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const match = pattern.exec(output);
        if (match) return match;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; got ${JSON.stringify(output.slice(-300))}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    terminal.stream.write('stty size; echo SIZE-DONE\n');
    await waitFor(/24 80\r?\n[^]*SIZE-DONE/);
    terminal.resize(132, 43);
    terminal.stream.write('stty size; echo RESIZED\n');
    await waitFor(/43 132\r?\n[^]*RESIZED/);
    // Keystroke echo round trip: one character typed, seen echoed by the remote tty.
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) {
      const marker = String.fromCharCode(97 + (i % 26));
      const before = output.length;
      const started = performance.now();
      terminal.stream.write(marker);
      while (!output.slice(before).includes(marker)) await new Promise((resolve) => setImmediate(resolve));
      samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    console.log(`SSH PTY keystroke echo: median ${samples[10]?.toFixed(2)} ms, max ${samples.at(-1)?.toFixed(2)} ms (loopback)`);
    terminal.stream.write('\u0015exit 7\n');
    expect(await terminal.exit).toEqual({ code: 7 });
  });

  it('forwards a local port to a port on the machine; a taken local port is reported', async () => {
    const connection = await connect();
    const server: Server = createServer((request, response) => response.end(`hello from ${request.url}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const remotePort = (server.address() as { port: number }).port;
    const forward = await forwardPort(() => Promise.resolve(connection), { localPort: 0, remotePort });
    try {
      expect(forward.localPort).not.toBe(remotePort);
      const response = await fetch(`http://127.0.0.1:${forward.localPort}/through-ssh`);
      expect(await response.text()).toBe('hello from /through-ssh');
      const conflict = await failure(forwardPort(() => Promise.resolve(connection), { localPort: forward.localPort, remotePort }));
      expect(conflict.kind).toBe('port_in_use');
      expect(conflict.message).toContain(`127.0.0.1:${forward.localPort} is already in use on this computer`);
    } finally {
      await forward.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a forwarded connection whose client closes its write side after the request still gets the whole answer', async () => {
    // As testcontainers' port probe and HTTP/1.0 clients do (`socket.end(request)`): the server
    // answers only once it has read the end of the request, so a forward that took the client's
    // end for a close lost every answer (issue 18: testcontainers over an SSH machine).
    const connection = await connect();
    const answer = Buffer.alloc(4 * 1024 * 1024, 'onggi ');
    const server = createNetServer({ allowHalfOpen: true }, (socket) => {
      const request: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => request.push(chunk));
      socket.once('end', () => socket.end(Buffer.concat([Buffer.from(`${Buffer.concat(request).toString()}|`), answer])));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const remotePort = (server.address() as { port: number }).port;
    const forward = await forwardPort(() => Promise.resolve(connection), { localPort: 0, remotePort });
    try {
      const received = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const client = createConnection({ host: '127.0.0.1', port: forward.localPort }, () => client.end('GET / HTTP/1.0\r\n\r\n'));
        client.on('data', (chunk: Buffer) => chunks.push(chunk));
        client.once('error', reject);
        client.once('close', () => resolve(Buffer.concat(chunks)));
      });
      expect(received.subarray(0, 19).toString()).toBe('GET / HTTP/1.0\r\n\r\n|');
      expect(received.length).toBe(19 + answer.length);
      expect(received.subarray(19).equals(answer)).toBe(true);
    } finally {
      await forward.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reaches the machine through a jump host (ProxyJump), checking both host keys', async () => {
    const home = await freshDir();
    const known = new KnownHosts({ own: join(home, 'known_hosts'), readOnly: [] });
    const asked: string[] = [];
    const connection = await connect({
      known,
      policy: 'ask',
      askHostKey: (question) => {
        asked.push(`${question.host}:${question.port}`);
        return Promise.resolve(true);
      },
      jumps: [endpoint()],
      target: endpoint({ host: 'localhost' }),
    });
    expect(asked).toEqual([`127.0.0.1:${sshd.port}`, `localhost:${sshd.port}`]);
    // The target's TCP connection comes from sshd itself (the jump), not from us.
    const result = await connection.exec('echo "$SSH_CONNECTION"');
    expect(result.stdout.split(' ')[0]).toMatch(/^(127\.0\.0\.1|::1)$/);
    expect(fingerprint(Buffer.from((await sshd.hostPublicKey()).split(' ')[1] ?? '', 'base64'))).toBe(sshd.hostKeyFingerprint());
  });
});
