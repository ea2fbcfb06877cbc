// v1 against this machine's real hierarchies; v2 against a directory tree shaped like cgroupfs
// (this host cannot mount a pure cgroup2 with cpu/memory/pids; the QEMU guest proves it for real).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ActivityLog } from '../../activity/activity-log.js';
import { detectCgroups } from '../../system/cgroups.js';
import { DEFAULT_DEVICE_RULES } from '../security-policy.js';
import { CgroupV1Driver } from './cgroup-v1.js';
import { CgroupV2Driver } from './cgroup-v2.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A v1 driver under a parent cgroup of the test's own. After the test (and after the processes
 * endAfterTest ends, which run first), the container's cgroup `id` and the parent are removed.
 */
function v1Driver(info: Awaited<ReturnType<typeof detectCgroups>>, suffix: string, id: string) {
  const parent = `onggi-test-${process.pid}-${Date.now()}${suffix}`;
  const activity = new ActivityLog();
  const driver = new CgroupV1Driver(info, parent, activity);
  cleanups.push(async () => {
    // Already removed by the test, or not: either way the parent's rmdir below says if anything is left.
    await driver.remove(id, {}).catch(() => undefined);
    for (const mount of new Set(info.controllers.filter((c) => c.version === 1).map((c) => c.mountPoint)))
      await rmdir(join(mount, parent)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
  });
  return { parent, activity, driver };
}

/** Kills a test's process after the test and waits until it has exited: until then its cgroup is busy. */
function endAfterTest(child: ChildProcess): void {
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  });
}

describe('cgroup v1 (this machine)', async () => {
  const info = await detectCgroups();
  it.runIf(info.version === 1)(
    'creates the container cgroup in every hierarchy, writes the limits, reads usage, and removes it',
    async () => {
      const id = 'c0ffee';
      const { parent, activity, driver } = v1Driver(info, '', id);
      const placement = await driver.create(id, { cpus: 0.5, memory: 64 * 1024 * 1024, pids: 20 }, { container: 'test' });
      const mountOf = (name: string) => info.controllers.find((c) => c.name === name && c.version === 1)?.mountPoint ?? '';
      const file = (controller: string, name: string) => join(mountOf(controller), parent, id, name);
      expect((await readFile(file('cpu', 'cpu.cfs_quota_us'), 'utf8')).trim()).toBe('50000');
      expect((await readFile(file('cpu', 'cpu.cfs_period_us'), 'utf8')).trim()).toBe('100000');
      expect((await readFile(file('memory', 'memory.limit_in_bytes'), 'utf8')).trim()).toBe(String(64 * 1024 * 1024));
      expect((await readFile(file('pids', 'pids.max'), 'utf8')).trim()).toBe('20');
      expect(placement.limits[file('pids', 'pids.max')]).toBe('20');
      // The activity log shows each write as the echo a person would type.
      expect(activity.list().some((e) => e.kind === 'write' && e.path === file('cpu', 'cpu.cfs_quota_us') && e.value === '50000')).toBe(
        true,
      );

      // Docker's device rules, all in force, each in the activity log as its own echo.
      if (mountOf('devices')) {
        const listed = (await readFile(file('devices', 'devices.list'), 'utf8')).trim().split('\n');
        expect([...listed].sort()).toEqual([...DEFAULT_DEVICE_RULES].sort());
        const allowed = activity.list().filter((e) => e.kind === 'write' && e.path === file('devices', 'devices.allow'));
        expect(allowed.map((e) => e.value)).toEqual(DEFAULT_DEVICE_RULES);
        expect(allowed.every((e) => e.ok)).toBe(true);
      }

      // A real process placed in it is counted, and its cpu time and memory appear.
      // It allocates only after joining: v1 does not move memory charged before.
      const child = spawn('sh', ['-c', 'read _; x=$(head -c 4000000 /dev/zero | tr "\\0" a); echo allocated; read _'], {
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      endAfterTest(child);
      for (const procs of placement.procsFiles) await writeFile(procs, String(child.pid));
      expect(await driver.pids(id)).toEqual([child.pid]);
      const allocated = new Promise((resolve) => child.stdout.once('data', resolve));
      child.stdin.write('go\n');
      await allocated;
      const usage = await driver.usage(id);
      expect(usage).toMatchObject({ pidsLimit: 20, memoryLimit: 64 * 1024 * 1024, oomKills: 0 });
      expect(usage.memoryUsage).toBeGreaterThan(0);
      expect(await driver.list()).toEqual([id]);

      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      for (let i = 0; i < 100 && (await driver.pids(id)).length > 0; i += 1) await new Promise((r) => setTimeout(r, 10));
      await driver.remove(id, {});
      expect(await driver.list()).toEqual([]);
    },
  );
});

describe('device rules (this machine)', async () => {
  const info = await detectCgroups();
  const devices = info.controllers.find((c) => c.name === 'devices' && c.version === 1)?.mountPoint;
  it.runIf(devices !== undefined)(
    'a rule the kernel refuses fails the create, named in the activity log; the ones before it are in force',
    async () => {
      const id = 'bad-rule';
      const { parent, activity, driver } = v1Driver(info, '-rules', id);
      await expect(driver.create(id, { deviceRules: ['c 1:3 rwm', 'not a rule', 'c 1:5 rwm'] }, {})).rejects.toThrow();
      const allow = join(devices ?? '', parent, id, 'devices.allow');
      const written = activity.list().filter((e) => e.kind === 'write' && e.path === allow);
      expect(written.map((e) => [e.value, e.ok])).toEqual([
        ['c 1:3 rwm', true],
        ['not a rule', false],
      ]);
      expect(written[1]?.error).toMatch(/invalid argument/i);
      expect((await readFile(join(devices ?? '', parent, id, 'devices.list'), 'utf8')).trim()).toBe('c 1:3 rwm');
    },
  );
});

describe('cgroup removal (this machine)', async () => {
  const info = await detectCgroups();
  it.runIf(info.version === 1)('waits for a process still leaving the cgroup instead of failing EBUSY', async () => {
    const id = 'b05y';
    const { activity, driver } = v1Driver(info, '-busy', id);
    const placement = await driver.create(id, {}, {});
    // A process that is still in the cgroup when removal starts and leaves it a moment later, as a
    // killed container's last processes do.
    const child = spawn('sh', ['-c', 'read _; exec sleep 0.2'], { stdio: ['pipe', 'ignore', 'ignore'] });
    endAfterTest(child);
    for (const procs of placement.procsFiles) await writeFile(procs, String(child.pid));
    child.stdin.end('go\n');
    expect(await driver.pids(id)).toEqual([child.pid]);
    await driver.remove(id, {});
    expect(await driver.list()).toEqual([]);
    // One entry for the whole wait, as the command it equals.
    const removals = activity.list().filter((e) => e.kind === 'command' && e.argv?.[0] === 'rmdir');
    expect(removals.length).toBe(new Set(placement.procsFiles.map((file) => join(file, '..'))).size);
    expect(removals.every((e) => e.kind === 'command' && e.ok)).toBe(true);
  });
});

describe('cgroup v2 (a tree shaped like cgroupfs)', () => {
  async function fakeTree(): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'onggi-cg2-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    await writeFile(join(root, 'cgroup.subtree_control'), 'memory');
    return root;
  }

  it('enables the controllers in the ancestors and writes cpu.max, memory.max, memory.swap.max and pids.max', async () => {
    const root = await fakeTree();
    const activity = new ActivityLog();
    const driver = new CgroupV2Driver(root, 'onggi', activity);
    // The kernel creates interface files with the directory; the fake tree gets them from the test.
    await mkdir(join(root, 'onggi', 'abc'), { recursive: true });
    await writeFile(join(root, 'onggi', 'abc', 'memory.swap.max'), 'max');
    const placement = await driver.create('abc', { cpus: 1.5, memory: 32 * 1024 * 1024, pids: 10 }, {});
    const dir = join(root, 'onggi', 'abc');
    expect(await readFile(join(dir, 'cpu.max'), 'utf8')).toBe('150000 100000');
    expect(await readFile(join(dir, 'memory.max'), 'utf8')).toBe(String(32 * 1024 * 1024));
    expect(await readFile(join(dir, 'memory.swap.max'), 'utf8')).toBe('0');
    expect(await readFile(join(dir, 'pids.max'), 'utf8')).toBe('10');
    expect(placement).toMatchObject({ version: 2, dirs: [dir], procsFiles: [join(dir, 'cgroup.procs')] });
    // memory was already on in the root; cpu and pids were added, one write each.
    const writes = activity.list().filter((e) => e.kind === 'write' && e.path?.endsWith('cgroup.subtree_control'));
    expect(writes.map((e) => `${e.path?.slice(root.length)} ${e.value}`)).toEqual([
      '/cgroup.subtree_control +cpu',
      '/cgroup.subtree_control +pids',
      '/onggi/cgroup.subtree_control +cpu',
      '/onggi/cgroup.subtree_control +memory',
      '/onggi/cgroup.subtree_control +pids',
    ]);
  });

  it('reads usage from the v2 files, "max" meaning no limit', async () => {
    const root = await fakeTree();
    const dir = join(root, 'onggi', 'x');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'cpu.stat'), 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n');
    await writeFile(join(dir, 'memory.current'), '4096\n');
    await writeFile(join(dir, 'memory.max'), 'max\n');
    await writeFile(join(dir, 'pids.current'), '3\n');
    await writeFile(join(dir, 'pids.max'), '10\n');
    await writeFile(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
    await writeFile(join(dir, 'cgroup.procs'), '101\n102\n');
    const driver = new CgroupV2Driver(root, 'onggi', new ActivityLog());
    expect(await driver.usage('x')).toEqual({
      cpuUsageNs: 2_500_000,
      memoryUsage: 4096,
      memoryLimit: null,
      pidsCurrent: 3,
      pidsLimit: 10,
      oomKills: 1,
    });
    expect(await driver.pids('x')).toEqual([101, 102]);
    expect(await driver.list()).toEqual(['x']);
  });
});
