// Issue 21 item 4 end to end: the built `onggi` CLI against a real local agent (own dirs and cgroup
// parent). Dangling images are made the way users make them — importing a changed rootfs under the
// same name — and every size system df prints is compared with GNU du on the agent's state dirs.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gnuDu } from '../../build/testing/gnu-du.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiskUsage, PruneResult } from '../../shared/disk-usage.js';
import { connectAgent, fieldsOfErrors } from '../../build/testing/agent-client.js';
import { CLI, isolatedAgent, type IsolatedAgent } from '../../build/testing/isolated-agent.js';
import { useRegistryImages } from '../../build/testing/test-images.js';

let sandbox: IsolatedAgent;
let scratch: string;
const fixture = useRegistryImages();

beforeAll(async () => {
  sandbox = await isolatedAgent();
  scratch = await mkdtemp(join(tmpdir(), 'onggi-prune-'));
});

afterAll(async () => {
  await sandbox?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function onggi(args: string[], input = '') {
  const run = spawnSync(process.execPath, [CLI, ...args], { env: sandbox.env, encoding: 'utf8', timeout: 120_000, input });
  return { code: run.status, out: run.stdout, err: run.stderr };
}
const ok = (...args: string[]) => {
  const run = onggi(args);
  expect(run.code, `onggi ${args.join(' ')}: ${run.err}`).toBe(0);
  return run.out;
};
const json = <T>(...args: string[]) => JSON.parse(ok(...args, '--json')) as T;

const du = gnuDu;

/** The busybox rootfs with a marker file: each version is a new layer, hence a new image. */
async function rootfsVersion(version: number): Promise<string> {
  const tarball = join(scratch, `app-${version}.tar`);
  await copyFile(fixture.images.archives.rootfsTar, tarball);
  const dir = join(scratch, `marker-${version}`);
  execFileSync('mkdir', ['-p', dir]);
  await writeFile(join(dir, 'version'), `${version}\n`.repeat(2000 * version));
  execFileSync('tar', ['-rf', tarball, '-C', dir, './version']);
  return tarball;
}

const importApp = async (version: number) =>
  ok('image', 'import', '--kind', 'rootfs', '--name', 'onggi-test/app:v1', await rootfsVersion(version))
    .trim()
    .split(' ')
    .at(-1) as string;

const imagesRoot = () => join(sandbox.stateDir, 'images');
const containersRoot = () => join(sandbox.stateDir, 'containers');
const imageIds = () => json<Array<{ id: string }>>('image', 'ls').map((i) => i.id);
const layerDirsOf = (id: string) =>
  (JSON.parse(ok('image', 'inspect', id)) as { layerDetails: Array<{ dir: string }> }).layerDetails.map((l) => l.dir);

describe('image prune, container prune, system df, system prune', () => {
  const ids: Record<string, string> = {};

  it('image prune removes exactly the dangling images no container uses, after saying what it will remove', async () => {
    ok('image', 'pull', '--insecure', fixture.images.refs.busybox);
    ids.busybox = imageIds()[0] as string;
    ok('run', '-d', '--name', 'running', fixture.images.refs.busybox, 'sleep', '1000');
    ids.v1 = await importApp(1);
    expect(onggi(['run', '--name', 'stopped', 'onggi-test/app:v1', 'true']).code).toBe(0);
    ids.v2 = await importApp(2); // v1 is now dangling, but `stopped` uses it
    ids.v3 = await importApp(3); // v2 dangling, unused
    ids.v4 = await importApp(4); // v3 dangling, unused; v4 is onggi-test/app:v1
    expect(new Set(Object.values(ids)).size).toBe(5);
    const doomedLayers = [...layerDirsOf(ids.v2 as string), ...layerDirsOf(ids.v3 as string)];
    const keptLayers = [...layerDirsOf(ids.v1 as string), ...layerDirsOf(ids.v4 as string)];
    const listed = json<Array<{ id: string; names: string[] }>>('image', 'ls');
    expect(
      listed
        .filter((i) => i.names.length === 0)
        .map((i) => i.id)
        .sort(),
    ).toEqual([ids.v1, ids.v2, ids.v3].sort());

    // Without -f it shows the plan and asks; end of input is a "no": nothing goes.
    const asked = onggi(['image', 'prune'], '');
    expect(asked.code).toBe(0);
    expect(asked.err).toContain('This will remove:');
    expect(asked.err).toContain((ids.v2 as string).slice(7, 19));
    expect(asked.err).toContain((ids.v3 as string).slice(7, 19));
    expect(asked.err).not.toContain((ids.v1 as string).slice(7, 19));
    expect(imageIds()).toHaveLength(5);

    const planned = du(doomedLayers);
    const pruned = ok('image', 'prune', '-f');
    expect(pruned).toContain(`deleted: ${ids.v2}`);
    expect(pruned).toContain(`deleted: ${ids.v3}`);
    expect(pruned).toMatch(/Total reclaimed space: /);
    expect(imageIds().sort()).toEqual([ids.busybox, ids.v1, ids.v4].sort());
    for (const dir of doomedLayers) expect(existsSync(dir)).toBe(false);
    for (const dir of keptLayers) expect(existsSync(dir)).toBe(true);
    expect(planned).toBeGreaterThan(0);
    // Nothing dangling and unused is left: a second prune removes nothing.
    expect(ok('image', 'prune', '-f')).toBe('Total reclaimed space: 0 B\n');
  });

  it('system df: every size is what du measures on the state directories', async () => {
    // A created (never started) container and a container with logs.
    const agent = await connectAgent(sandbox.socketPath);
    try {
      await agent.call('containers.create', { image: fixture.images.refs.busybox, name: 'created', command: ['true'] });
    } finally {
      agent.close();
    }
    expect(onggi(['run', '--name', 'talker', fixture.images.refs.busybox, 'sh', '-c', 'seq 1 20000']).code).toBe(0);
    const usage = json<DiskUsage>('system', 'df');
    const row = (type: string) => usage.rows.find((r) => r.type === type);
    const layerDirs = readdirSync(join(imagesRoot(), 'layers')).map((n) => join(imagesRoot(), 'layers', n));
    expect(row('images')).toEqual({
      type: 'images',
      total: 3,
      active: 2, // busybox (running, created, talker), v1 (stopped)
      size: du(layerDirs),
      reclaimable: du(layerDirsOf(ids.v4 as string).filter((d) => !layerDirsOf(ids.v1 as string).includes(d))),
    });
    const dirs = readdirSync(containersRoot()).map((n) => join(containersRoot(), n));
    expect(dirs).toHaveLength(4);
    // The logs directory as a whole (the current log, the rotated ones and its own blocks).
    const logsOf = (dir: string) => (existsSync(join(dir, 'logs')) ? [join(dir, 'logs')] : []);
    const byName = Object.fromEntries(usage.containers.map((c) => [c.name, c]));
    for (const dir of dirs) {
      const entry = usage.containers.find((c) => dir.endsWith(c.id));
      expect(entry).toBeDefined();
      expect(entry?.logs).toBe(du(logsOf(dir)));
      // The container's dir minus its logs: du -x leaves the running one's rootfs mount out.
      expect((entry?.size ?? 0) + (entry?.logs ?? 0)).toBe(du([dir]));
    }
    expect(byName.talker?.logs).toBeGreaterThan(100_000);
    expect(row('containers')).toMatchObject({ total: 4, active: 1 });
    expect((row('containers')?.size ?? 0) + (row('logs')?.size ?? 0)).toBe(du(dirs));
    const stoppedDirs = dirs.filter((d) => !d.endsWith(usage.containers.find((c) => c.name === 'running')?.id ?? '-'));
    expect((row('containers')?.reclaimable ?? 0) + (row('logs')?.reclaimable ?? 0)).toBe(du(stoppedDirs));
    const table = ok('system', 'df');
    expect(table).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+3\s+2\s+/);
    expect(table).toMatch(/\nContainers\s+4\s+1\s+/);
    expect(table).toMatch(/\nContainer logs\s+/);
    expect(ok('system', 'df', '-v')).toMatch(/Containers space usage:[\s\S]*talker/);
  });

  it('container prune removes exited and created containers, keeps the running one, and leaves nothing behind', () => {
    const details = Object.fromEntries(
      ['running', 'stopped', 'created', 'talker'].map((name) => [name, json<{ id: string; cgroup: { paths: string[] } }>('inspect', name)]),
    );
    const result = ok('container', 'prune', '-f');
    for (const name of ['stopped', 'created', 'talker']) expect(result).toContain(details[name]?.id);
    expect(result).not.toContain(details.running?.id);
    expect(json<Array<{ name: string; state: string }>>('ps', '-a').map((c) => `${c.name}:${c.state}`)).toEqual(['running:running']);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    for (const name of ['stopped', 'created', 'talker']) {
      const id = details[name]?.id as string;
      expect(existsSync(join(containersRoot(), id))).toBe(false);
      expect(mounts).not.toContain(id);
      for (const path of details[name]?.cgroup.paths ?? []) expect(existsSync(path)).toBe(false);
    }
    expect(existsSync(join(containersRoot(), details.running?.id as string))).toBe(true);
    expect(mounts).toContain(details.running?.id);
  });

  it('image prune -a keeps only images containers use; system prune -a then takes the rest once containers go', () => {
    // v1 lost its last user with `stopped`: now it is dangling and unused too.
    const all = ok('image', 'prune', '-a', '-f');
    expect(all).toContain(`deleted: ${ids.v4}`);
    expect(all).toContain(`untagged: docker.io/onggi-test/app:v1`);
    expect(all).toContain(`deleted: ${ids.v1}`);
    expect(imageIds()).toEqual([ids.busybox]);

    ok('stop', '-t', '0', 'running');
    const pruned = ok('system', 'prune', '-a', '-f');
    expect(pruned).toMatch(/^Deleted Containers:\n[a-f0-9]{64}\n\nDeleted Images:\nuntagged: /);
    expect(pruned).toContain(`deleted: ${ids.busybox}`);
    expect(imageIds()).toEqual([]);
    expect(readdirSync(containersRoot())).toEqual([]);
    expect(readdirSync(join(imagesRoot(), 'layers'))).toEqual([]);
  });

  it('the reclaimed space it reports is what du measured on what it removed', async () => {
    ok('image', 'pull', '--insecure', fixture.images.refs.busybox);
    expect(onggi(['run', '--name', 'gone', fixture.images.refs.busybox, 'sh', '-c', 'seq 1 5000']).code).toBe(0);
    const dir = readdirSync(containersRoot()).map((n) => join(containersRoot(), n));
    const layers = readdirSync(join(imagesRoot(), 'layers')).map((n) => join(imagesRoot(), 'layers', n));
    const expected = du(dir) + du(layers);
    const agent = await connectAgent(sandbox.socketPath);
    try {
      const plan: PruneResult = await agent.call('system.prune', { all: true, dryRun: true });
      expect(plan).toMatchObject({ dryRun: true, containers: [{ name: 'gone' }], reclaimed: expected });
      expect(plan.images).toHaveLength(1);
      const done = await agent.call('system.prune', { all: true });
      expect(done).toEqual({ ...plan, dryRun: false });
    } finally {
      agent.close();
    }
    const fields = await fieldsOfErrors(sandbox.socketPath, [
      ['images.prune', { all: 'yes' }],
      ['containers.prune', { dryRun: 1 }],
      ['system.prune', { extra: true }],
      ['system.df', { verbose: true }],
    ]);
    expect(fields).toEqual(['params.all', 'params.dryRun', 'params.extra', 'params.verbose']);
  });
});
