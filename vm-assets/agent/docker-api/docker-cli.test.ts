// The Docker Engine API against real docker clients: Debian's docker CLI 20.10 (API 1.41) and the
// newer client on this machine (which must negotiate down after /_ping), on a real local agent of
// the test's own, images from the loopback registry the other suites use.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedAgent, spawnDaemon, type IsolatedAgent } from '../../../build/testing/isolated-agent.js';
import { useRegistryImages } from '../../../build/testing/test-images.js';

const DEBIAN_DOCKER = '/usr/bin/docker';
const NEWER_DOCKER = '/usr/local/bin/docker';

let sandbox: IsolatedAgent;
let configDir: string;
const fixture = useRegistryImages();

beforeAll(async () => {
  sandbox = await isolatedAgent();
  await spawnDaemon(sandbox);
  configDir = await mkdtemp(join(tmpdir(), 'onggi-docker-config-'));
});

afterAll(async () => {
  await sandbox?.cleanup();
  if (configDir) await rm(configDir, { recursive: true, force: true });
});

function dockerSocket(): string {
  return join(sandbox.runDir, 'docker.sock');
}

function docker(bin: string, ...args: string[]) {
  const run = spawnSync(bin, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH, HOME: configDir, DOCKER_CONFIG: configDir, DOCKER_HOST: `unix://${dockerSocket()}` },
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe('the Docker API socket', () => {
  it('is served beside the agent socket, root only', async () => {
    const info = await stat(dockerSocket());
    expect(info.isSocket()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
  });
});

for (const [label, bin] of [
  ['docker 20.10 (API 1.41)', DEBIAN_DOCKER],
  ['the newer docker client (negotiates down)', NEWER_DOCKER],
] as const) {
  describe.skipIf(!existsSync(bin))(`${label}: ${bin}`, () => {
    const d = (...args: string[]) => docker(bin, ...args);
    const tag = bin === DEBIAN_DOCKER ? 'd20' : 'd28';

    it('version and info', () => {
      const version = d('version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}');
      expect(version.err).toBe('');
      expect(version.out.trim()).toBe('1.41 linux');
      const info = d('info', '--format', '{{.OSType}} {{.Driver}} {{.NCPU}}');
      expect(info.code).toBe(0);
      expect(info.out.trim()).toMatch(/^linux overlay2 \d+$/);
    });

    it('pull, images, tag, inspect an image', () => {
      const ref = fixture.images.refs.busybox;
      const pull = d('pull', ref);
      expect(pull.err).toBe('');
      expect(pull.code).toBe(0);
      expect(pull.out).toContain('Downloaded newer image');
      const images = d('images', '--format', '{{.Repository}}:{{.Tag}}');
      expect(images.out.split('\n')).toContain(ref);
      expect(d('tag', ref, `retagged-${tag}:v1`).code).toBe(0);
      expect(d('image', 'inspect', '--format', '{{.Os}}', `retagged-${tag}:v1`).out.trim()).toBe('linux');
      expect(d('rmi', `retagged-${tag}:v1`).out).toContain(`Untagged: retagged-${tag}:v1`);
      const missing = d('image', 'inspect', 'nothing-here:v9');
      expect(missing.code).not.toBe(0);
      expect(missing.err).toContain('No such image');
    });

    it('run --rm prints output and passes the exit code', () => {
      const run = d('run', '--rm', '-e', 'WORD=annyeong', fixture.images.refs.busybox, 'sh', '-c', 'echo $WORD; echo oops >&2; exit 3');
      expect(run.out).toBe('annyeong\n');
      expect(run.err).toBe('oops\n');
      expect(run.code).toBe(3);
      expect(d('ps', '-a', '-q').out.trim()).toBe('');
    });

    it('run -d with a name, labels, a volume; ps filters and formats; logs, exec, inspect, stop, rm -f', async () => {
      const volume = `data-${tag}`;
      expect(d('volume', 'create', volume).code).toBe(0);
      expect(d('volume', 'ls', '--format', '{{.Name}}').out.split('\n')).toContain(volume);
      const run = d('run', '-d', '--name', `web-${tag}`, '--label', 'team=pot', '-e', 'GREETING=hi', '-v', `${volume}:/data`, fixture.images.refs.busybox, 'sh', '-c', 'echo $GREETING; echo saved > /data/f; exec sleep 1000');
      expect(run.err).toBe('');
      const id = run.out.trim();
      expect(id).toMatch(/^[a-f0-9]{64}$/);
      const ps = d('ps', '--filter', 'label=team=pot', '--format', '{{.Names}} {{.Status}}');
      expect(ps.out).toMatch(new RegExp(`^web-${tag} Up`));
      expect(d('ps', '--filter', 'label=team=other', '-q').out.trim()).toBe('');
      let logs = '';
      for (let i = 0; i < 100 && !logs; i += 1) {
        logs = d('logs', `web-${tag}`).out;
        if (!logs) await new Promise((r) => setTimeout(r, 50));
      }
      expect(logs).toBe('hi\n');
      const exec = d('exec', `web-${tag}`, 'sh', '-c', 'cat /data/f; echo err >&2; exit 4');
      expect(exec.out).toBe('saved\n');
      expect(exec.err).toBe('err\n');
      expect(exec.code).toBe(4);
      const inspect = JSON.parse(d('inspect', `web-${tag}`).out) as Array<{ Id: string; Name: string; State: { Running: boolean }; Config: { Labels: Record<string, string> } }>;
      expect(inspect[0]).toMatchObject({ Id: id, Name: `/web-${tag}`, State: { Running: true }, Config: { Labels: { team: 'pot' } } });
      expect(d('stop', '-t', '1', `web-${tag}`).code).toBe(0);
      expect(d('ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}').out.trim()).toBe(`web-${tag}`);
      expect(d('rm', '-f', `web-${tag}`).code).toBe(0);
      expect(d('ps', '-a', '-q').out.trim()).toBe('');
      expect(d('volume', 'rm', volume).code).toBe(0);
    });

    it('refuses what Onggi does not do, naming it', () => {
      const privileged = d('run', '--rm', '--privileged', fixture.images.refs.busybox, 'true');
      expect(privileged.code).not.toBe(0);
      expect(privileged.err).toContain('HostConfig.Privileged is not supported by Onggi');
      const runtime = d('run', '--rm', '--runtime', 'kata', fixture.images.refs.busybox, 'true');
      expect(runtime.err).toContain('HostConfig.Runtime is not supported by Onggi');
    });
  });
}
