// onggi-init dial (dial.c), the bridge the agent link and the Docker API cross on the machine: the
// real helper between a child's stdio and a real unix socket.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initHelperName } from '../agent/runtime/helper-protocol.js';

const REPO = join(__dirname, '../..');
let work = '';
let helper = '';
let socketPath = '';
let server: Server | undefined;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'onggi-dial-test-'));
  const build = spawnSync(process.execPath, [join(REPO, 'build/init.mjs'), work], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build/init.mjs failed: ${build.stderr}`);
  helper = join(work, initHelperName());
  socketPath = join(work, 'peer.sock');
}, 120_000);

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** A unix socket server at socketPath answering each connection with `onConnection`. */
function listen(onConnection: (peer: Socket) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server = createServer(onConnection);
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
}

interface Ran {
  child: ChildProcessWithoutNullStreams;
  /** Everything the helper wrote to stdout and stderr, and how it exited. */
  ended: Promise<{ code: number | null; stdout: Buffer; stderr: string }>;
}

function dial(argv: string[]): Ran {
  const child = spawn(helper, argv);
  children.push(child);
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr })),
  );
  return { child, ended };
}

describe('onggi-init dial', () => {
  it('carries bytes both ways at once: 16 MiB echoed back by the peer while still being sent, unchanged', async () => {
    await listen((peer) => peer.pipe(peer));
    const data = randomBytes(16 << 20);
    const { child, ended } = dial(['dial', socketPath]);
    // Far more than the socket buffers hold: a bridge copying one way at a time would stall here.
    child.stdin.end(data);
    const { code, stdout, stderr } = await ended;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.equals(data)).toBe(true);
  }, 60_000);

  it('the end of stdin reaches the peer as EOF, and its answer after that still comes back', async () => {
    await listen((peer) => {
      let received = 0;
      peer.on('data', (chunk: Buffer) => (received += chunk.length));
      peer.on('end', () => peer.end(`got ${received} bytes`));
    });
    const { child, ended } = dial(['dial', socketPath]);
    child.stdin.end(Buffer.alloc(300_000, 7));
    const { code, stdout } = await ended;
    expect(stdout.toString()).toBe('got 300000 bytes');
    expect(code).toBe(0);
  });

  it('the peer hanging up ends it, though its stdin stays open', async () => {
    await listen((peer) => peer.resume().end('bye'));
    const { child, ended } = dial(['dial', socketPath]);
    child.stdin.on('error', () => undefined); // EPIPE once it is gone
    child.stdin.write('still talking');
    const { code, stdout } = await ended;
    expect(stdout.toString()).toBe('bye');
    expect(code).toBe(0);
    expect(child.stdin.writableEnded).toBe(false);
  });

  it('a socket nobody listens on fails at once, saying which; a malformed command line is refused', async () => {
    const missing = await dial(['dial', join(work, 'nobody.sock')]).ended;
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`onggi-init dial: cannot reach ${join(work, 'nobody.sock')}: No such file or directory`);
    for (const argv of [['dial'], ['dial', 'relative.sock'], ['dial', socketPath, 'extra']]) {
      const refused = spawnSync(helper, argv, { encoding: 'utf8' });
      expect(refused.status, argv.join(' ')).toBe(2);
      expect(refused.stderr).toContain('expected SOCKET (an absolute path)');
    }
  });
});
