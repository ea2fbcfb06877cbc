// --userns=auto against the real kernel: the built helper, real overlayfs with idmapped layers,
// real cgroups, a busybox layer. The agent's subuid/subgid files are the test's own (never the
// machine's /etc files); everything is removed even on failure.
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerSpec, type ContainerSpecInput, type LogEntry } from '../../../shared/containers.js';
import { USERNS_AUTO_SIZE } from '../../../shared/userns.js';
import { inProcessRuntime } from '../../../build/testing/in-process-runtime.js';
import { AGENT_DIR } from '../../../build/testing/isolated-agent.js';
import { initHelperName } from '../runtime/helper-protocol.js';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { removeCgroupParent, testCgroupParent } from '../../../build/testing/cgroup-sandbox.js';
import { unmountUnder } from '../../../build/testing/mounts.js';
import { ActivityLog } from '../activity/activity-log.js';
import type { ContainerRuntime, RuntimeOptions } from '../runtime/container-runtime.js';
import { VolumeStore } from '../volumes/store.js';
import { usernsRuntime, type UsernsRuntime } from './userns-settings.js';

let root: string;
let layer: string;
let parent: string;
const runtimes: ContainerRuntime[] = [];

/** A runtime over its own state dir whose subid files hold `subid` (one line each for uid and gid). */
async function newRuntime(name: string, subid: string, activity = new ActivityLog(), extra: Partial<RuntimeOptions> = {}) {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const subuidFile = join(dir, 'subuid');
  const subgidFile = join(dir, 'subgid');
  await writeFile(subuidFile, subid);
  await writeFile(subgidFile, subid);
  const userns = usernsRuntime(dir, activity, { ONGGI_SUBUID_FILE: subuidFile, ONGGI_SUBGID_FILE: subgidFile });
  const runtime = await reopen(dir, userns, activity, extra);
  return { runtime, userns, subuidFile, subgidFile, dir, activity };
}

async function reopen(
  dir: string,
  userns: UsernsRuntime,
  activity: ActivityLog,
  extra: Partial<RuntimeOptions> = {},
): Promise<ContainerRuntime> {
  const runtime = await inProcessRuntime({
    root: dir,
    layer,
    cgroupParent: parent,
    imageName: 'busybox:userns',
    imageId: `sha256:${'a'.repeat(64)}`,
    activity,
    extra: { ...extra, userns },
  });
  runtimes.push(runtime);
  return runtime;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-userns-'));
  layer = await makeBusyboxLayer(join(root, 'layer'));
  parent = testCgroupParent();
});

afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.close()));
  await removeCgroupParent(parent);
  unmountUnder(root);
  await rm(root, { recursive: true, force: true });
});

const stdout = (entries: LogEntry[]) =>
  entries
    .filter((e) => e.stream === 'stdout')
    .map((e) => e.log)
    .join('');

async function run(runtime: ContainerRuntime, spec: Partial<ContainerSpecInput> & { command: string[] }) {
  const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:userns', userns: 'auto', ...spec }));
  await runtime.start(id);
  const exit = await runtime.wait(id);
  const logs = await runtime.logs(id, {});
  return {
    id,
    ...exit,
    out: stdout(logs),
    err: logs
      .filter((e) => e.stream === 'stderr')
      .map((e) => e.log)
      .join(''),
  };
}

/** The host uid and gid /proc/PID/status gives (real, effective, saved, fs: the first). */
async function hostIds(pid: number): Promise<{ uid: number; gid: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]), gid: Number(/^Gid:\s+(\d+)/m.exec(status)?.[1]) };
}

describe('--userns=auto (real kernel)', () => {
  it('runs root inside as an unprivileged uid of its own range outside, in the range the record keeps', async () => {
    const { runtime } = await newRuntime('basic', 'someone:100000:65536\nonggi:1000000:262144\n');
    const result = await run(runtime, {
      command: ['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; touch /made && ls -ln /made; ls -ln /bin/busybox'],
    });
    expect(result.err).toBe('');
    expect(result.exitCode).toBe(0);
    const lines = result.out.split('\n');
    expect(lines.slice(0, 2)).toEqual(['0', '0']);
    const detail = await runtime.inspect(result.id);
    expect(detail.userns?.uidMap).toEqual([{ container: 0, host: 1000000, size: USERNS_AUTO_SIZE }]);
    expect(detail.userns?.gidMap).toEqual([{ container: 0, host: 1000000, size: USERNS_AUTO_SIZE }]);
    // /proc/self/uid_map inside: 0 is the range's first id outside.
    expect(lines[2]?.trim().split(/\s+/)).toEqual(['0', '1000000', String(USERNS_AUTO_SIZE)]);
    expect(lines[3]?.trim().split(/\s+/)).toEqual(['0', '1000000', String(USERNS_AUTO_SIZE)]);
    // The image's files (root's on disk) are root's inside, through the idmapped layer, and root can write /.
    expect(result.out).toMatch(/^-rw-r--r-- +1 0 +0 +0 .* \/made$/m);
    expect(result.out).toMatch(/^-rwxr-xr-x +1 0 +0 .* \/bin\/busybox$/m);
    // Started again: the same range, its upper dir (the range's ids on disk) still root's inside.
    await runtime.start(result.id);
    expect(await runtime.wait(result.id)).toEqual({ exitCode: 0, oomKilled: false });
    expect(stdout(await runtime.logs(result.id, {}))).toMatch(/(^-rw-r--r-- +1 0 +0 +0 .* \/made$[\s\S]*){2}/m);
    await runtime.remove(result.id);
  });

  it('gives two containers disjoint ranges, and their processes run as uids in them on the machine', async () => {
    const { runtime } = await newRuntime('two', 'onggi:2000000:1000000\n');
    const ids: string[] = [];
    try {
      for (const name of ['one', 'two']) {
        const { id } = await runtime.create(
          ContainerSpec.parse({ image: 'busybox:userns', name, userns: 'auto', command: ['sleep', '100'] }),
        );
        ids.push(id);
        await runtime.start(id);
      }
      const seen = [];
      for (const id of ids) {
        const detail = await runtime.inspect(id);
        const map = detail.userns?.uidMap[0];
        expect(map).toBeDefined();
        const ids = await hostIds(detail.pid ?? 0);
        expect(ids.uid).toBeGreaterThanOrEqual(map?.host ?? 0);
        expect(ids.uid).toBe(map?.host);
        expect(ids.gid).toBe(detail.userns?.gidMap[0]?.host);
        seen.push(map?.host ?? 0);
      }
      expect(seen[0]).not.toBe(seen[1]);
      expect(Math.abs((seen[0] ?? 0) - (seen[1] ?? 0))).toBeGreaterThanOrEqual(USERNS_AUTO_SIZE);
    } finally {
      for (const id of ids) await runtime.remove(id, true);
    }
  });

  it("exec joins the container's user namespace: root inside, the same maps, its tmpfs and / writable", async () => {
    const { runtime } = await newRuntime('exec', 'onggi:6000000:65536\n');
    const { id } = await runtime.create(
      ContainerSpec.parse({
        image: 'busybox:userns',
        userns: 'auto',
        command: ['sleep', '100'],
        mounts: [{ type: 'tmpfs', target: '/scratch' }],
      }),
    );
    try {
      await runtime.start(id);
      const args = runtime.execSpec(id);
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(
          join(AGENT_DIR, initHelperName()),
          [...args, '--', 'sh', '-c', 'id -u; cat /proc/self/uid_map; touch /scratch/x /x && echo wrote'],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.stderr.on('data', (d: Buffer) => (text += d.toString()));
        child.on('error', reject);
        child.on('exit', () => resolve(text));
      });
      const lines = out.split('\n');
      expect(lines[0]).toBe('0');
      expect(lines[1]?.trim().split(/\s+/)).toEqual(['0', '6000000', '65536']);
      expect(lines[2]).toBe('wrote');
    } finally {
      await runtime.remove(id, true);
    }
  });

  it("a fresh volume belongs to the container's root (the range's first ids on the machine)", async () => {
    const volumes = new VolumeStore(join(root, 'volume-store'));
    const { runtime } = await newRuntime('volume', 'onggi:7000000:65536\n', new ActivityLog(), { volumes });
    const result = await run(runtime, {
      command: ['sh', '-c', 'ls -lnd /etc-copy | cut -c1-30; touch /etc-copy/new && echo wrote'],
      mounts: [{ type: 'volume', source: 'data', target: '/etc-copy' }],
    });
    expect(result.err).toBe('');
    expect(result.out).toContain('wrote');
    const data = volumes.dataDir('data');
    expect([(await stat(data)).uid, (await stat(data)).gid]).toEqual([7000000, 7000000]);
    expect((await stat(join(data, 'new'))).uid).toBe(7000000);
    await runtime.remove(result.id);
  });

  it('a file made in a bind mount belongs on the machine to the mapped uid', async () => {
    const { runtime } = await newRuntime('bind', 'onggi:3000000:65536\n');
    const shared = join(root, 'shared');
    // A plain bind keeps the machine's owners (root's dir shows as nobody's inside): open it to all, as a user would for such a container.
    await mkdir(shared, { mode: 0o777 });
    await chmod(shared, 0o777);
    const result = await run(runtime, {
      command: ['sh', '-c', 'echo hi > /data/from-container && mkdir /data/sub'],
      mounts: [{ type: 'bind', source: shared, target: '/data' }],
      user: '0:0',
    });
    expect(result.err).toBe('');
    expect(result.exitCode).toBe(0);
    const made = await stat(join(shared, 'from-container'));
    expect([made.uid, made.gid]).toEqual([3000000, 3000000]);
    expect((await stat(join(shared, 'sub'))).uid).toBe(3000000);
    await runtime.remove(result.id);
  });

  it('releases the range when the container is removed, keeps it across an agent restart, and refuses cleanly when exhausted', async () => {
    const { runtime, userns, dir, activity } = await newRuntime('exhausted', 'onggi:4000000:65536\n');
    const first = await runtime.create(ContainerSpec.parse({ image: 'busybox:userns', name: 'holder', userns: 'auto', command: ['true'] }));
    const containersBefore = await readdir(join(dir, 'containers'));
    await expect(
      runtime.create(ContainerSpec.parse({ image: 'busybox:userns', name: 'nope', userns: 'auto', command: ['true'] })),
    ).rejects.toMatchObject({
      kind: 'userns_exhausted',
      field: 'params.userns',
      message: expect.stringContaining('no free range of 65536 ids'),
    });
    // Nothing half-made: no record, no directory, the name free.
    expect(await readdir(join(dir, 'containers'))).toEqual(containersBefore);
    expect(runtime.list(true).map((c) => c.name)).toEqual(['holder']);
    // A restarted agent (a new runtime over the same state) finds the range taken from the record.
    await runtime.close();
    const restartedUserns = usernsRuntime(dir, activity, {
      ONGGI_SUBUID_FILE: join(dir, 'subuid'),
      ONGGI_SUBGID_FILE: join(dir, 'subgid'),
    });
    const restarted = await reopen(dir, restartedUserns, activity);
    expect([...restartedUserns.allocator.ranges().keys()]).toEqual([first.id]);
    await expect(
      restarted.create(ContainerSpec.parse({ image: 'busybox:userns', userns: 'auto', command: ['true'] })),
    ).rejects.toMatchObject({ kind: 'userns_exhausted' });
    // Removed: its range is free again for the next container.
    await restarted.remove(first.id);
    expect(restartedUserns.allocator.ranges().size).toBe(0);
    const again = await run(restarted, { command: ['sh', '-c', 'cat /proc/self/uid_map'] });
    expect(again.out.trim().split(/\s+/)).toEqual(['0', '4000000', '65536']);
    await restarted.remove(again.id);
    expect(userns.allocator.ranges().size).toBeLessThanOrEqual(1);
  });

  it("binds the agent's hosts file over /etc/hosts, opened before the helper became the namespace's root", async () => {
    // In the state dir (0700, the machine's root's): by path, the container's root could not reach it.
    const hosts = join(root, 'hosts-userns');
    await writeFile(hosts, '10.89.0.7\tpeer-from-agent\n');
    const { runtime } = await newRuntime('hosts', 'onggi:9000000:65536\n', new ActivityLog(), { hostsFile: async () => hosts });
    expect((await stat(root)).mode & 0o777).toBe(0o700);
    const result = await run(runtime, { command: ['cat', '/etc/hosts'] });
    expect(result).toMatchObject({ exitCode: 0, out: '10.89.0.7\tpeer-from-agent\n' });
    await runtime.remove(result.id);
  });

  it("follows the machine's default when the run does not say, and --userns=host still shares the machine's", async () => {
    const { runtime } = await newRuntime('default', 'onggi:8000000:65536\n');
    expect(await runtime.usernsDefault()).toEqual({ mode: 'host' });
    expect(await runtime.usernsDefault('auto')).toEqual({ mode: 'auto' });
    const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:userns', command: ['true'] }));
    expect((await runtime.inspect(id)).userns?.uidMap).toEqual([{ container: 0, host: 8000000, size: USERNS_AUTO_SIZE }]);
    const host = await run(runtime, { userns: 'host', command: ['cat', '/proc/self/uid_map'] });
    expect(host.out.trim().split(/\s+/)).toEqual(['0', '0', '4294967295']);
    expect((await runtime.inspect(host.id)).userns).toBeUndefined();
    await runtime.remove(host.id);
    await runtime.remove(id);
  });

  it('reserves an entry of its own in empty subid files, keeping every other line, and says so in the activity log', async () => {
    const activity = new ActivityLog();
    const { runtime, subuidFile, subgidFile } = await newRuntime('reserve', '', activity);
    await writeFile(subuidFile, '# kept\nalice:100000:65536\n');
    const result = await run(runtime, { command: ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map'] });
    expect(result.exitCode).toBe(0);
    expect(await readFile(subuidFile, 'utf8')).toBe('# kept\nalice:100000:65536\nonggi:196608:67108864\n');
    // Each file gets its entry after its own lines (100000 rounded up to 65536 when it has none).
    expect(await readFile(subgidFile, 'utf8')).toBe('onggi:131072:67108864\n');
    expect(result.out.trim().split(/\s+/)).toEqual(['0', '196608', '65536', '0', '131072', '65536']);
    const writes = activity.list().filter((entry) => entry.kind === 'write' && entry.path?.endsWith('subuid'));
    expect(writes.map((entry) => entry.value)).toEqual(['onggi:196608:67108864']);
    await runtime.remove(result.id);
  });
});
