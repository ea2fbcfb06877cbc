// Browser mode over real HTTP and WebSocket: only our page, with our token, from our origin.
import { mkdir, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { AGENT_DIR, isolatedAgent, type IsolatedAgent } from '../../build/testing/isolated-agent.js';
import { createHostCore, type HostCore } from '../core/host-core.js';
import { startServe, type RunningServe } from './serve.js';

let sandbox: IsolatedAgent;
let core: HostCore;
let serve: RunningServe;

beforeEach(async () => {
  sandbox = await isolatedAgent();
  const rendererDir = join(sandbox.root, 'renderer');
  await mkdir(join(rendererDir, 'assets'), { recursive: true });
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Onggi</title>');
  await writeFile(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(sandbox.root, 'secret.txt'), 'secret');
  core = createHostCore({
    dataDir: sandbox.home,
    agentDir: AGENT_DIR,
    nodeRuntime: { command: process.execPath },
    localAgent: { runDir: sandbox.runDir, stateDir: sandbox.stateDir },
    platform: 'linux',
  });
  serve = await startServe({ core, rendererDir });
});
afterEach(async () => {
  await serve.close();
  await core.close();
  await sandbox.cleanup();
});

/** A raw GET, so the test controls Host and Origin exactly as an attacker's browser would send them. */
function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: serve.port, path, headers: { host: `127.0.0.1:${serve.port}`, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function openSocket(query: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/api${query}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const origin = () => `http://127.0.0.1:${serve.port}`;

describe('browser mode access', () => {
  it('listens on loopback and prints a URL with a long random token', () => {
    expect(serve.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${serve.port}/\\?token=[A-Za-z0-9_-]{43}$`));
  });

  it('serves the page with the token and refuses it without, with a wrong one, or under a rebound Host', async () => {
    const ok = await get(`/?token=${serve.token}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<title>Onggi</title>');
    expect(String(ok.headers['set-cookie'])).toMatch(/onggi_token=.*HttpOnly; SameSite=Strict/);
    expect(String(ok.headers['content-security-policy'])).toContain("script-src 'self'");
    expect((await get('/')).status).toBe(401);
    expect((await get('/?token=wrong')).status).toBe(401);
    expect((await get(`/?token=${serve.token}x`)).status).toBe(401);
    expect((await get(`/?token=${serve.token}`, { host: `evil.example:${serve.port}` })).status).toBe(403);
    expect((await get(`/?token=${serve.token}`, { origin: 'http://evil.example' })).status).toBe(403);
  });

  it('loads assets with the cookie the page set, and nothing outside the renderer', async () => {
    const cookie = `onggi_token=${serve.token}`;
    expect((await get('/assets/app.js', { cookie })).status).toBe(200);
    expect((await get('/assets/app.js')).status).toBe(401);
    expect((await get('/../secret.txt', { cookie })).status).toBe(404);
    expect((await get('/%2e%2e/secret.txt', { cookie })).status).toBe(404);
  });

  it('opens the API socket only with token and our Origin', async () => {
    await expect(openSocket('', { origin: origin() })).rejects.toThrow('HTTP 401');
    await expect(openSocket('?token=nope', { origin: origin() })).rejects.toThrow('HTTP 401');
    await expect(openSocket(`?token=${serve.token}`, { origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(openSocket(`?token=${serve.token}`, {})).rejects.toThrow('HTTP 403');
    await expect(openSocket(`?token=${serve.token}`, { origin: origin(), host: `rebound.example:${serve.port}` })).rejects.toThrow(
      'HTTP 403',
    );
    const ws = await openSocket(`?token=${serve.token}`, { origin: origin() });
    ws.close();
  });

  it('answers host API calls and pushes host events over the socket', async () => {
    const ws = await openSocket(`?token=${serve.token}`, { origin: origin() });
    const messages: Array<Record<string, unknown>> = [];
    const got = (pred: (m: Record<string, unknown>) => boolean) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const check = () => {
          const found = messages.find(pred);
          if (found) resolve(found);
          else ws.once('message', check);
        };
        check();
      });
    ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'machines.info', params: { machine: 'local' } }));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'machines.info', params: { machine: 42 } }));
    ws.send('{broken');
    const info = await got((m) => m.id === 1);
    expect((info.result as { kernelRelease: string }).kernelRelease).toBeTruthy();
    const bad = await got((m) => m.id === 2);
    expect((bad.error as { data: { field: string } }).data.field).toBe('params.machine');
    expect(await got((m) => (m.error as { code?: number } | undefined)?.code === -32700)).toBeTruthy();
    const ready = await got((m) => m.method === 'event' && (m.params as { state: string }).state === 'ready');
    expect(ready.params).toEqual({ type: 'machine.state', machine: 'local', state: 'ready' });
    ws.close();
  });
});

describe('browser mode without a built window', () => {
  it('refuses to start and says how to build', async () => {
    await expect(startServe({ core, rendererDir: join(sandbox.root, 'nowhere') })).rejects.toThrow(/window is not built.*npm run build/);
  });
});
