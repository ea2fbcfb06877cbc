// Fuzzing over the real transports: 10,000 generated requests (fast-check, seeded) — 7,000 to the
// agent on its unix socket, 3,000 to the host API over browser mode's WebSocket — with wrong
// types, unknown keys, unicode, path tricks, shell metacharacters and oversize values, plus raw
// frames that are not JSON-RPC at all. Nothing may crash, nothing may be half-made, every
// request gets exactly one answer, and every error about a request names the field at fault.
//
// The fuzzed agent runs in a network namespace of its own (unshare --net), so a request that
// happens to be valid (a network created, a pull from a registry name) touches nothing outside it;
// the host API is fuzzed with machine names other than `local`, so no call reaches an agent there.
// Reproduce with ONGGI_FUZZ_SEED=<seed>.
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { agentMethods } from '../../../shared/agent-rpc.js';
import { hostMethods } from '../../../shared/host-api.js';
import { LineSplitter, MAX_FRAME_BYTES } from '../../../shared/ndjson.js';
import { AGENT_DIR, isAlive, isolatedAgent, spawnDaemon, type IsolatedAgent } from '../../../build/testing/isolated-agent.js';
import { createHostCore, type HostCore } from '../../../electron/core/host-core.js';
import { startServe, type RunningServe } from '../../../electron/serve/serve.js';
import { census } from '../../../build/testing/reliability-agent.js';

const SEED = Number(process.env.ONGGI_FUZZ_SEED ?? 6_2026);
const AGENT_RUNS = 7000;
const HOST_RUNS = 3000;

interface Reply {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: { field?: string; kind?: string } };
}

const KEYS = [
  'image', 'name', 'command', 'entrypoint', 'env', 'workingDir', 'user', 'hostname', 'limits', 'autoRemove', 'restart',
  'networks', 'ports', 'container', 'timeoutSeconds', 'signal', 'force', 'all', 'tail', 'follow', 'streamId', 'ref',
  'insecure', 'auth', 'progressId', 'platform', 'path', 'kind', 'network', 'subnet', 'gateway', 'protocol', 'client',
  'topics', 'limit', 'machine', 'cpus', 'memory', 'pids', '__proto__', 'constructor', 'prototype', '',
  'dns', 'dnsSearch', 'dnsOptions', 'addHosts', 'labels', 'readOnly', 'stopSignal', 'stopTimeout', 'shmSize',
]; // prettier-ignore
const TRICKS = [
  '../../etc/passwd', '/proc/self/root/etc/shadow', '/proc/1/root', '..', '.', '/', 'a/../../b', '\u0000', 'x\u0000y',
  '%2e%2e%2f', 'C:\\Windows\\system32', '\u202egnp.exe', 'ｌｏｃａｌ', 'local\n', ' local', '$(reboot)', '`id`', ';rm -rf /',
  '-rf', '--help', '*', 'busybox:latest', 'sha256:', `sha256:${'0'.repeat(64)}`, '127.0.0.1:1/x:y', 'Ω≈ç√∫', '🦀'.repeat(40),
  'a'.repeat(129), 'a'.repeat(4097), '-1', '1e309', 'NaN', 'SIGKILL', '9', 'none', 'host', '10.0.0.0/8', '0.0.0.0/0',
]; // prettier-ignore

const nasty: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...TRICKS),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.constantFrom(-1, 0, 1.5, 2 ** 53, -(2 ** 63), Number.MAX_VALUE, 4_194_305),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constantFrom(...TRICKS), { maxLength: 4 }),
  fc.nat({ max: 300_000 }).map((n) => 'x'.repeat(n)),
  fc.anything({ maxDepth: 2 }),
);

function requestArbitrary(methods: string[], safe: (method: string, params: unknown) => boolean) {
  const method = fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...methods) },
    { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constantFrom(...TRICKS)) },
  );
  const params = fc.oneof(
    { weight: 6, arbitrary: fc.dictionary(fc.constantFrom(...KEYS), nasty, { maxKeys: 5 }) },
    { weight: 2, arbitrary: fc.anything({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  return fc.tuple(method, params).filter(([m, p]) => safe(m, p));
}

function checkReply(request: { method: string; params: unknown }, reply: Reply | undefined, problems: string[]): void {
  const what = `${request.method} ${JSON.stringify(request.params)?.slice(0, 200)}`;
  if (!reply) return void problems.push(`no answer to ${what}`);
  if (!reply.error) return;
  const { code, data } = reply.error;
  if (code === -32603) problems.push(`internal error for ${what}: ${reply.error.message}`);
  else if (typeof data?.field !== 'string' || !/^(params|method|jsonrpc|id)\b/.test(data.field))
    problems.push(`error without a field for ${what}: ${JSON.stringify(reply.error)}`);
}

// ---- the agent, on its unix socket ------------------------------------------------------------

let sandbox: IsolatedAgent;
let daemon: ChildProcess;

function spawnIsolatedNetDaemon(): Promise<ChildProcess> {
  return spawnDaemon(sandbox, { wrapper: ['unshare', '--net', '--'] });
}

/** A raw line client: frames out, replies matched by id. */
function lineClient(socket: Socket) {
  const splitter = new LineSplitter(64 * 1024 * 1024);
  const waiting = new Map<number, (reply: Reply) => void>();
  const idless: Reply[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    for (const line of splitter.push(chunk)) {
      const reply = JSON.parse(line) as Reply;
      const resolve = typeof reply.id === 'number' ? waiting.get(reply.id) : undefined;
      if (resolve) {
        waiting.delete(reply.id as number);
        resolve(reply);
      } else idless.push(reply);
    }
  });
  return {
    idless,
    send(frame: string, id?: number): Promise<Reply> | undefined {
      socket.write(`${frame}\n`);
      if (id === undefined) return undefined;
      return new Promise((resolve) => waiting.set(id, resolve));
    },
  };
}

beforeAll(async () => {
  sandbox = await isolatedAgent();
  daemon = await spawnIsolatedNetDaemon();
});
afterAll(async () => {
  await sandbox?.cleanup();
});

describe('fuzzing the agent RPC over its unix socket', () => {
  it(`answers ${AGENT_RUNS} generated requests, each error naming its field, and stays whole`, async () => {
    const socket = createConnection(sandbox.socketPath);
    await new Promise((resolve) => socket.once('connect', resolve));
    const client = lineClient(socket);
    // Keep requests whose success would reach outside the sandbox from being valid: none here
    // (own netns, no images), except following a log, which never ends by design.
    const safe = (method: string, params: unknown) =>
      !(method === 'containers.logs' && (params as { follow?: unknown } | undefined)?.follow === true);
    const samples = fc.sample(requestArbitrary(Object.keys(agentMethods), safe), { numRuns: AGENT_RUNS, seed: SEED });
    const problems: string[] = [];
    const tally = { result: 0, invalidParams: 0, noMethod: 0, notFound: 0, other: 0 };
    for (let start = 0; start < samples.length; start += 100) {
      const batch = samples.slice(start, start + 100).map(([method, params], i) => {
        const id = start + i + 1;
        const frame = JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
        return client.send(frame, id)?.then((reply) => {
          checkReply({ method, params }, reply, problems);
          if (!reply.error) tally.result += 1;
          else if (reply.error.code === -32602) tally.invalidParams += 1;
          else if (reply.error.code === -32601) tally.noMethod += 1;
          else if (reply.error.data?.kind === 'not_found') tally.notFound += 1;
          else tally.other += 1;
        });
      });
      await Promise.all(batch);
    }
    expect(problems.slice(0, 20)).toEqual([]);
    // The generator reaches past validation too: some requests are valid and fail (or succeed) later.
    console.info(`agent fuzz: ${JSON.stringify(tally)}`);
    expect(tally.result + tally.notFound).toBeGreaterThan(50);
    expect(isAlive(daemon.pid ?? 0)).toBe(true);
    socket.destroy();
  }, 300_000);

  it('survives frames that are not JSON-RPC, and an oversize frame, on the same connection', async () => {
    const socket = createConnection(sandbox.socketPath);
    await new Promise((resolve) => socket.once('connect', resolve));
    const client = lineClient(socket);
    const junk = fc.sample(
      fc
        .oneof(
          fc.string(),
          fc.json(),
          fc.constantFrom(
            '[]',
            '[1,2]',
            '{}',
            'null',
            '{"jsonrpc":"2.0"}',
            '{"jsonrpc":"2.0","id":{},"method":"system.info"}',
            '{"jsonrpc":"2.0","id":1e400,"method":"x"}',
            '\ufeff{}',
          ),
        )
        .map((s) => s.replace(/\n/g, ' ')),
      { numRuns: 500, seed: SEED },
    );
    for (const frame of junk) client.send(frame);
    // More than MAX_FRAME_BYTES before its newline: refused (once), skipped to its end, and the
    // connection keeps serving the frames after it.
    const started = performance.now();
    socket.write(`${'x'.repeat(MAX_FRAME_BYTES + 1024)}\n`);
    const after = await client.send(JSON.stringify({ jsonrpc: '2.0', id: 424242, method: 'system.info' }), 424242);
    expect(after?.result).toHaveProperty('kernelRelease');
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(client.idless.filter((r) => r.error?.data?.kind === 'frame_too_large')).toHaveLength(1);
    expect(client.idless.every((r) => r.error !== undefined && r.error.code !== -32603)).toBe(true);
    socket.destroy();
  }, 60_000);

  it('is left with no half-made container: no mounts, cgroups, state or processes', async () => {
    const socket = createConnection(sandbox.socketPath);
    await new Promise((resolve) => socket.once('connect', resolve));
    const client = lineClient(socket);
    const listed = await client.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'containers.list', params: { all: true } }), 1);
    expect(listed?.result).toEqual([]);
    expect(await census(sandbox)).toEqual({ mounts: [], cgroups: [], stateFiles: [], processes: [] });
    socket.destroy();
  });
});

// ---- the host API, over browser mode's WebSocket ---------------------------------------------

describe('fuzzing the host API over the browser-mode WebSocket', () => {
  let hostSandbox: IsolatedAgent;
  let core: HostCore;
  let serve: RunningServe;

  beforeAll(async () => {
    hostSandbox = await isolatedAgent();
    const rendererDir = join(hostSandbox.root, 'renderer');
    await mkdir(rendererDir, { recursive: true });
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Onggi</title>');
    core = createHostCore({
      dataDir: hostSandbox.home,
      agentDir: AGENT_DIR,
      nodeRuntime: { command: process.execPath },
      localAgent: { runDir: hostSandbox.runDir, stateDir: hostSandbox.stateDir },
      platform: 'linux',
    });
    serve = await startServe({ core, rendererDir });
  });
  afterAll(async () => {
    await serve?.close();
    await core?.close();
    await hostSandbox?.cleanup();
  });

  const open = (): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/api?token=${serve.token}`, { origin: `http://127.0.0.1:${serve.port}` });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });

  it(`answers ${HOST_RUNS} generated requests, each error naming its field`, async () => {
    const ws = await open();
    const waiting = new Map<number, (reply: Reply) => void>();
    ws.on('message', (data: Buffer) => {
      const reply = JSON.parse(data.toString()) as Reply & { method?: string };
      if (typeof reply.id === 'number') waiting.get(reply.id)?.(reply);
    });
    // Never the local machine (its agent would run in this netns) and never a valid new SSH machine (it would dial out).
    const safe = (method: string, params: unknown) => {
      const p = params as Record<string, unknown> | undefined;
      if (p && typeof p === 'object' && 'machine' in p && typeof p.machine === 'string' && p.machine.trim().toLowerCase().includes('local'))
        return false;
      return method !== 'machines.add' || typeof params !== 'object' || params === null || Array.isArray(params);
    };
    const samples = fc.sample(requestArbitrary(Object.keys(hostMethods), safe), { numRuns: HOST_RUNS, seed: SEED + 1 });
    const problems: string[] = [];
    for (let start = 0; start < samples.length; start += 100) {
      await Promise.all(
        samples.slice(start, start + 100).map(([method, params], i) => {
          const id = start + i + 1;
          const reply = new Promise<Reply>((resolve) => waiting.set(id, resolve));
          ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }));
          return reply.then((r) => checkReply({ method, params }, r, problems));
        }),
      );
    }
    expect(problems.slice(0, 20)).toEqual([]);
    // Nothing reached a local agent: none was started.
    expect(await hostSandbox.daemonPid()).toBeUndefined();
    ws.close();
  }, 300_000);

  it('closes a connection that sends an oversize message, and keeps serving new ones', async () => {
    const ws = await open();
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(MAX_FRAME_BYTES + 1));
    expect(await closed).toBe(1009);
    const again = await open();
    const reply = new Promise<Reply>((resolve) => again.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()) as Reply)));
    again.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'app.version' }));
    expect((await reply).result).toBeDefined();
    again.close();
  });
});
