// Issue 16: each running container's network namespace has a name `ip netns` knows
// (/run/netns/<prefix>NAME), so `ip netns list` / `ip netns exec` work on it as on a namespace
// made by hand. The CLI and a real agent run in a netns of the test's own (netns-lab.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerDetail } from '../../shared/containers.js';
import { IMAGE, createLab, type CliResult, type NetnsLab } from '../../build/testing/netns-lab.js';
import { until } from '../../build/testing/until.js';

const isRoot = process.getuid?.() === 0;

function out(result: CliResult): string {
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.err}`);
  return result.out;
}

describe.skipIf(!isRoot)('container network namespaces named for `ip netns`', { timeout: 120_000 }, () => {
  let lab: NetnsLab;
  let prefix: string;
  const onggi = (...args: string[]) => lab.onggi(...args);
  const path = (name: string) => `/run/netns/${prefix}${name}`;
  const netnsInode = (pid: number) => statSync(`/proc/${pid}/ns/net`).ino;
  const detail = (name: string) => JSON.parse(out(onggi('inspect', name))) as ContainerDetail;

  beforeAll(async () => {
    lab = await createLab();
    prefix = lab.env.ONGGI_NETNS_PREFIX ?? '';
    expect(prefix).not.toBe('');
  }, 120_000);
  afterAll(async () => {
    spawnSync('ip', ['netns', 'delete', `${prefix}byhand`]);
    await lab?.cleanup();
  });

  it('names a running container’s namespace, answers `ip netns exec` in it, and removes the name when it stops', async () => {
    out(onggi('run', '-d', '--name', 'web', IMAGE, 'sleep', '600'));
    const web = detail('web');
    expect(web.pid).not.toBeNull();
    await until(() => existsSync(path('web')), Boolean, `${path('web')} to exist`);
    // The name is the container's namespace itself (a bind-mounted nsfs file stats as its inode).
    expect(statSync(path('web')).ino).toBe(netnsInode(web.pid ?? 0));
    const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(listed).toContain(`${prefix}web`);
    const inside = spawnSync('ip', ['netns', 'exec', `${prefix}web`, 'ip', '-4', '-o', 'addr', 'show', 'eth0'], { encoding: 'utf8' });
    const ip = web.networks?.[0]?.ip;
    expect(ip).toBeDefined();
    expect(inside.stdout).toContain(`${ip}/`);
    // The activity log shows the step as the command it equals.
    expect(out(onggi('activity', '--container', 'web'))).toContain(`ip netns attach ${prefix}web`);
    out(onggi('stop', '-t', '1', 'web'));
    expect(existsSync(path('web'))).toBe(false);
  });

  it('leaves a name someone else made alone, and cleans its own after a restart of the agent', async () => {
    // A namespace made by hand under the name our next container would take.
    expect(spawnSync('ip', ['netns', 'add', `${prefix}byhand`]).status).toBe(0);
    const mine = statSync(path('byhand')).ino;
    out(onggi('run', '-d', '--name', 'byhand', IMAGE, 'sleep', '600'));
    out(onggi('run', '-d', '--name', 'gone', IMAGE, 'sleep', '600'));
    await until(() => existsSync(path('gone')), Boolean, `${path('gone')} to exist`);
    const gone = detail('gone').pid ?? 0;
    const refused = out(onggi('activity', '--container', 'byhand'));
    expect(refused).not.toContain(`ip netns delete ${prefix}byhand`);
    expect(statSync(path('byhand')).ino).toBe(mine);

    // The agent dies with -9; while it is away, `gone`'s process ends too.
    const agent = await lab.sandbox.daemonPid();
    expect(agent).toBeDefined();
    process.kill(agent ?? 0, 'SIGKILL');
    process.kill(gone, 'SIGKILL');
    await until(
      () => existsSync(`/proc/${gone}`),
      (present) => !present,
      'the container to end',
    );
    // The next command starts the agent again: it removes the name it made for `gone`, keeps the hand-made one.
    out(onggi('ps', '-a'));
    // Reconcile runs before the agent answers its first call: the name is gone by now.
    expect(existsSync(path('gone'))).toBe(false);
    expect(statSync(path('byhand')).ino).toBe(mine);
    out(onggi('rm', '-f', 'byhand', 'gone'));
    expect(statSync(path('byhand')).ino).toBe(mine);
  });
});
