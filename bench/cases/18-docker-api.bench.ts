// Case 18: the Docker API's cost. `true` in a fresh container, start to exit and removal included,
// through the agent API (as case 1) and through the Docker API on the same agent: the same four
// steps as raw HTTP on docker.sock (create, wait, start, delete: what the endpoint adds), and the
// docker CLI 20.10's `docker run --rm` end to end (its own start-up included). Issue 18 asks for
// the endpoint's overhead ≤ 10 ms median (HTTP variant minus agent API).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IMAGE, startReliabilityAgent, type ReliabilityAgent } from '../../build/testing/reliability-agent.js';
import { compare, loadNote, record, round } from '../harness.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const DOCKER = '/usr/bin/docker';
let agent: ReliabilityAgent;

beforeAll(async () => {
  agent = await startReliabilityAgent();
});
afterAll(async () => {
  await agent?.cleanup();
});

function http(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: join(agent.sandbox.runDir, 'docker.sock'), method, path, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

it('case 18: `true` through the Docker API', async () => {
  const { client } = agent;
  const variants: Record<string, () => Promise<void>> = {
    'onggi (agent API)': async () => {
      const { id } = await client.call('containers.create', { image: IMAGE, command: ['true'], networks: ['none'] });
      await client.call('containers.start', { container: id });
      expect((await client.call('containers.wait', { container: id })).exitCode).toBe(0);
      await client.call('containers.remove', { container: id });
    },
    'Docker API (raw HTTP on docker.sock)': async () => {
      const created = await http('POST', '/v1.41/containers/create', { Image: IMAGE, Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
      const { Id } = JSON.parse(created.text) as { Id: string };
      const waited = http('POST', `/v1.41/containers/${Id}/wait?condition=next-exit`);
      expect((await http('POST', `/v1.41/containers/${Id}/start`)).status).toBe(204);
      expect(JSON.parse((await waited).text)).toMatchObject({ StatusCode: 0 });
      await http('DELETE', `/v1.41/containers/${Id}`);
    },
  };
  if (existsSync(DOCKER))
    variants['docker run --rm (docker 20.10 CLI)'] = async () => {
      const run = spawnSync(DOCKER, ['run', '--rm', '--network', 'none', IMAGE, 'true'], {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          DOCKER_HOST: `unix://${join(agent.sandbox.runDir, 'docker.sock')}`,
          DOCKER_CONFIG: agent.sandbox.root,
        },
      });
      if (run.status !== 0) throw new Error(`docker run: ${run.stderr}`);
    };
  const result = await compare(variants, { warmup: 3, runs: RUNS });
  const api = result['onggi (agent API)']?.median ?? NaN;
  record('18-docker-api', {
    title: 'Container start (`true`) through the Docker API vs the agent API',
    variants: result,
    extra: { 'Docker API overhead (ms, median)': round((result['Docker API (raw HTTP on docker.sock)']?.median ?? NaN) - api) },
    notes: [loadNote(), existsSync(DOCKER) ? 'docker 20.10 from Debian' : 'docker CLI absent: its variant skipped'],
  });
});
