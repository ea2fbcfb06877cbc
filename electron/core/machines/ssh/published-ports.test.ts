// Published ports forwarded to this computer, through a real OpenSSH server on 127.0.0.1, and a
// local file uploaded over its SFTP. The "machine" is this host: its published port is a real HTTP
// server on 127.0.0.2 (so it cannot collide with the forward's own 127.0.0.1 listener); the
// machine's container list is scripted, since what is tested is the following of container state.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, get, type Server } from 'node:http';
import { createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startSshd, type Sshd } from '../../../../build/testing/sshd.js';
import { connectToSshd } from '../../../../build/testing/sshd-connection.js';
import type { ContainerSummary } from '../../../../shared/containers.js';
import type { PortForwardState } from '../../../../shared/machines.js';
import type { AgentLink } from '../../agent/agent-link.js';
import { forwardPort } from './port-forward.js';
import { PublishedPorts } from './published-ports.js';
import { type SshConnection } from './ssh-connection.js';
import { uploadFile } from './upload.js';

let sshd: Sshd;
let dir: string;
let connection: SshConnection;
let web: Server;
let webPort: number;
let busy: NetServer;
let busyPort: number;

beforeAll(async () => {
  sshd = await startSshd();
  dir = await mkdtemp(join(tmpdir(), 'onggi-ports-'));
  connection = await connectToSshd(sshd, join(dir, 'known_hosts'));
  webPort = await freePort();
  web = createHttpServer((request, response) => response.end(`hello from the machine: ${request.url}`));
  await new Promise<void>((resolve) => web.listen(webPort, '127.0.0.2', resolve));
  // A port this computer already uses.
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const address = busy.address();
  busyPort = typeof address === 'object' && address ? address.port : 0;
});
afterAll(async () => {
  connection?.close();
  await new Promise((resolve) => web?.close(resolve));
  await new Promise((resolve) => busy?.close(resolve));
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

function fetchLocal(port: number, path: string, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host, port, path, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body));
    }).once('error', reject);
  });
}

function container(name: string, state: ContainerSummary['state'], hostPort: number): ContainerSummary {
  return {
    id: `${name}`.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a'),
    name,
    image: 'web:1',
    imageId: `sha256:${'0'.repeat(64)}`,
    command: ['httpd'],
    state,
    pid: state === 'running' ? 4242 : null,
    exitCode: null,
    oomKilled: false,
    error: null,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    ports: [{ hostIp: '0.0.0.0', hostPort, containerPort: 80, protocol: 'tcp' }],
  };
}

describe('published ports follow container state', () => {
  it('opens a forward when the container runs, carries HTTP through SSH, closes it when it stops; a port in use here is a conflict', async () => {
    let containers: ContainerSummary[] = [];
    const link = {
      call: (method: string) => Promise.resolve(method === 'containers.list' ? containers : undefined),
    } as unknown as AgentLink;
    const events: PortForwardState[] = [];
    const ports = new PublishedPorts(
      {
        name: 'box',
        agent: () => Promise.resolve(link),
        forwardPort: (spec) => forwardPort(() => Promise.resolve(connection), spec),
      },
      (event) => events.push(event),
      '127.0.0.2',
    );
    await ports.sync();
    expect(ports.list()).toEqual([]);

    containers = [container('web', 'running', webPort)];
    await ports.sync();
    // Both loopbacks: `localhost` is ::1 first on macOS and in browsers.
    expect(events).toEqual([
      {
        machine: 'box',
        container: 'web',
        hostPort: webPort,
        containerPort: 80,
        localAddress: `127.0.0.1:${webPort}, [::1]:${webPort}`,
        state: 'open',
      },
    ]);
    expect(await fetchLocal(webPort, '/through-ssh')).toBe('hello from the machine: /through-ssh');
    expect(await fetchLocal(webPort, '/over-ipv6', '::1')).toBe('hello from the machine: /over-ipv6');
    await ports.sync(); // nothing changed: nothing reopened
    expect(events).toHaveLength(1);

    containers = [container('web', 'exited', webPort)];
    await ports.sync();
    expect(events.at(-1)).toMatchObject({ container: 'web', state: 'closed' });
    await expect(fetchLocal(webPort, '/')).rejects.toThrow(/ECONNREFUSED/);
    await expect(fetchLocal(webPort, '/', '::1')).rejects.toThrow(/ECONNREFUSED/);

    containers = [container('clash', 'running', busyPort)];
    await ports.sync();
    expect(events.at(-1)).toMatchObject({ container: 'clash', hostPort: busyPort, state: 'conflict' });
    expect(events.at(-1)?.error).toMatch(new RegExp(`127\\.0\\.0\\.1:${busyPort} is already in use on this computer`));
    await ports.sync(); // reported once, not retried in a loop
    expect(events.filter((event) => event.state === 'conflict')).toHaveLength(1);
    await ports.close();
  });

  it('another program on [::1] and the same port: the forward opens on 127.0.0.1 and the user is told localhost may reach that program', async () => {
    const other = createServer((socket) => socket.end('another program'));
    await new Promise<void>((resolve) => other.listen(0, '::1', resolve));
    const address = other.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const events: PortForwardState[] = [];
    const link = {
      call: (method: string) => Promise.resolve(method === 'containers.list' ? [container('web', 'running', port)] : undefined),
    } as unknown as AgentLink;
    const ports = new PublishedPorts(
      { name: 'box', agent: () => Promise.resolve(link), forwardPort: (spec) => forwardPort(() => Promise.resolve(connection), spec) },
      (event) => events.push(event),
      '127.0.0.2',
    );
    try {
      await ports.sync();
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ state: 'open', localAddress: `127.0.0.1:${port}` });
      expect(events[0]?.error).toBe(
        `another program listens on [::1]:${port}, so localhost:${port} may reach it instead of the container (macOS and browsers try ::1 first); use 127.0.0.1:${port}`,
      );
    } finally {
      await ports.close();
      await new Promise((resolve) => other.close(resolve));
    }
  });
});

describe('uploading a local file over SFTP', () => {
  it('copies it byte for byte into a fresh 0600 file in /tmp with progress, and removes it after', async () => {
    const local = join(dir, 'image.tar');
    const content = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(local, content);
    const progress: Array<[number, number]> = [];
    const uploaded = await uploadFile(connection, local, (bytes, total) => progress.push([bytes, total]));
    expect(uploaded.remotePath).toMatch(/^\/tmp\/onggi-upload-[0-9a-f]{32}$/);
    expect(uploaded.bytes).toBe(content.length);
    // The machine is this host: read the remote copy directly.
    expect((await readFile(uploaded.remotePath)).equals(content)).toBe(true);
    expect((await stat(uploaded.remotePath)).mode & 0o777).toBe(0o600);
    expect(progress[0]).toEqual([0, content.length]);
    expect(progress.at(-1)).toEqual([content.length, content.length]);
    expect(progress.every(([bytes], index) => index === 0 || bytes >= (progress[index - 1]?.[0] ?? 0))).toBe(true);
    await uploaded.remove();
    await expect(stat(uploaded.remotePath)).rejects.toThrow(/ENOENT/);
    await expect(uploadFile(connection, join(dir, 'missing.tar'))).rejects.toThrow(/cannot read .*missing\.tar/);
  });
});
