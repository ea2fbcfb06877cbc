// The Docker API of an SSH machine, forwarded by `onggi docker-forward` to a unix socket on this
// desktop (each docker connection is an `dial` exec channel over the machine's SSH
// connection), used by real clients unchanged: Debian's docker CLI, docker-compose 1.29, dockerode
// and testcontainers. The machine is a real sshd in a network namespace of the test's own
// (loopback-machine.ts, ownNetns), added through the host API into a data folder the CLI then
// uses; its agent makes its bridge, NAT and published ports in that netns, and docker-forward
// forwards the published ports to this computer's 127.0.0.1, where testcontainers connects.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import Docker from 'dockerode';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { startLoopbackMachine, type LoopbackMachine } from '../../../build/testing/loopback-machine.js';
import { runTestcontainers } from '../../../build/testing/testcontainers-client.js';
import { startForward, type RunningForward } from '../../../build/testing/docker-forward.js';
import { CLI } from '../../../build/testing/isolated-agent.js';

const DOCKER = '/usr/bin/docker';
const COMPOSE = '/usr/bin/docker-compose';
const IMAGE = 'netbox:latest';
const isRoot = process.getuid?.() === 0;

let machine: LoopbackMachine | undefined;
let forward: RunningForward | undefined;
let work = '';
let dockerHost = '';

/** A client run (async: the test's own host core serves the machine's link meanwhile). */
function tool(argv: string[], cwd?: string, input = ''): Promise<{ code: number | null; out: string; err: string }> {
  const [command = 'false', ...args] = argv;
  const child = spawn(command, args, {
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: work, DOCKER_CONFIG: work, DOCKER_HOST: dockerHost, COMPOSE_PROJECT_NAME: 'pot' },
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  child.stdin.end(input);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out, err })));
}
const docker = (...args: string[]) => tool([DOCKER, ...args]);

/** A port nobody listens on here now (the machine, in a netns of its own, has it free too). */
function freeLocalPort(): Promise<number> {
  const server = createServer();
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    }),
  );
}

/** Whether something accepts a TCP connection on 127.0.0.1:port. */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe.skipIf(!isRoot || !existsSync(DOCKER))('docker clients through the forward of an SSH machine', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    machine = await startLoopbackMachine({ prefix: 'onggi-docker-ssh-', ownNetns: true });
    work = join(machine.root, 'client');
    await mkdir(work);
    // The CLI with the test core's data folder (where `box` was added) and local dirs (testHostCore's).
    const env = {
      PATH: process.env.PATH,
      ONGGI_HOME: join(machine.root, 'data'),
      ONGGI_LOCAL_RUN_DIR: join(machine.root, 'local/run'),
      ONGGI_LOCAL_STATE_DIR: join(machine.root, 'local/state'),
      // The forward writes the docker context onggi-box: into the test's folder, not this machine's ~/.docker.
      DOCKER_CONFIG: work,
    };
    forward = await startForward([process.execPath, CLI, 'docker-forward', '--machine', 'box'], env);
    dockerHost = forward.dockerHost;
    expect(existsSync(join(work, 'contexts', 'meta'))).toBe(true);
    expect(dockerHost).toBe(`unix://${join(machine.root, 'data/docker/box.sock')}`);
    // The image goes in through the forward too (`docker import` streams the body over SSH): a
    // busybox rootfs with every applet and a page for httpd.
    const rootfs = await makeBusyboxLayer(join(machine.root, 'rootfs'));
    await mkdir(join(rootfs, 'www'));
    await writeFile(join(rootfs, 'www/index.html'), 'hello from onggi\n');
    await tar.c({ cwd: rootfs, file: join(machine.root, 'netbox.tar') }, ['.']);
    const imported = await docker('import', join(machine.root, 'netbox.tar'), IMAGE);
    if (imported.code !== 0) throw new Error(`docker import: ${imported.err}`);
  }, 300_000);

  afterAll(async () => {
    await machine?.stop(async () => forward?.stop());
  }, 60_000);

  it('docker CLI: version, run --rm IMG echo hi, run -i with stdin, ps -a', async () => {
    const version = await docker('version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}');
    expect(version.code, version.err).toBe(0);
    expect(version.out.trim()).toMatch(/onggi .*1\.41$|^\S+ 1\.41$/);
    const run = await docker('run', '--rm', IMAGE, 'echo', 'hi');
    expect(run.err).toBe('');
    expect(run.out).toBe('hi\n');
    // stdin through the hijacked attach: docker half-closes after the input and still reads the output.
    const piped = await tool([DOCKER, 'run', '--rm', '-i', IMAGE, 'sh', '-c', 'tr a-z A-Z; echo done'], undefined, 'through ssh\n');
    expect(piped.out).toBe('THROUGH SSH\ndone\n');
    expect((await docker('run', '-d', '--name', 'kept', IMAGE, 'sleep', '1000')).code).toBe(0);
    const ps = await docker('ps', '-a', '--format', '{{.Names}} {{.Image}} {{.State}}');
    expect(ps.out.trim().split('\n')).toEqual(['kept netbox:latest running']); // the --rm one is gone
    expect((await docker('rm', '-f', 'kept')).code).toBe(0);
    expect((await docker('ps', '-a', '-q')).out.trim()).toBe('');
  });

  it.skipIf(!existsSync(COMPOSE))('docker-compose up -d / ps / down -v: a published port, a named volume, environment', async () => {
    // YAML is a superset of JSON: the file as compose reads it, written from an object.
    const file = {
      version: '3.7',
      services: {
        web: {
          image: IMAGE,
          command: ['sh', '-c', 'echo web says $$GREETING > /data/greeting; exec httpd -f -p 80 -h /www'],
          environment: { GREETING: 'annyeong' },
          ports: ['80'],
          volumes: ['data:/data'],
        },
      },
      volumes: { data: {} },
    };
    await writeFile(join(work, 'docker-compose.yml'), JSON.stringify(file));
    const compose = (...args: string[]) => tool([COMPOSE, ...args], work);
    const up = await compose('up', '-d');
    expect(up.code, up.err).toBe(0);
    expect((await compose('ps')).out).toMatch(/pot_web_1 .* Up .*->80\/tcp/);
    expect((await docker('exec', 'pot_web_1', 'cat', '/data/greeting')).out).toBe('web says annyeong\n');
    expect((await docker('volume', 'ls', '--format', '{{.Name}}')).out).toContain('pot_data');
    const down = await compose('down', '-v', '-t', '1');
    expect(down.code, down.err).toBe(0);
    expect((await docker('ps', '-a', '-q')).out.trim()).toBe('');
    expect((await docker('volume', 'ls', '-q')).out).not.toContain('pot_data');
    expect((await docker('network', 'ls', '--format', '{{.Name}}')).out).not.toContain('pot_default');
  });

  it('dockerode: a container run to completion, its output demultiplexed', async () => {
    const client = new Docker({ socketPath: dockerHost.replace(/^unix:\/\//, '') });
    const info = await client.info();
    expect(info.OSType).toBe('linux');
    const container = await client.createContainer({ Image: IMAGE, Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    await container.start();
    expect((await container.wait()).StatusCode).toBe(3);
    const logs = (await container.logs({ stdout: true, stderr: true })) as Buffer;
    // stdcopy frames: 8-byte header (stream, 0, 0, 0, size BE) then the payload.
    const frames: string[] = [];
    for (let at = 0; at < logs.length; at += 8 + logs.readUInt32BE(at + 4))
      frames.push(`${logs[at]}:${logs.subarray(at + 8, at + 8 + logs.readUInt32BE(at + 4)).toString()}`);
    expect(frames).toEqual(['1:out\n', '2:err\n']);
    await container.remove();
  });

  it('docker run -d -p: the published port listens on this computer once run has returned (as with Docker Desktop)', async () => {
    const port = await freeLocalPort();
    try {
      const run = await docker('run', '-d', '--name', 'published', '-p', `${port}:8080`, IMAGE, 'sleep', '1000');
      expect(run.code, run.err).toBe(0);
      // At once, no retry: the forward used to open on the container's state event, a moment later.
      expect(await connects(port)).toBe(true);
    } finally {
      expect((await docker('rm', '-f', 'published')).code).toBe(0);
    }
  });

  it('testcontainers: GenericContainer with an exposed port and Wait.forLogMessage; the mapped port answers on localhost', async () => {
    const run = await runTestcontainers(
      [],
      dockerHost,
      work,
      {
        image: IMAGE,
        port: 8080,
        message: 'listening',
        command: ['sh', '-c', 'trap "exit 0" TERM; httpd -p 8080 -h /www && echo listening; sleep 1000 & wait'],
      },
      // This test machine is itself a container (/.dockerenv), where testcontainers would go to the
      // default bridge's gateway: on an SSH machine that address is the machine's, not this desktop's.
      { TESTCONTAINERS_HOST_OVERRIDE: 'localhost' },
    );
    expect(run.code, run.err).toBe(0);
    expect(run.report?.host).toBe('localhost');
    expect(run.report?.attempts).toBe(1); // the port answered here as soon as the log line was out
    expect(run.report?.answer).toMatch(/^HTTP\/1\.[01] 200 OK\r\n[^]*\r\n\r\nhello from onggi\n$/);
    expect((await docker('ps', '-a', '-q')).out.trim()).toBe('');
  });
});
