// pause/unpause, update, the finer cgroup options, top, diff and rename against the real kernel
// (this machine: hybrid cgroup v1), with a busybox layer; everything is removed even on failure.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerSpec, type ContainerSpecInput } from '../../../shared/containers.js';
import { ContainerUpdate } from '../../../shared/container-verbs.js';
import { OnggiError } from '../../../shared/errors.js';
import { inProcessRuntime } from '../../../build/testing/in-process-runtime.js';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { removeCgroupParent, testCgroupParent } from '../../../build/testing/cgroup-sandbox.js';
import { unmountUnder } from '../../../build/testing/mounts.js';
import type { ContainerRuntime } from './container-runtime.js';
import { rename, setPaused, updateLimits } from './container-verbs.js';
import { changes } from './diff.js';
import { listProcesses } from './top.js';
import { until } from '../../../build/testing/until.js';

const IMAGE_ID = `sha256:${'c'.repeat(64)}`;
let root: string;
let layer: string;
let parent: string;
let runtime: ContainerRuntime;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-verbs-'));
  layer = await makeBusyboxLayer(join(root, 'layer'));
  parent = testCgroupParent();
  runtime = await inProcessRuntime({ root, layer, cgroupParent: parent, imageName: 'busybox:test', imageId: IMAGE_ID });
});

afterAll(async () => {
  await runtime.close();
  await removeCgroupParent(parent);
  unmountUnder(root);
  await rm(root, { recursive: true, force: true });
});

async function started(spec: Partial<ContainerSpecInput> & { command: string[] }): Promise<string> {
  const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:test', ...spec }));
  await runtime.start(id);
  return id;
}

/** A file of the container's cgroup, found in whichever hierarchy has it. */
async function cgroupFile(id: string, file: string): Promise<string> {
  const dir = (await runtime.inspect(id)).cgroup.paths.find((path) => existsSync(join(path, file)));
  if (!dir) throw new Error(`no ${file} in the container's cgroups`);
  return readFileSync(join(dir, file), 'utf8').trim();
}

function fieldOf(error: unknown): string | undefined {
  return error instanceof OnggiError ? error.field : undefined;
}

describe('container verbs (real kernel)', () => {
  it('pause stops a counter, unpause resumes it; a paused container cannot be stopped but rm -f ends it', async () => {
    const id = await started({ command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/count; usleep 20000; done'] });
    const countFile = join((await runtime.inspect(id)).rootfs.merged, 'tmp/count');
    const count = () => Number(existsSync(countFile) ? readFileSync(countFile, 'utf8').trim() || 0 : 0);
    await until(count, (n) => n >= 3, 'the counter to start');
    const paused = await setPaused(runtime, id, true);
    expect(paused.paused).toBe(true);
    expect(await cgroupFile(id, 'freezer.state')).toBe('FROZEN');
    const frozenAt = count();
    // An observation window, not a readiness wait: the counter ticks every 20 ms when it runs.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(count()).toBe(frozenAt);
    await expect(runtime.stop(id, 1)).rejects.toThrow(/paused; unpause it first/);
    await expect(setPaused(runtime, id, true)).rejects.toThrow(/already paused/);
    const resumed = await setPaused(runtime, id, false);
    expect(resumed.paused).toBeUndefined();
    await until(count, (n) => n > frozenAt + 2, 'the counter to move again');
    await setPaused(runtime, id, true);
    await runtime.remove(id, true);
    expect(() => runtime.find(id)).toThrow(/no container/);
  });

  it('update changes memory, cpu quota and pids.max of a running container and keeps them', async () => {
    const id = await started({ command: ['sleep', '1000'], limits: { memory: '64m', cpus: 0.5, pids: 20 } });
    const result = await updateLimits(runtime, ContainerUpdate.parse({ container: id, memory: '128m', cpus: 1.5, pids: 30 }));
    expect(await cgroupFile(id, 'memory.limit_in_bytes')).toBe(String(128 * 1024 * 1024));
    expect(await cgroupFile(id, 'cpu.cfs_quota_us')).toBe('150000');
    expect(await cgroupFile(id, 'pids.max')).toBe('30');
    expect(Object.keys(result.written).some((file) => file.endsWith('memory.limit_in_bytes'))).toBe(true);
    // Lowering goes the other way round (memory before memory+swap): it must work too.
    await updateLimits(runtime, ContainerUpdate.parse({ container: id, memory: '32m' }));
    expect(await cgroupFile(id, 'memory.limit_in_bytes')).toBe(String(32 * 1024 * 1024));
    expect(runtime.find(id).limits).toMatchObject({ memory: 32 * 1024 * 1024, cpus: 1.5, pids: 30 });
    expect(ContainerUpdate.safeParse({ container: id, pids: 0 }).error?.issues[0]?.path).toEqual(['pids']);
    // Started without --cpuset-cpus, it has no cpuset cgroup (one hierarchy fewer per start): that cannot change live.
    expect((await runtime.inspect(id)).cgroup.paths.some((path) => path.includes('/cpuset/'))).toBe(false);
    await expect(updateLimits(runtime, ContainerUpdate.parse({ container: id, cpusetCpus: '0' }))).rejects.toMatchObject({
      field: 'params.cpusetCpus',
    });
    expect(ContainerUpdate.safeParse({ container: id }).success).toBe(false);
    await runtime.remove(id, true);
  });

  it('--cpuset-cpus, --cpu-shares, --memory-swap and --device-read/write-bps land in the cgroup files', async () => {
    const device = existsSync('/dev/vda') ? '/dev/vda' : undefined;
    const id = await started({
      command: ['sleep', '1000'],
      limits: {
        cpusetCpus: '0',
        cpuShares: 512,
        memory: '64m',
        memorySwap: '128m',
        ...(device ? { deviceReadBps: [{ path: device, rate: '1mb' }], deviceWriteBps: [{ path: device, rate: 2048 }] } : {}),
      },
    });
    expect(await cgroupFile(id, 'cpuset.cpus')).toBe('0');
    expect(await cgroupFile(id, 'cpu.shares')).toBe('512');
    expect(await cgroupFile(id, 'memory.memsw.limit_in_bytes')).toBe(String(128 * 1024 * 1024));
    // The process is really in the cpuset.
    const pid = runtime.find(id).pid ?? 0;
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Cpus_allowed_list:\s+0$/m);
    if (device) {
      expect(await cgroupFile(id, 'blkio.throttle.read_bps_device')).toMatch(/^\d+:\d+ 1048576$/);
      expect(await cgroupFile(id, 'blkio.throttle.write_bps_device')).toMatch(/^\d+:\d+ 2048$/);
    }
    await runtime.remove(id, true);
  });

  it('refuses what this machine cannot do, and bad values, naming the field; nothing is left behind', async () => {
    const before = runtime.list(true).length;
    const refused = async (limits: Record<string, unknown>) =>
      runtime.create(ContainerSpec.parse({ image: 'busybox:test', command: ['true'], limits })).then(
        () => 'created',
        (error: unknown) => fieldOf(error),
      );
    const hasWeight = ['blkio.weight', 'blkio.bfq.weight'].some((file) => existsSync(join('/sys/fs/cgroup/blkio', file)));
    if (!hasWeight) expect(await refused({ blkioWeight: 500 })).toBe('params.limits.blkioWeight');
    expect(await refused({ cpusetCpus: '4000' })).toBe('params.limits.cpusetCpus');
    expect(await refused({ deviceReadBps: [{ path: '/dev/null', rate: '1mb' }] })).toBe('params.limits.deviceReadBps.0.path');
    expect(await refused({ deviceWriteBps: [{ path: '/dev/onggi-none', rate: '1mb' }] })).toBe('params.limits.deviceWriteBps.0.path');
    expect(runtime.list(true)).toHaveLength(before);
  });

  it('top lists each process with its container PID and host PID, user and command', async () => {
    const id = await started({ command: ['sh', '-c', 'sleep 1000 & exec sleep 2000'] });
    const record = runtime.find(id);
    const access = runtime.access();
    const processes = await until(
      async () => listProcesses(await access.cgroups.pids(id), access.paths(id).merged),
      (list) => list.length === 2 && list.every((p) => p.command.startsWith('sleep')),
      'both sleeps',
    );
    expect(processes[0]).toMatchObject({ pid: 1, hostPid: record.pid, ppid: 0, uid: 0, user: 'root', command: 'sleep 2000' });
    expect(processes[1]).toMatchObject({ ppid: 1, user: 'root', command: 'sleep 1000' });
    expect(processes[1]?.hostPid).not.toBe(processes[1]?.pid);
    await runtime.remove(id, true);
  });

  it('diff shows A, C and D, whiteouts and an opaque directory read correctly', async () => {
    const script =
      'echo new > /new.txt; echo x >> /etc/passwd; rm /etc/group; mkdir -p /root/made; rm -rf /tmp; mkdir /tmp; touch /tmp/again';
    const id = await started({ command: ['sh', '-c', script] });
    await runtime.wait(id);
    const upper = runtime.access().paths(id).upper;
    const found = await changes(upper, [layer]);
    expect(found).toEqual(
      expect.arrayContaining([
        { kind: 'A', path: '/new.txt' },
        { kind: 'C', path: '/etc' },
        { kind: 'C', path: '/etc/passwd' },
        { kind: 'D', path: '/etc/group' },
        { kind: 'C', path: '/root' },
        { kind: 'A', path: '/root/made' },
        { kind: 'A', path: '/tmp/again' },
      ]),
    );
    // rm -rf /tmp; mkdir /tmp: the layer's /tmp was empty, so only its own new file shows.
    expect(found.filter((c) => c.path.startsWith('/tmp/'))).toEqual([{ kind: 'A', path: '/tmp/again' }]);

    // An opaque directory: the image's entries in it are reported deleted.
    const opaque = await started({ command: ['sh', '-c', 'rm -rf /etc; mkdir /etc; echo h > /etc/hostname2'] });
    await runtime.wait(opaque);
    const second = await changes(runtime.access().paths(opaque).upper, [layer]);
    expect(second).toEqual(
      expect.arrayContaining([
        { kind: 'C', path: '/etc' },
        { kind: 'D', path: '/etc/passwd' },
        { kind: 'D', path: '/etc/group' },
        { kind: 'A', path: '/etc/hostname2' },
      ]),
    );
    await runtime.remove(id);
    await runtime.remove(opaque);
  });

  it('rename: found by the new name only; a taken name is refused naming the field', async () => {
    const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:test', command: ['true'], name: 'verbs-old' }));
    await runtime.create(ContainerSpec.parse({ image: 'busybox:test', command: ['true'], name: 'verbs-other' }));
    const renamed = await rename(runtime, 'verbs-old', 'verbs-new');
    expect(renamed.name).toBe('verbs-new');
    expect(runtime.find('verbs-new').id).toBe(id);
    expect(() => runtime.find('verbs-old')).toThrow(/no container/);
    await expect(rename(runtime, 'verbs-new', 'verbs-other')).rejects.toMatchObject({ field: 'params.name' });
    await runtime.remove('verbs-new');
    await runtime.remove('verbs-other');
  });
});
