// Containers starting together get their /run/netns names from shared `ip -force -batch`
// processes: each name is its own namespace, each step is in the activity log as the command it
// equals, under its container, and a line that fails (a process already gone) fails for its
// container alone. Namespaces are held by sleeping processes of the test's own; every name is
// removed at the end by the names the test made.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ActivityLog } from '../activity/activity-log.js';
import { testNetnsPrefix } from '../../../build/testing/netns-names.js';
import { until } from '../../../build/testing/until.js';
import { netnsInode } from './kernel.js';
import { NetnsNames } from './netns-names.js';

const isRoot = process.getuid?.() === 0;
const prefix = testNetnsPrefix();
const dir = mkdtempSync(join(tmpdir(), 'onggi-netns-names-'));
const holders: ChildProcess[] = [];

afterAll(() => {
  for (const holder of holders) holder.kill('SIGKILL');
  for (const name of ['a', 'b', 'c', 'd', 'gone'])
    if (existsSync(`/run/netns/${prefix}${name}`)) spawnSync('ip', ['netns', 'delete', `${prefix}${name}`]);
  rmSync(dir, { recursive: true, force: true });
});

/** A process in a network namespace of its own, once it has entered it. */
async function holder(): Promise<number> {
  const child = spawn('unshare', ['--net', 'sleep', '600'], { stdio: 'ignore' });
  holders.push(child);
  const own = await netnsInode('self');
  await until(
    () => netnsInode(child.pid ?? 0),
    (inode) => inode !== null && inode !== own,
    'the holder to enter its netns',
  );
  return child.pid ?? 0;
}

describe.skipIf(!isRoot)('NetnsNames', () => {
  it('names namespaces registered together, one activity entry per container; a failing one fails alone', async () => {
    const activity = new ActivityLog();
    const errors: string[] = [];
    const names = new NetnsNames(activity, prefix, join(dir, 'netns-names.json'), (message) => errors.push(message));
    const pids = { a: await holder(), b: await holder(), c: await holder(), d: await holder() };
    // A pid that no longer exists: its `ip netns attach` fails.
    const gone = spawnSync('true').pid;
    names.register('id-a', 'a', pids.a);
    names.register('id-b', 'b', pids.b);
    names.register('id-gone', 'gone', gone);
    names.register('id-c', 'c', pids.c);
    names.register('id-d', 'd', pids.d);
    await until(
      () => activity.list().filter((entry) => entry.argv?.[2] === 'attach').length,
      (count) => count === 5,
      'five attach steps',
    );
    for (const [name, pid] of Object.entries(pids)) {
      expect(statSync(`/run/netns/${prefix}${name}`).ino).toBe(await netnsInode(pid));
      expect(names.nameOf(`id-${name}`)).toBe(`${prefix}${name}`);
    }
    expect(existsSync(`/run/netns/${prefix}gone`)).toBe(false);
    const steps = activity.list().map((entry) => [entry.argv?.join(' '), entry.container, entry.ok]);
    expect(steps).toEqual([
      [`ip netns attach ${prefix}a ${pids.a}`, 'a', true],
      [`ip netns attach ${prefix}b ${pids.b}`, 'b', true],
      [`ip netns attach ${prefix}gone ${gone}`, 'gone', false],
      [`ip netns attach ${prefix}c ${pids.c}`, 'c', true],
      [`ip netns attach ${prefix}d ${pids.d}`, 'd', true],
    ]);
    expect(errors).toEqual([`container gone: its network namespace could not be named ${prefix}gone`]);
    // Recorded before the attach, so a crash between leaves a superset: every name tried is in it.
    expect(JSON.parse(readFileSync(join(dir, 'netns-names.json'), 'utf8'))).toEqual(
      ['a', 'b', 'gone', 'c', 'd'].map((name) => `${prefix}${name}`),
    );

    await Promise.all(Object.keys(pids).map((name) => names.unregister(`id-${name}`, name)));
    for (const name of Object.keys(pids)) expect(existsSync(`/run/netns/${prefix}${name}`)).toBe(false);
  });
});
