// Fuzzing the Docker API socket (fast-check, seeded): malformed JSON, wrong types, huge bodies,
// path tricks in names and bad ranges. Every answer must be Docker's error shape (`{"message"}`)
// with a 4xx/5xx status, the agent must keep answering, and nothing may be left half-made.
// The agent runs in a network namespace of its own (unshare --net): a request that happens to be
// valid changes nothing outside it. Reproduce with ONGGI_FUZZ_SEED=<seed>.
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedAgent, spawnDaemon, type IsolatedAgent } from '../../../build/testing/isolated-agent.js';
import { census } from '../../../build/testing/reliability-agent.js';

const SEED = Number(process.env.ONGGI_FUZZ_SEED ?? 18_2026);
let sandbox: IsolatedAgent;

beforeAll(async () => {
  sandbox = await isolatedAgent();
  await spawnDaemon(sandbox, { wrapper: ['unshare', '--net', '--'] });
});

afterAll(async () => {
  await sandbox?.cleanup();
});

interface Answer {
  status: number;
  body: string;
}

function call(method: string, path: string, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: join(sandbox.runDir, 'docker.sock'),
        method,
        path,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function expectDockerError(answer: Answer): void {
  expect(answer.status).toBeGreaterThanOrEqual(400);
  const parsed = JSON.parse(answer.body) as { message?: unknown };
  expect(typeof parsed.message).toBe('string');
}

const TRICKS = [
  '../../etc/passwd', '..%2f..%2fetc', '%2e%2e', '/', '.', '\u0000', 'x%00y', '$(reboot)', '`id`', ';rm -rf /', '--help', '*',
  'a'.repeat(300), 'Ω≈ç√∫', '🦀', 'sha256:', '127.0.0.1:1/x:y', '-1', 'NaN', '1e309', 'none', 'host', 'bridge',
]; // prettier-ignore

const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  any: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(...TRICKS),
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('any'), { maxLength: 4 }),
    fc.dictionary(
      fc.constantFrom(
        'Image',
        'Cmd',
        'Env',
        'HostConfig',
        'Binds',
        'Memory',
        'Name',
        'Driver',
        'IPAM',
        'Labels',
        'PortBindings',
        'NetworkMode',
        'Privileged',
        '__proto__',
      ),
      tie('any'),
      { maxKeys: 5 },
    ),
  ),
})).any;

const ENDPOINTS: Array<[string, string]> = [
  ['POST', '/v1.41/containers/create?name={}'],
  ['POST', '/containers/{}/start'],
  ['POST', '/containers/{}/kill?signal={}'],
  ['GET', '/containers/{}/logs?stdout=1&tail={}'],
  ['DELETE', '/containers/{}?force=1'],
  ['GET', '/images/{}/json'],
  ['DELETE', '/images/{}'],
  ['POST', '/images/{}/tag?repo={}'],
  ['POST', '/networks/create'],
  ['GET', '/networks/{}'],
  ['DELETE', '/volumes/{}'],
  ['POST', '/containers/{}/exec'],
  ['GET', '/containers/json?filters={}'],
  ['POST', '/containers/{}/resize?h={}&w={}'],
  ['POST', '/containers/{}/update'],
  ['GET', '/containers/{}/top?ps_args={}'],
  ['GET', '/containers/{}/changes'],
  ['GET', '/containers/{}/stats?stream=0&one-shot=1'],
  ['GET', '/containers/{}/export'],
  ['GET', '/containers/{}/archive?path={}'],
  ['PUT', '/containers/{}/archive?path={}&copyUIDGID={}'],
  ['GET', '/images/get?names={}&names={}'],
  ['POST', '/images/load?quiet={}'],
  ['POST', '/images/create?fromSrc=-&repo={}&tag={}'],
];

describe('Docker API fuzz', () => {
  it('answers malformed JSON, huge bodies and unknown versions in Docker shape', async () => {
    expectDockerError(await call('POST', '/containers/create', '{"Image": '));
    expectDockerError(await call('POST', '/containers/create', Buffer.alloc(2 * 1024 * 1024, 'a')));
    expectDockerError(await call('POST', '/networks/create', '[]'));
    expectDockerError(await call('GET', '/v9.99/version'));
    expectDockerError(await call('GET', '/v1.12/version'));
    const missing = await call('GET', '/no/such/endpoint');
    expect(missing.status).toBe(404);
    const unsupported = await call('POST', '/commit');
    expect(unsupported.status).toBe(501);
    expect(JSON.parse(unsupported.body)).toEqual({ message: 'POST /commit is not supported by Onggi' });
  });

  it('survives generated requests with path tricks and wrong types; nothing is left half-made', async () => {
    const before = await census(sandbox);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS),
        fc.array(fc.oneof(fc.constantFrom(...TRICKS), fc.string({ maxLength: 20 })), { minLength: 3, maxLength: 3 }),
        value,
        async ([method, template], parts, body) => {
          let index = 0;
          const path = template.replace(/\{\}/g, () => encodeURIComponent(parts[index++] ?? ''));
          const answer = await call(method, path, method === 'POST' || method === 'PUT' ? JSON.stringify(body) : undefined);
          // Generated requests may happen to be valid (a network in our own netns): otherwise Docker's error shape.
          if (answer.status >= 400) expectDockerError(answer);
          expect(answer.status).not.toBe(500);
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
    const ping = await call('GET', '/_ping');
    expect(ping.body).toBe('OK');
    expect(await census(sandbox)).toEqual(before);
    // Tars in transit (export, save, load, import) leave nothing behind, failed or not.
    expect(await readdir(join(sandbox.stateDir, 'docker-api')).catch(() => [])).toEqual([]);
  });
});

/** What Onggi does not do: each answered in Docker's shape, with a status Docker clients read as a refusal, naming it. */
const UNSUPPORTED: Array<{ method: string; path: string; body?: unknown; status: number; names: string }> = [
  { method: 'POST', path: '/build?t=x', body: '', status: 501, names: 'POST /build (image builds)' },
  { method: 'POST', path: '/build/prune', status: 501, names: 'POST /build/prune' },
  { method: 'POST', path: '/commit?container=x&repo=y', status: 501, names: 'POST /commit' },
  { method: 'POST', path: '/auth', body: { username: 'u', password: 'p' }, status: 501, names: 'POST /auth' },
  { method: 'GET', path: '/images/search?term=busybox', status: 501, names: 'GET /images/search' },
  { method: 'GET', path: '/images/busybox:latest/history', status: 501, names: 'GET /images/{name}/history' },
  { method: 'POST', path: '/images/127.0.0.1:5000/busybox/push?tag=latest', status: 501, names: 'POST /images/{name}/push' },
  { method: 'GET', path: '/distribution/busybox:latest/json', status: 501, names: 'GET /distribution/{name}/json' },
  { method: 'POST', path: '/session', status: 501, names: 'POST /session' },
  { method: 'POST', path: '/grpc', status: 501, names: 'POST /grpc' },
  { method: 'GET', path: '/containers/x/attach/ws', status: 501, names: 'GET /containers/{id}/attach/ws' },
  { method: 'GET', path: '/swarm', status: 501, names: 'GET /swarm' },
  { method: 'POST', path: '/swarm/init', body: {}, status: 501, names: 'POST /swarm' },
  { method: 'GET', path: '/services', status: 501, names: 'GET /services' },
  { method: 'POST', path: '/services/create', body: {}, status: 501, names: 'POST /services' },
  { method: 'GET', path: '/nodes', status: 501, names: 'GET /nodes' },
  { method: 'GET', path: '/tasks', status: 501, names: 'GET /tasks' },
  { method: 'GET', path: '/secrets', status: 501, names: 'GET /secrets' },
  { method: 'GET', path: '/configs', status: 501, names: 'GET /configs' },
  { method: 'GET', path: '/plugins', status: 501, names: 'GET /plugins' },
  { method: 'POST', path: '/plugins/pull?remote=x', body: [], status: 501, names: 'POST /plugins' },
  { method: 'POST', path: '/networks/prune', status: 400, names: 'POST /networks/prune' },
  { method: 'POST', path: '/networks/create', body: { Name: 'o', Driver: 'overlay' }, status: 400, names: 'network driver overlay' },
  ...(
    [
      [{ Runtime: 'kata' }, 'HostConfig.Runtime'],
      [{ PidMode: 'host' }, 'HostConfig.PidMode'],
      [{ IpcMode: 'host' }, 'HostConfig.IpcMode'],
      [{ UTSMode: 'host' }, 'HostConfig.UTSMode'],
      [{ NetworkMode: 'host' }, 'HostConfig.NetworkMode host'],
      [{ CgroupParent: '/x' }, 'HostConfig.CgroupParent'],
      [{ VolumeDriver: 'nfs' }, 'HostConfig.VolumeDriver'],
      [{ Links: ['a:b'] }, 'HostConfig.Links'],
      [{ VolumesFrom: ['a'] }, 'HostConfig.VolumesFrom'],
      [{ Isolation: 'hyperv' }, 'HostConfig.Isolation'],
      [{ BlkioWeight: 300 }, 'HostConfig.BlkioWeight'],
      [{ OomKillDisable: true }, 'HostConfig.OomKillDisable'],
    ] as const
  ).map(([host, names]) => ({
    method: 'POST',
    path: '/containers/create',
    body: { Image: 'busybox', HostConfig: host },
    status: 400,
    names: `${names} is not supported by Onggi`,
  })),
  {
    method: 'POST',
    path: '/containers/create',
    body: { Image: 'busybox', MacAddress: '02:42:ac:11:00:02' },
    status: 400,
    names: 'MacAddress',
  },
];

describe('what Onggi does not do', () => {
  it.each(UNSUPPORTED)('$method $path → $status naming "$names"', async ({ method, path, body, status, names }) => {
    const answer = await call(method, path, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
    expect(answer.status).toBe(status);
    const { message } = JSON.parse(answer.body) as { message: string };
    expect(message).toContain(names);
    expect(message).toContain('not supported by Onggi');
  });
});
