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
import { until } from '../../../build/testing/until.js';

const DOCKER = '/usr/bin/docker';
const COMPOSE = '/usr/bin/docker-compose';
const isRoot = process.getuid?.() === 0;

let lab: NetnsLab;
let work: string;
let forward: RunningForward | undefined;
let dockerHost = '';

/** Whether `check` holds within about 10 s (it reads a real state each time). */
const eventually = (check: () => boolean): Promise<boolean> =>
  until(check, Boolean, 'the condition', { attempts: 200, intervalMs: 50 }).catch(() => false);

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

  it('network create/ls/inspect/rm; run -d -p publishes the port to the outside; --network-alias and network connect --alias resolve', async () => {
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
    // Network-scoped aliases: `run --network-alias` at create, `network connect --alias` to a running
    // container (its peers' hosts files are rewritten); each name only on its own network.
    expect(docker('run', '-d', '--name', 'aliased', '--network', 'backend', '--network-alias', 'db', IMAGE, 'sleep', '1000').err).toBe('');
    expect(docker('exec', 'site', 'ping', '-c', '1', '-W', '2', 'db').out).toContain('1 packets received');
    expect(docker('network', 'create', '--subnet', '10.92.0.0/24', 'side').code).toBe(0);
    expect(docker('network', 'connect', '--alias', 'cache', 'side', 'aliased').err).toBe('');
    expect(docker('run', '--rm', '--network', 'side', IMAGE, 'ping', '-c', '1', '-W', '2', 'cache').out).toMatch(
      /PING cache \(10\.92\.0\.\d+\)/,
    );
    expect(docker('exec', 'site', 'cat', '/etc/hosts').out).toMatch(/^10\.91\.0\.\d+\taliased \w+ db$/m);
    expect(docker('exec', 'site', 'cat', '/etc/hosts').out).not.toMatch(/\bcache\b/);
    // As dockerd: the short id follows the aliases on a user network; none on the default bridge.
    const shortId = docker('inspect', '--format', '{{.Id}}', 'aliased').out.trim().slice(0, 12);
    expect(docker('inspect', '--format', '{{json .NetworkSettings.Networks.side.Aliases}}', 'aliased').out.trim()).toBe(
      `["cache","${shortId}"]`,
    );
    expect(docker('inspect', '--format', '{{json .NetworkSettings.Networks.backend.Aliases}}', 'aliased').out.trim()).toBe(
      `["db","${shortId}"]`,
    );
    // The default network is `bridge` in the container views too, as in `network ls`.
    expect(docker('run', '-d', '--name', 'plain', IMAGE, 'sleep', '1000').err).toBe('');
    expect(
      docker('inspect', '--format', '{{.HostConfig.NetworkMode}} {{.NetworkSettings.Networks.bridge.IPAddress}}', 'plain').out.trim(),
    ).toMatch(/^bridge \d+\.\d+\.\d+\.\d+$/);
    expect(docker('ps', '--filter', 'network=bridge', '--format', '{{.Names}} {{.Networks}}').out.trim()).toBe('plain bridge');
    expect(docker('rm', '-f', 'site', 'any', 'aliased', 'plain').code).toBe(0);
    expect(docker('network', 'rm', 'side').code).toBe(0);
    expect(docker('network', 'rm', 'backend').code).toBe(0);
    expect(docker('network', 'ls', '--format', '{{.Name}}').out).not.toContain('backend');
  });

  it.skipIf(!existsSync(COMPOSE))(
    'docker-compose up -d / ps / logs / exec -T / down -v: a user network, a named volume, a published port, environment, a healthcheck, service names',
    async () => {
      // The Compose Spec form (no `version:`): depends_on waits for web's healthcheck to pass, so
      // `up -d` itself reads the health status back through inspect.
      await writeFile(
        join(work, 'docker-compose.yml'),
        [
          'services:',
          '  web:',
          `    image: ${IMAGE}`,
          '    command: ["httpd", "-f", "-p", "80", "-h", "/www"]',
          '    ports: ["18082:80"]',
          '    volumes: ["data:/data"]',
          '    networks: [back]',
          '    healthcheck:',
          '      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]',
          '      interval: 1s',
          '      timeout: 2s',
          '      retries: 30',
          '  worker:',
          `    image: ${IMAGE}`,
          '    command: ["sh", "-c", "echo worker says $$GREETING; touch /data/ok; exec sleep 1000"]',
          '    environment: {GREETING: annyeong}',
          '    volumes: ["data:/data"]',
          '    depends_on: {web: {condition: service_healthy}}',
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
      expect(up.err).toMatch(/Creating pot_worker_1 \.\.\. done/);
      // worker was created only once web was healthy: the status compose waited on is the one inspect shows.
      expect(tool([DOCKER, 'inspect', '--format', '{{.State.Health.Status}}', 'pot_web_1']).out.trim()).toBe('healthy');
      const ps = compose('ps');
      expect(ps.out).toMatch(/pot_web_1 .* Up \(healthy\)/);
      expect(ps.out).toMatch(/pot_worker_1 .* Up/);
      expect(await eventually(() => lab.httpGet('outside', `http://${MACHINE_IP}:18082/`).out === 'hello from onggi\n')).toBe(true);
      expect(await eventually(() => compose('logs', '--no-color', 'worker').out.includes('worker says annyeong'))).toBe(true);
      // exec (-T: no terminal here): the service name resolves to web's address on the project network.
      const webIp = tool([DOCKER, 'inspect', '--format', '{{.NetworkSettings.Networks.pot_back.IPAddress}}', 'pot_web_1']).out.trim();
      expect(webIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const exec = compose(
        'exec',
        '-T',
        'worker',
        'sh',
        '-c',
        'wget -q -O - http://web/ && ping -c 1 -W 2 web && test -f /data/ok && echo $GREETING',
      );
      expect(exec.err).toBe('');
      expect(exec.out).toContain('hello from onggi\n');
      expect(exec.out).toContain(`PING web (${webIp})`);
      expect(exec.out).toMatch(/annyeong\n$/);
      expect(compose('exec', '-T', 'worker', 'sh', '-c', 'exit 7').code).toBe(7);
      const aliases = tool([DOCKER, 'inspect', '--format', '{{json .NetworkSettings.Networks.pot_back.Aliases}}', 'pot_worker_1']);
      expect(JSON.parse(aliases.out)).toContain('worker');
      const down = compose('down', '-v', '-t', '0');
      expect(down.code, down.err).toBe(0);
      expect(tool([DOCKER, 'ps', '-a', '-q']).out.trim()).toBe('');
      expect(tool([DOCKER, 'volume', 'ls', '-q']).out).not.toContain('pot_data');
      expect(tool([DOCKER, 'network', 'ls', '--format', '{{.Name}}']).out).not.toContain('pot_back');
    },
  );
});
