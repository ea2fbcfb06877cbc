// The built agent bundle, run as a real daemon on a real unix socket, answering from the kernel.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../shared/ndjson.js';
import { initHelperName } from '../runtime/helper-protocol.js';
import { AGENT_DIR, isolatedAgent, spawnDaemon, type IsolatedAgent } from '../../../build/testing/isolated-agent.js';

const ENTRY = join(AGENT_DIR, 'agent.cjs');
let sandbox: IsolatedAgent;

beforeEach(async () => {
  sandbox = await isolatedAgent();
});
afterEach(async () => {
  await sandbox.cleanup();
});

const startDaemon = (): Promise<ChildProcess> => spawnDaemon(sandbox);

/** Sends frames on one connection and collects one reply per request. */
async function exchange(frames: string[], expectReplies = frames.length): Promise<Array<Record<string, unknown>>> {
  const socket = createConnection(sandbox.socketPath);
  const splitter = new LineSplitter();
  const replies: Array<Record<string, unknown>> = [];
  return new Promise((resolve, reject) => {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      for (const line of splitter.push(chunk)) replies.push(JSON.parse(line) as Record<string, unknown>);
      if (replies.length >= expectReplies) {
        socket.destroy();
        // The agent answers concurrently: put replies in request order (an unparseable frame's reply has no id).
        resolve(replies.sort((a, b) => replyOrder(a) - replyOrder(b)));
      }
    });
    socket.on('error', reject);
    socket.on('connect', () => socket.write(frames.map((f) => `${f}\n`).join('')));
  });
}

/** Where a reply belongs: its id; one to a frame that had no readable id sorts where the test put that frame. */
let idlessSlot = Number.MAX_SAFE_INTEGER;
const replyOrder = (reply: Record<string, unknown>) => (typeof reply.id === 'number' ? reply.id : idlessSlot);

const req = (id: number, method: string, params?: unknown) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });

describe('agent daemon', () => {
  it('serves on a socket only root can open and records its pid', async () => {
    const child = await startDaemon();
    expect(statSync(sandbox.socketPath).mode & 0o777).toBe(0o600);
    expect(statSync(sandbox.runDir).mode & 0o777).toBe(0o700);
    expect(await sandbox.daemonPid()).toBe(child.pid);
  });

  it('answers system.info from the real kernel', async () => {
    await startDaemon();
    const [hello, info] = await exchange([req(1, 'system.hello', { protocol: 1, client: 'test' }), req(2, 'system.info')]);
    const manifest = JSON.parse(readFileSync(join(AGENT_DIR, 'manifest.json'), 'utf8')) as { buildId: string };
    expect(hello?.result).toMatchObject({ protocol: 1, buildId: manifest.buildId });
    const result = info?.result as Record<string, unknown> & { cgroup: { version: number }; distro: { id: string }; memoryBytes: number };
    const uname = (flag: string) => spawnSync('uname', [flag], { encoding: 'utf8' }).stdout.trim();
    expect(result.kernelRelease).toBe(uname('-r'));
    expect(result.machine).toBe(uname('-m'));
    expect(result.hostname).toBe(uname('-n'));
    const fsType = spawnSync('stat', ['-f', '-c', '%T', '/sys/fs/cgroup'], { encoding: 'utf8' }).stdout.trim();
    expect(result.cgroup.version).toBe(fsType === 'cgroup2fs' ? 2 : 1);
    expect(result.distro.id).toBe(/^ID=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]?.replace(/"/g, ''));
    const memKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
    expect(result.memoryBytes).toBe(memKb * 1024);
  });

  it('answers every malformed request with an error naming the field, and keeps serving', async () => {
    await startDaemon();
    idlessSlot = 6;
    const replies = await exchange([
      req(1, 'system.hello', { protocol: 'one', client: 'x' }),
      req(2, 'system.hello', { protocol: 1 }),
      req(3, 'system.info', { verbose: true }),
      req(4, 'events.subscribe', { topics: ['everything'] }),
      req(5, 'containers.explode'),
      '{"jsonrpc":"2.0","id":6,"method":', // cut off: answered with id null, sorted into slot 6
      JSON.stringify({ jsonrpc: '1.0', id: 7, method: 'system.info' }),
      req(8, 'system.hello', { protocol: 99, client: 'x' }),
      req(9, 'system.info'),
    ]);
    const fields = replies.map((r) => (r.error as { data?: { field?: string } } | undefined)?.data?.field);
    expect(fields).toEqual([
      'params.protocol',
      'params.client',
      'params.verbose',
      'params.topics[0]',
      'method',
      undefined, // not JSON: a parse error has no field
      'jsonrpc',
      'params.protocol',
      undefined,
    ]);
    expect((replies[5]?.error as { code: number }).code).toBe(-32700);
    expect((replies[7]?.error as { code: number }).code).toBe(-32001);
    expect(replies[8]?.result).toHaveProperty('kernelRelease');
  });

  it('subscribes to the event stream', async () => {
    await startDaemon();
    const [reply] = await exchange([req(1, 'events.subscribe', { topics: ['activity'] })]);
    expect(reply?.result).toEqual({ topics: ['activity'] });
  });

  it('serves a state directory with one agent for its whole life: a second one exits, touching neither socket nor state', async () => {
    const first = await startDaemon();
    const socket = statSync(sandbox.socketPath).ino;
    const second = spawnSync(process.execPath, [ENTRY, 'daemon', '--socket', sandbox.socketPath, '--state', sandbox.stateDir], {
      env: sandbox.env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(second.status).toBe(75);
    expect(second.stderr).toContain(`another agent (pid ${first.pid}) is serving ${sandbox.stateDir}`);
    expect(statSync(sandbox.socketPath).ino).toBe(socket);
    expect(await sandbox.daemonPid()).toBe(first.pid);
    // An agent of another state directory on the same live socket is refused as well.
    await expect(spawnDaemon({ ...sandbox, stateDir: join(sandbox.root, 'other-state') })).rejects.toThrow(/already serving/);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    // The kernel dropped the dead agent's lock; its socket file, left behind by SIGKILL, is replaced.
    const third = await startDaemon();
    expect(await sandbox.daemonPid()).toBe(third.pid);
  });

  it('lets exactly one of eight agents started at once serve; the others say busy and exit 75', async () => {
    const outcomes = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<{ said: string; code: number | null; child: ChildProcess }>((resolve) => {
            const child = spawn(
              process.execPath,
              [ENTRY, 'daemon', '--socket', sandbox.socketPath, '--state', sandbox.stateDir, '--ready-fd', '3'],
              { env: sandbox.env, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] },
            );
            let said = '';
            (child.stdio[3] as Readable).on('data', (d: Buffer) => {
              said += d.toString();
              if (said.includes('ready\n')) resolve({ said, code: null, child });
            });
            child.once('exit', (code) => resolve({ said, code, child }));
          }),
      ),
    );
    const serving = outcomes.filter((o) => o.said === 'ready\n');
    expect(serving).toHaveLength(1);
    const server = serving[0]?.child;
    for (const other of outcomes.filter((o) => o !== serving[0])) {
      expect(other.code).toBe(75);
      expect(other.said).toBe(`busy ${server?.pid}\n`);
    }
    expect(await sandbox.daemonPid()).toBe(server?.pid);
  });

  it("is reached through the init helper's `dial`, as over an SSH exec channel", async () => {
    await startDaemon();
    const helper = join(AGENT_DIR, initHelperName());
    const dial = spawnSync(helper, ['dial', sandbox.socketPath], {
      input: `${req(1, 'system.hello', { protocol: 1, client: 'ssh' })}\n${req(2, 'system.info')}\n`,
      encoding: 'utf8',
      timeout: 10_000,
    });
    const lines = dial.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; result: { kernelRelease?: string } });
    expect(lines.map((l) => l.id)).toEqual([1, 2]);
    expect(lines[1]?.result.kernelRelease).toBe(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    const missing = spawnSync(helper, ['dial', join(sandbox.root, 'nope.sock')], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`onggi-init dial: cannot reach ${join(sandbox.root, 'nope.sock')}`);
  });
});
