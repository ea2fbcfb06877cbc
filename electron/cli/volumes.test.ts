// Issue 13's mounts and volumes end to end, as a user types them: the built `onggi` CLI against a
// real local agent (own dirs and cgroup parent) and a busybox image from the test registry.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiskUsage } from '../../shared/disk-usage.js';
import type { VolumeSummary } from '../../shared/volumes.js';
import { gnuDu } from '../../build/testing/gnu-du.js';
import { CLI, isolatedAgent, type IsolatedAgent } from '../../build/testing/isolated-agent.js';
import { useRegistryImages } from '../../build/testing/test-images.js';

let sandbox: IsolatedAgent;
let scratch: string;
const fixture = useRegistryImages();

beforeAll(async () => {
  sandbox = await isolatedAgent();
  scratch = await mkdtemp(join(tmpdir(), 'onggi-volumes-cli-'));
});

afterAll(async () => {
  await sandbox?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function onggi(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { env: sandbox.env, encoding: 'utf8', timeout: 120_000 });
  return { code: run.status, out: run.stdout, err: run.stderr };
}
const ok = (...args: string[]) => {
  const run = onggi(...args);
  expect(run.code, `onggi ${args.join(' ')}: ${run.err}`).toBe(0);
  return run.out;
};
const volumes = () => JSON.parse(ok('volume', 'ls', '--json')) as VolumeSummary[];

describe('onggi run -v/--mount/--tmpfs and onggi volume', () => {
  let image = '';

  it('binds a folder of the machine both ways, read-only when asked, and a tmpfs', async () => {
    ok('image', 'pull', '--insecure', fixture.images.refs.busybox);
    image = fixture.images.refs.busybox;
    const site = join(scratch, 'site');
    const made = ok('run', '--rm', '-v', `${site}:/site`, image, 'sh', '-c', 'echo from-container > /site/index.html');
    expect(made).toBe('');
    expect(await readFile(join(site, 'index.html'), 'utf8')).toBe('from-container\n');
    await writeFile(join(site, 'index.html'), 'edited on the machine\n');
    const ro = onggi(
      'run',
      '--rm',
      '-v',
      `${site}:/site:ro`,
      '--tmpfs',
      '/cache:size=1m,mode=700',
      image,
      'sh',
      '-c',
      'cat /site/index.html; stat -c %a /cache; echo x > /site/index.html',
    );
    expect(ro.out).toBe('edited on the machine\n700\n');
    expect(ro.err).toContain('Read-only file system');
    expect(ro.code).not.toBe(0);
    expect(await readFile(join(site, 'index.html'), 'utf8')).toBe('edited on the machine\n');
  });

  it('keeps a named volume across rm -f; volume rm of one in use is refused naming the container', () => {
    ok('run', '-d', '--name', 'db', '-v', 'pgdata:/data', image, 'sh', '-c', 'echo row > /data/table; exec sleep 1000');
    expect(volumes().find((v) => v.name === 'pgdata')?.containers).toEqual(['db']);
    const refused = onggi('volume', 'rm', 'pgdata');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('volume pgdata is in use by container db');
    ok('rm', '-f', 'db');
    expect(ok('run', '--rm', '--mount', 'type=volume,src=pgdata,dst=/d,readonly', image, 'cat', '/d/table')).toBe('row\n');
    expect(ok('volume', 'rm', 'pgdata')).toBe('pgdata\n');
    expect(volumes().map((v) => v.name)).not.toContain('pgdata');
  });

  it('rm -v removes a container’s anonymous volumes; run --rm does too', () => {
    ok('run', '--name', 'anon', '-v', '/scratch', image, 'sh', '-c', 'echo a > /scratch/f');
    const mine = volumes().filter((v) => v.containers.includes('anon'));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.anonymous).toBe(true);
    ok('rm', '-v', 'anon');
    expect(volumes()).toEqual([]);
    ok('run', '--rm', '-v', '/scratch', image, 'true');
    expect(volumes()).toEqual([]);
  });

  it('volume create, inspect, ls, prune; system df counts volumes', () => {
    expect(ok('volume', 'create', 'keep')).toBe('keep\n');
    const [inspected] = JSON.parse(ok('volume', 'inspect', 'keep')) as VolumeSummary[];
    expect(inspected).toMatchObject({ name: 'keep', anonymous: false, containers: [] });
    expect(inspected?.mountpoint).toBe(join(sandbox.stateDir, 'volumes', 'keep', '_data'));
    expect(ok('volume', 'ls')).toMatch(/^DRIVER\s+VOLUME NAME\s+CONTAINERS\nlocal\s+keep\s*\n/);
    expect(ok('volume', 'ls', '--size')).toMatch(/^DRIVER\s+VOLUME NAME\s+SIZE\s+CONTAINERS\nlocal\s+keep\s+\d/);
    ok('run', '--name', 'left', '-v', '/junk', image, 'sh', '-c', 'head -c 300000 /dev/zero > /junk/blob');
    ok('rm', 'left');
    const df = JSON.parse(ok('system', 'df', '--json')) as DiskUsage;
    const dirs = volumes().map((v) => join(sandbox.stateDir, 'volumes', v.name));
    // Sizes as du counts them, each volume's directory (record and data) once.
    expect(df.rows.find((r) => r.type === 'volumes')).toEqual({
      type: 'volumes',
      total: 2,
      active: 0,
      size: gnuDu(dirs),
      reclaimable: gnuDu(dirs),
    });
    expect(gnuDu(dirs)).toBeGreaterThan(300_000);
    // Without -a only the anonymous one goes (Docker 23's rule); system prune --volumes goes by the same rule.
    const pruned = ok('system', 'prune', '--volumes', '-f');
    expect(pruned).toMatch(/Deleted Volumes:\n[a-f0-9]{64}\n/);
    expect(volumes().map((v) => v.name)).toEqual(['keep']);
    ok('volume', 'prune', '-a', '-f');
    expect(volumes()).toEqual([]);
  });

  it('refuses bad names, a missing --mount source and /proc, naming the field, leaving nothing made', () => {
    const badName = onggi('volume', 'create', 'a..b');
    expect(badName.code).toBe(1);
    expect(badName.err).toMatch(/params\.name.*must not contain "\.\."|must not contain "\.\.".*params\.name/);
    const missing = join(scratch, 'missing');
    const noSource = onggi('run', '--mount', `type=bind,src=${missing},dst=/x`, '-v', 'never:/v', image, 'true');
    expect(noSource.code).toBe(1);
    expect(noSource.err).toContain(`bind source path does not exist: ${missing}`);
    expect(noSource.err).toContain('params.mounts.1.source');
    const proc = onggi('run', '-v', '/proc:/host-proc', image, 'true');
    expect(proc.err).toContain('/proc of the machine is not given to containers');
    expect(existsSync(missing)).toBe(false);
    expect(JSON.parse(ok('ps', '-a', '--json'))).toEqual([]);
    expect(volumes()).toEqual([]);
  });
});
