import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { classifyCgroups, detectCgroups, parseMountInfo } from './cgroups.js';

const HYBRID = `
25 30 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
27 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd
30 25 0:28 / /sys/fs/cgroup/memory rw,nosuid shared:14 - cgroup cgroup rw,memory
31 25 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:15 - cgroup cgroup rw,cpu,cpuacct
32 25 0:30 / /sys/fs/cgroup/pids rw,nosuid shared:16 - cgroup cgroup rw,pids
`;
const UNIFIED = `
25 30 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;
const LEGACY = `
25 30 0:23 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755
30 25 0:28 / /sys/fs/cgroup/memory rw shared:14 - cgroup cgroup rw,memory
31 25 0:29 / /sys/fs/cgroup/with\\040space rw shared:15 - cgroup cgroup rw,pids
`;

const controllersOf = (map: Record<string, string[]>) => async (mountPoint: string) => map[mountPoint] ?? [];

describe('cgroup layout', () => {
  it('sees a hybrid host as v1 with the v2 tree listed separately', async () => {
    const info = await classifyCgroups(parseMountInfo(HYBRID), controllersOf({ '/sys/fs/cgroup/unified': ['hugetlb'] }));
    expect(info).toMatchObject({ version: 1, mode: 'hybrid', rootFsType: 'tmpfs' });
    expect(info.controllers.map((c) => `${c.name}@v${c.version}`)).toEqual(['hugetlb@v2', 'memory@v1', 'cpu@v1', 'cpuacct@v1', 'pids@v1']);
  });

  it('sees a pure cgroup2 host as v2', async () => {
    const info = await classifyCgroups(
      parseMountInfo(UNIFIED),
      controllersOf({ '/sys/fs/cgroup': ['cpuset', 'cpu', 'io', 'memory', 'pids'] }),
    );
    expect(info).toMatchObject({ version: 2, mode: 'unified', rootFsType: 'cgroup2' });
    expect(info.controllers.map((c) => c.name)).toContain('memory');
  });

  it('sees a v1-only host as legacy and unescapes mount points', async () => {
    const info = await classifyCgroups(parseMountInfo(LEGACY), controllersOf({}));
    expect(info).toMatchObject({ version: 1, mode: 'legacy' });
    expect(info.controllers.find((c) => c.name === 'pids')?.mountPoint).toBe('/sys/fs/cgroup/with space');
  });

  it('agrees with what the kernel says /sys/fs/cgroup is on this machine', async () => {
    const fsType = spawnSync('stat', ['-f', '-c', '%T', '/sys/fs/cgroup'], { encoding: 'utf8' }).stdout.trim();
    const info = await detectCgroups();
    expect(info.version).toBe(fsType === 'cgroup2fs' ? 2 : 1);
    // Every controller we report as v1 is really mounted as its own cgroup hierarchy.
    for (const controller of info.controllers.filter((c) => c.version === 1)) {
      const mounted = spawnSync('findmnt', ['-n', '-o', 'FSTYPE,OPTIONS', controller.mountPoint], { encoding: 'utf8' }).stdout;
      expect(mounted).toMatch(new RegExp(`^cgroup .*\\b${controller.name}\\b`));
    }
  });
});
