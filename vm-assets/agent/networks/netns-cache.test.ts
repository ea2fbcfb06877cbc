// The topology's per-namespace cache against the real kernel: a process of the test's own in a
// new network namespace (and, like a container, a mount namespace with its own /sys). An
// unchanged namespace is served from the cache; any change to its links, addresses or routes is
// read again with `ip`; a process whose /sys shows another namespace is never cached.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { readNetns } from './kernel.js';
import { NetnsViewCache, netnsFingerprint } from './netns-cache.js';

const isRoot = process.getuid?.() === 0;
const started: ChildProcess[] = [];

/** `sleep` in a new netns; with ownSys, in a new mount namespace with a sysfs mounted there (as a container has). */
async function inNewNetns(ownSys: boolean): Promise<number> {
  const script = ownSys ? 'mount -t sysfs sysfs /sys && echo ready && exec sleep 1000' : 'echo ready && exec sleep 1000';
  const args = ownSys ? ['--net', '--mount', '--propagation', 'private', 'sh', '-c', script] : ['--net', 'sh', '-c', script];
  const child = spawn('unshare', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`unshare exited ${code}`)));
  });
  if (!child.pid) throw new Error('no pid');
  return child.pid;
}

function ipIn(pid: number, ...args: string[]): void {
  const run = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ip ${args.join(' ')}: ${run.stderr}`);
}

afterEach(async () => {
  for (const child of started.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
});

describe.skipIf(!isRoot)('netns view cache (real kernel)', () => {
  it('serves an unchanged namespace from the cache and reads a changed one again', async () => {
    const pid = await inNewNetns(true);
    const cache = new NetnsViewCache();
    const first = await cache.read(pid, 1);
    expect(first).toEqual(await readNetns({ pid }));
    expect(await cache.read(pid, 1)).toBe(first); // the very same object: no `ip` ran

    const changes: Array<[string, string[]]> = [
      ['lo up', ['link', 'set', 'lo', 'up']],
      ['an address', ['addr', 'add', '10.250.9.1/24', 'dev', 'lo']],
      ['a route', ['route', 'add', '10.250.10.0/24', 'dev', 'lo']],
      ['a link', ['link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1']],
      ['an mtu', ['link', 'set', 'probe0', 'mtu', '1400']],
      ['a link gone', ['link', 'del', 'probe0']],
    ];
    let before = first;
    for (const [what, args] of changes) {
      ipIn(pid, ...args);
      const after = await cache.read(pid, 1);
      expect(after, what).not.toBe(before);
      expect(after, what).toEqual(await readNetns({ pid }));
      before = after;
    }
  });

  it('never caches a process whose /sys shows another namespace, and forgets namespaces no longer seen', async () => {
    const pid = await inNewNetns(false);
    expect(netnsFingerprint(pid)).toBeNull();
    const cache = new NetnsViewCache();
    const first = await cache.read(pid, 2);
    expect(await cache.read(pid, 2)).not.toBe(first);

    const own = await inNewNetns(true);
    const kept = await cache.read(own, 3);
    cache.keepOnly(new Set([4]));
    expect(await cache.read(own, 3)).not.toBe(kept);
    expect(netnsFingerprint(999_999_999)).toBeNull();
  });
});
