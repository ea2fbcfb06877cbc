// docker-compose 1.29 and docker's network verbs against the Docker API, through the desktop's
// forward, to an agent that runs in a network lab of its own (its bridges, NAT and published
// ports are made in the lab's netns, never the machine's). The image is the lab's `netbox`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabForward, type RunningForward } from '../../../build/testing/docker-forward.js';
import { IMAGE, MACHINE_IP, createLab, type NetnsLab } from '../../../build/testing/netns-lab.js';

const DOCKER = '/usr/bin/docker';
const COMPOSE = '/usr/bin/docker-compose';
const isRoot = process.getuid?.() === 0;

let lab: NetnsLab;
let work: string;
let forward: RunningForward | undefined;
let dockerHost = '';

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

function tool(argv: string[], cwd?: string) {
  const [command = 'false', ...args] = argv;
  const run = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { PATH: process.env.PATH, HOME: work, DOCKER_CONFIG: work, DOCKER_HOST: dockerHost, COMPOSE_PROJECT_NAME: 'pot' },
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe.skipIf(!isRoot || !existsSync(DOCKER))('docker networks and docker-compose over the Docker API', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    lab = await createLab();
    work = await mkdtemp(join(tmpdir(), 'onggi-compose-'));
    // The lab's daemon is already up (it imported the image); the forward runs in the lab's netns too.
    forward = await startLabForward(lab);
    dockerHost = forward.dockerHost;
  }, 120_000);

  afterAll(async () => {
    await forward?.stop();
    await lab?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('network create/ls/inspect/rm; run -d -p publishes the port to the outside', async () => {
    const docker = (...args: string[]) => tool([DOCKER, ...args]);
    expect(docker('network', 'create', '--subnet', '10.91.0.0/24', 'backend').code).toBe(0);
    const ls = docker('network', 'ls', '--format', '{{.Name}} {{.Driver}}');
    expect(ls.out.split('\n')).toEqual(expect.arrayContaining(['backend bridge', 'bridge bridge', 'none null']));
    expect(docker('network', 'inspect', '--format', '{{(index .IPAM.Config 0).Subnet}}', 'backend').out.trim()).toBe('10.91.0.0/24');
    const run = docker(
      'run',
      '-d',
      '--name',
      'site',
      '--network',
      'backend',
      '-p',
      '18081:80',
      IMAGE,
      'httpd',
      '-f',
      '-p',
      '80',
      '-h',
      '/www',
    );
    expect(run.err).toBe('');
    expect(await eventually(() => lab.httpGet('outside', `http://${MACHINE_IP}:18081/`).out === 'hello from onggi\n')).toBe(true);
    const ports = docker('port', 'site');
    expect(ports.out).toContain('80/tcp -> 0.0.0.0:18081');
    expect(docker('inspect', '--format', '{{.NetworkSettings.Networks.backend.IPAddress}}', 'site').out.trim()).toMatch(/^10\.91\.0\.\d+$/);
    // `-p 80`: a host port the machine has free (testcontainers publishes this way).
    expect(
      docker('run', '-d', '--name', 'any', '--network', 'backend', '-p', '80', IMAGE, 'httpd', '-f', '-p', '80', '-h', '/www').err,
    ).toBe('');
    const picked = /0\.0\.0\.0:(\d+)/.exec(docker('port', 'any', '80').out)?.[1];
    expect(Number(picked)).toBeGreaterThan(0);
    expect(await eventually(() => lab.httpGet('outside', `http://${MACHINE_IP}:${picked}/`).out === 'hello from onggi\n')).toBe(true);
    expect(docker('rm', '-f', 'site', 'any').code).toBe(0);
    expect(docker('network', 'rm', 'backend').code).toBe(0);
    expect(docker('network', 'ls', '--format', '{{.Name}}').out).not.toContain('backend');
  });

  it.skipIf(!existsSync(COMPOSE))(
    'docker-compose up -d / ps / logs / down -v: a user network, a named volume, a published port, environment',
    async () => {
      await writeFile(
        join(work, 'docker-compose.yml'),
        [
          'version: "3.7"',
          'services:',
          '  web:',
          `    image: ${IMAGE}`,
          '    command: ["httpd", "-f", "-p", "80", "-h", "/www"]',
          '    ports: ["18082:80"]',
          '    volumes: ["data:/data"]',
          '    networks: [back]',
          '  worker:',
          `    image: ${IMAGE}`,
          '    command: ["sh", "-c", "echo worker says $$GREETING; touch /data/ok; exec sleep 1000"]',
          '    environment: {GREETING: annyeong}',
          '    volumes: ["data:/data"]',
          '    depends_on: [web]',
          '    networks: [back]',
          'networks:',
          '  back: {}',
          'volumes:',
          '  data: {}',
          '',
        ].join('\n'),
      );
      const compose = (...args: string[]) => tool([COMPOSE, ...args], work);
      const up = compose('up', '-d');
      expect(up.code, up.err).toBe(0);
      const ps = compose('ps');
      expect(ps.out).toMatch(/pot_web_1 .* Up/);
      expect(ps.out).toMatch(/pot_worker_1 .* Up/);
      expect(await eventually(() => lab.httpGet('outside', `http://${MACHINE_IP}:18082/`).out === 'hello from onggi\n')).toBe(true);
      expect(await eventually(() => compose('logs', '--no-color', 'worker').out.includes('worker says annyeong'))).toBe(true);
      expect(tool([DOCKER, 'volume', 'ls', '--format', '{{.Name}}']).out).toContain('pot_data');
      const down = compose('down', '-v', '-t', '1');
      expect(down.code, down.err).toBe(0);
      expect(tool([DOCKER, 'ps', '-a', '-q']).out.trim()).toBe('');
      expect(tool([DOCKER, 'volume', 'ls', '-q']).out).not.toContain('pot_data');
      expect(tool([DOCKER, 'network', 'ls', '--format', '{{.Name}}']).out).not.toContain('pot_back');
    },
  );
});
