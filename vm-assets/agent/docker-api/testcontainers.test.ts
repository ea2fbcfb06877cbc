// testcontainers for Node (npm, 11.x) against the Docker API of the local machine, through the
// desktop's forward: a GenericContainer with an exposed port and a wait-for-log strategy, then a
// conversation with the container on the host and port testcontainers maps. The agent runs in a
// network lab of its own (its bridge, NAT and published ports live in the lab's machine netns), so
// the testcontainers client runs in that netns too, where `localhost:PORT` is the machine's, as it
// is for a developer's test suite on their own machine. The image is the lab's `netbox`.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabForward, type RunningForward } from '../../../build/testing/docker-forward.js';
import { IMAGE, createLab, type NetnsLab } from '../../../build/testing/netns-lab.js';
import { runTestcontainers } from '../../../build/testing/testcontainers-client.js';

const isRoot = process.getuid?.() === 0;
/** httpd is listening once `httpd` (without -f) returns: it binds, then goes to the background. */
const SERVER = {
  image: IMAGE,
  port: 8080,
  message: 'listening',
  command: ['sh', '-c', 'trap "exit 0" TERM; httpd -p 8080 -h /www && echo listening; sleep 1000 & wait'],
};

let lab: NetnsLab;
let home: string;
let forward: RunningForward | undefined;
let docker: Docker;
/** The default bridge's gateway, as the API reports it (where testcontainers goes from a container). */
let gateway = '';

describe.skipIf(!isRoot)('testcontainers over the Docker API (local machine)', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    lab = await createLab();
    home = await mkdtemp(join(tmpdir(), 'onggi-testcontainers-'));
    forward = await startLabForward(lab);
    docker = new Docker({ socketPath: forward.dockerHost.replace(/^unix:\/\//, '') });
    const ipam = (await docker.getNetwork('bridge').inspect()) as { IPAM: { Config: Array<{ Gateway?: string }> } };
    gateway = ipam.IPAM.Config[0]?.Gateway ?? '';
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  }, 120_000);

  afterAll(async () => {
    await forward?.stop();
    await lab?.cleanup();
    if (home) await rm(home, { recursive: true, force: true });
  });

  // testcontainers reaches a container at `localhost` on a desktop, and at the default bridge's
  // gateway when it finds itself in a container (/.dockerenv, as on this CI machine, or a dev
  // container): both are asked, the second by TESTCONTAINERS_HOST_OVERRIDE where it would not choose it.
  const inContainer = existsSync('/.dockerenv');
  it.each(['localhost', 'the bridge gateway'])(
    'GenericContainer with an exposed port and Wait.forLogMessage, reached at %s: the mapped port answers; stop removes it',
    async (host) => {
      const chosen = (host === 'localhost') === !inContainer; // what testcontainers picks by itself
      const env: Record<string, string> = chosen ? {} : { TESTCONTAINERS_HOST_OVERRIDE: host === 'localhost' ? 'localhost' : gateway };
      const run = await runTestcontainers(['nsenter', `--net=/run/netns/${lab.machine}`], forward?.dockerHost ?? '', home, SERVER, env);
      expect(run.code, run.err).toBe(0);
      expect(run.report?.host).toBe(host === 'localhost' ? 'localhost' : gateway);
      expect(run.report?.mappedPort).toBeGreaterThan(0);
      expect(run.report?.mappedPort).not.toBe(SERVER.port);
      expect(run.report?.answer).toMatch(/^HTTP\/1\.[01] 200 OK\r\n[^]*\r\n\r\nhello from onggi\n$/);
      expect(run.report?.attempts).toBe(1); // published before start answered: nothing to wait for locally
      const left = await docker.listContainers({ all: true });
      expect(left.map((c) => c.Id)).not.toContain(run.report?.id);
    },
  );
});
