// The container runtime against the real kernel: the built init helper, real overlayfs, real
// cgroups (a parent of the test's own), a busybox layer. Everything is removed even on failure.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../shared/containers.js';
import { ContainerSpec, type ContainerSpecInput } from '../../../shared/containers.js';
import type { SeccompProfile } from '../../../shared/seccomp-profile.js';
import { AGENT_DIR, isAlive } from '../../../build/testing/isolated-agent.js';
import { inProcessRuntime } from '../../../build/testing/in-process-runtime.js';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { removeCgroupParent, testCgroupParent } from '../../../build/testing/cgroup-sandbox.js';
import { unmountUnder } from '../../../build/testing/mounts.js';
import { ActivityLog } from '../activity/activity-log.js';
import { ContainerRuntime, type RuntimeOptions } from './container-runtime.js';
import { initHelperName } from './helper-protocol.js';
import { capabilityMask, DEFAULT_CAPABILITIES } from './security-policy.js';

const IMAGE_ID = `sha256:${'b'.repeat(64)}`;
let root: string;
let layer: string;
let parent: string;
let activity: ActivityLog;
const runtimes: ContainerRuntime[] = [];

async function newRuntime(extra: Partial<RuntimeOptions> = {}): Promise<ContainerRuntime> {
  const runtime = await inProcessRuntime({
    root,
    layer,
    cgroupParent: parent,
    imageName: 'busybox:test',
    imageId: IMAGE_ID,
    activity,
    extra,
  });
  runtimes.push(runtime);
  return runtime;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-runtime-'));
  layer = await makeBusyboxLayer(join(root, 'layer'));
  parent = testCgroupParent();
  activity = new ActivityLog();
});

afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.close()));
  await removeCgroupParent(parent);
  unmountUnder(root);
  await rm(root, { recursive: true, force: true });
});

const text = (entries: LogEntry[], stream?: 'stdout' | 'stderr') =>
  entries
    .filter((e) => !stream || e.stream === stream)
    .map((e) => e.log)
    .join('');

/** Runs a container to its end and returns its output and exit. */
async function run(runtime: ContainerRuntime, spec: Partial<ContainerSpecInput> & { command: string[] }) {
  const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:test', ...spec }));
  await runtime.start(id);
  const exit = await runtime.wait(id);
  const logs = await runtime.logs(id, {});
  return { id, ...exit, out: text(logs, 'stdout'), err: text(logs, 'stderr') };
}

describe('container runtime (real kernel)', () => {
  it('runs the command as PID 1 in its own namespaces with Docker’s capabilities, no_new_privs and seccomp', async () => {
    const runtime = await newRuntime();
    const result = await run(runtime, {
      command: ['sh', '-c', 'echo pid=$$; hostname; ps -o pid,comm | wc -l; cat /proc/self/status'],
      hostname: 'jar1',
    });
    expect(result.exitCode).toBe(0);
    expect(result.out).toContain('pid=1\n');
    expect(result.out).toContain('jar1\n');
    const status = Object.fromEntries(result.out.split('\n').map((line) => line.split(':\t').map((s) => s.trim())));
    const docker = capabilityMask(DEFAULT_CAPABILITIES);
    expect(status.CapEff).toBe(docker);
    expect(status.CapBnd).toBe(docker);
    expect(status.CapAmb).toBe('0000000000000000');
    expect(status.NoNewPrivs).toBe('1');
    expect(status.Seccomp).toBe('2');
  });

  it('hides the host: its processes, its files, its hostname; /proc/kcore is masked; mount, swapon, modules and /proc/sys are refused', async () => {
    const secret = `onggi-secret-${process.pid}-${Date.now()}`;
    await writeFile(join('/tmp', secret), 'host secret');
    try {
      const runtime = await newRuntime();
      const script = [
        'ps -o comm | tail -n +2 | sort | tr "\\n" " "; echo',
        `cat /tmp/${secret} /proc/1/root/tmp/${secret} ../../../../tmp/${secret} 2>/dev/null && echo LEAK-FILE`,
        'cd / && cd .. && cd .. && ls / | tr "\\n" " "; echo',
        // Masked where the kernel has it (this one may not): either way nothing can be read.
        'head -c 16 /proc/kcore 2>/dev/null | wc -c',
        'mount -t tmpfs none /mnt 2>/dev/null && echo LEAK-MOUNT',
        'umount /proc 2>/dev/null && echo LEAK-UMOUNT',
        'swapon /tmp 2>/dev/null && echo LEAK-SWAP',
        'insmod /tmp/x.ko 2>/dev/null && echo LEAK-MODULE',
        'echo 1 > /proc/sys/kernel/sysrq 2>/dev/null && echo LEAK-PROCSYS',
        'hostname evil 2>/dev/null && echo LEAK-HOSTNAME',
        'chroot / true 2>/dev/null; echo chroot-done',
        // CAP_MKNOD is kept (as in Docker) but the device rules forbid opening what it makes: the host console here.
        'mknod /tmp/console c 4 0 && timeout 1 head -c 1 /tmp/console 2>&1 | grep -q "not permitted" || echo LEAK-DEVICE',
      ].join('\n');
      const result = await run(runtime, { command: ['sh', '-c', script] });
      expect(result.out).not.toMatch(/LEAK/);
      const lines = result.out.split('\n');
      // Only its own processes, none of the host's. A pipeline stage may still show as sh before its
      // exec, or as exe while busybox re-executes itself through /proc/self/exe to run the applet.
      const own = new Set(['ps', 'sh', 'sort', 'tail', 'tr', 'exe']);
      expect(
        lines[0]
          ?.trim()
          .split(' ')
          .filter((name) => !own.has(name)),
      ).toEqual([]);
      expect(result.out).toContain('bin dev etc'); // walking up from / stays in the container's root
      expect(result.out).toMatch(/^0$/m); // /proc/kcore reads as empty (masked by /dev/null)
      expect(result.exitCode).toBe(0);
    } finally {
      await rm(join('/tmp', secret), { force: true });
    }
  });

  it('restarts on failure, keeping its filesystem, and stops restarting once it succeeds', async () => {
    const runtime = await newRuntime();
    const { id } = await runtime.create(
      ContainerSpec.parse({
        image: 'busybox:test',
        command: ['sh', '-c', '[ -f /ran ] && exit 0; touch /ran; exit 1'],
        restart: 'on-failure',
      }),
    );
    await runtime.start(id);
    // Exited 1, restarted (its /ran survived in the upper dir), exited 0: no further restart.
    for (let i = 0; i < 500 && runtime.find(id).exitCode !== 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(runtime.find(id)).toMatchObject({ state: 'exited', exitCode: 0, restartCount: 1 });
    await runtime.remove(id);
  });

  it('runs as the given user in the given working directory', async () => {
    const runtime = await newRuntime();
    const result = await run(runtime, {
      command: ['sh', '-c', 'id -u; id -g; pwd; grep CapEff /proc/self/status'],
      user: '65534:65534',
      workingDir: '/tmp/work',
    });
    expect(result.out).toBe('65534\n65534\n/tmp/work\nCapEff:\t0000000000000000\n');
  });

  it('reports exit codes, and keeps stdout and stderr apart', async () => {
    const runtime = await newRuntime();
    const result = await run(runtime, { command: ['sh', '-c', 'echo out; echo err >&2; exit 7'] });
    expect(result).toMatchObject({ exitCode: 7, oomKilled: false, out: 'out\n', err: 'err\n' });
  });

  it('kills a memory hog over its limit and says so', async () => {
    const runtime = await newRuntime();
    // The hog is PID 1, so the kernel's OOM kill ends the container (a shell around it would survive, as in Docker).
    const result = await run(runtime, { command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1'], limits: { memory: '32m' } });
    expect(result.exitCode).toBe(137);
    expect(result.oomKilled).toBe(true);
  });

  it('contains a fork bomb under its pids limit, and the machine keeps answering', async () => {
    const runtime = await newRuntime();
    // The inner shell forks until the limit refuses it (and then gives up); PID 1 lives on as sleep.
    const bomb = 'sh -c "for i in \\$(seq 1 200); do sleep 1000 & done" 2>/tmp/err; cat /tmp/err >&2; exec sleep 1000';
    const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:test', command: ['sh', '-c', bomb], limits: { pids: 20 } }));
    await runtime.start(id);
    const started = Date.now();
    let logs = '';
    while (!/can't fork|Resource temporarily unavailable/.test(logs) && Date.now() - started < 10_000)
      logs = text(await runtime.logs(id, {}), 'stderr');
    expect(logs).toMatch(/can't fork|Resource temporarily unavailable/);
    const stats = await runtime.stats(id);
    expect(stats.pids.limit).toBe(20);
    expect(stats.pids.current).toBeGreaterThan(10);
    expect(stats.pids.current).toBeLessThanOrEqual(20);
    const probe = Date.now();
    await readFile('/proc/loadavg', 'utf8');
    expect(Date.now() - probe).toBeLessThan(1000);
    await runtime.kill(id);
    await runtime.remove(id);
  });

  it('holds a busy loop near its cpu limit', async () => {
    const runtime = await newRuntime();
    const { id } = await runtime.create(
      ContainerSpec.parse({ image: 'busybox:test', command: ['sh', '-c', 'while :; do :; done'], limits: { cpus: 0.1 } }),
    );
    await runtime.start(id);
    // A measurement window, not a wait for readiness: cpu time used over 3 s of wall time.
    const before = await runtime.stats(id);
    const t0 = process.hrtime.bigint();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = await runtime.stats(id);
    const wallNs = Number(process.hrtime.bigint() - t0);
    const share = (after.cpu.usageNs - before.cpu.usageNs) / wallNs;
    expect(share).toBeGreaterThan(0.05);
    expect(share).toBeLessThan(0.15);
    await runtime.remove(id, true);
  });

  it('enters a running container with exec: same namespaces, same security, exit code passed through', async () => {
    const runtime = await newRuntime();
    const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:test', command: ['sleep', '1000'], hostname: 'execme' }));
    await runtime.start(id);
    const args = runtime.execSpec(id);
    const exec = (argv: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(join(AGENT_DIR, initHelperName()), [...args, '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => resolve({ code, out }));
      });
    const inside = await exec([
      'sh',
      '-c',
      'hostname; ps -o comm | grep -c sleep; grep -E "^(CapEff|NoNewPrivs|Seccomp)" /proc/self/status; exit 3',
    ]);
    expect(inside.code).toBe(3);
    expect(inside.out).toContain('execme\n1\n');
    expect(inside.out).toContain(`CapEff:\t${capabilityMask(DEFAULT_CAPABILITIES)}`);
    expect(inside.out).toContain('NoNewPrivs:\t1');
    expect(inside.out).toContain('Seccomp:\t2');
    const detail = await runtime.inspect(id);
    expect(Object.keys(detail.namespaces ?? {})).toEqual(expect.arrayContaining(['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup']));
    await runtime.remove(id, true);
  });

  it('applies a seccomp profile of the user to the container and to every exec; inspect names it and counts its rules', async () => {
    const runtime = await newRuntime();
    const profile: SeccompProfile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
    };
    const seccomp = { kind: 'profile' as const, name: 'no-mkdir.json', profile };
    const result = await run(runtime, { command: ['sh', '-c', 'mkdir /tmp/d; echo "mkdir=$?"; ls / >/dev/null; echo "ls=$?"'], seccomp });
    expect(result.out).toBe('mkdir=1\nls=0\n');
    expect(result.err).toMatch(/Operation not permitted/);
    expect((await runtime.inspect(result.id)).seccomp).toEqual({ profile: 'no-mkdir.json', rules: 2, noNewPrivileges: true });

    const { id } = await runtime.create(
      ContainerSpec.parse({ image: 'busybox:test', command: ['sleep', '1000'], seccomp, noNewPrivileges: false }),
    );
    await runtime.start(id);
    const inside = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const argv = ['sh', '-c', 'mkdir /tmp/e 2>/dev/null; echo "mkdir=$?"; grep NoNewPrivs /proc/self/status'];
      const child = spawn(join(AGENT_DIR, initHelperName()), [...runtime.execSpec(id), '--', ...argv], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => resolve({ code, out }));
    });
    expect(inside).toEqual({ code: 0, out: 'mkdir=1\nNoNewPrivs:\t0\n' });
    expect((await runtime.inspect(id)).seccomp).toEqual({ profile: 'no-mkdir.json', rules: 2, noNewPrivileges: false });
    await runtime.remove(id, true);

    const plain = await runtime.create(ContainerSpec.parse({ image: 'busybox:test', command: ['true'] }));
    expect((await runtime.inspect(plain.id)).seccomp).toMatchObject({ profile: 'default', noNewPrivileges: true });
    await expect(
      runtime.create(
        ContainerSpec.parse({
          image: 'busybox:test',
          command: ['true'],
          seccomp: {
            kind: 'profile',
            name: 'twice.json',
            profile: {
              defaultAction: 'SCMP_ACT_ERRNO',
              syscalls: [
                { names: ['read'], action: 'SCMP_ACT_ALLOW' },
                { names: ['read'], action: 'SCMP_ACT_TRAP' },
              ],
            },
          },
        }),
      ),
    ).rejects.toThrow(/syscalls\[1\]: read already has another action/);
  });

  it('close lets the start in hand finish and save, then starts nothing: what the next agent reads is final', async () => {
    // The start is held where the network is plumbed (its supervisor made, "go" not yet sent).
    let entered = (): void => undefined;
    const inHand = new Promise<void>((resolve) => (entered = resolve));
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const runtime = await newRuntime({
      beforeStart: async () => {
        entered();
        await gate;
      },
    });
    const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:test', command: ['sleep', '1000'], restart: 'always' }));
    const starting = runtime.start(id);
    await inHand;
    const closing = runtime.close();
    release();
    await closing;
    // Before close returned, the start had saved its record: a restart-policy container the
    // agent "dies" on here is found running, never as a start cut short.
    const saved = JSON.parse(await readFile(join(root, 'containers', id, 'container.json'), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ state: 'running', startPending: false });
    await starting;
    // A restart or start asked of an agent on its way out is refused, not begun and cut short.
    const { id: other } = await runtime.create(ContainerSpec.parse({ image: 'busybox:test', command: ['true'] }));
    await expect(runtime.start(other)).rejects.toMatchObject({ kind: 'agent_closing' });
    const next = await newRuntime();
    expect(next.find(id)).toMatchObject({ state: 'running' });
    expect(next.find(other)).toMatchObject({ state: 'created', error: null });
    await next.remove(id, true);
    await next.remove(other);
  });

  it('finds running containers again after a restart, and learns how those that ended meanwhile ended', async () => {
    const first = await newRuntime();
    const { id: keeps } = await first.create(ContainerSpec.parse({ image: 'busybox:test', command: ['sleep', '1000'] }));
    const { id: ends } = await first.create(ContainerSpec.parse({ image: 'busybox:test', command: ['sleep', '1000'] }));
    await first.start(keeps);
    await first.start(ends);
    const endsPid = (await first.inspect(ends)).pid ?? 0;
    await first.close(); // the daemon "dies": its watchers stop; the containers do not
    process.kill(endsPid, 'SIGKILL'); // one ends while nobody watches (init ignores TERM)
    // Wait for its supervisor to record the exit (a condition, bounded).
    const exitFile = join(root, 'containers', ends, 'exit.json');
    for (let i = 0; i < 500 && !(await readFile(exitFile, 'utf8').catch(() => '')); i += 1) await new Promise((r) => setTimeout(r, 10));
    const second = await newRuntime();
    expect(second.find(keeps)).toMatchObject({ state: 'running' });
    expect(second.find(ends)).toMatchObject({ state: 'exited', exitCode: 137 });
    await second.stop(keeps, 1);
    expect(second.find(keeps)).toMatchObject({ state: 'exited', exitCode: 137 });
    await second.remove(keeps);
    await second.remove(ends);
  });

  it('keeps a container whose record cannot be read (files, process, cgroup) and reaps a directory without one', async () => {
    const first = await newRuntime();
    const { id } = await first.create(ContainerSpec.parse({ image: 'busybox:test', command: ['sleep', '1000'] }));
    await first.start(id);
    const { pid, rootfs } = await first.inspect(id);
    await first.close();
    const dir = join(root, 'containers', id);
    const record = join(dir, 'container.json');
    const saved = await readFile(record, 'utf8');
    await writeFile(join(dir, 'upper', 'user-data'), 'keep me');
    // What a power loss can leave of a record renamed into place without an fsync: an empty file.
    await writeFile(record, '');
    const orphan = join(root, 'containers', 'f'.repeat(64));
    await mkdir(join(orphan, 'upper'), { recursive: true });
    try {
      const second = await newRuntime();
      await second.close();
      expect(second.list(true).map((container) => container.id)).not.toContain(id);
      expect(await readFile(join(dir, 'upper', 'user-data'), 'utf8')).toBe('keep me');
      expect(pid !== null && isAlive(pid)).toBe(true);
      expect(await readFile('/proc/self/mountinfo', 'utf8')).toContain(rootfs.merged);
      await expect(stat(orphan)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      // With its record back, the container is found again and removed like any other.
      await writeFile(record, saved);
      const third = await newRuntime();
      await third.remove(id, true);
    }
  });

  it('finishes a removal cut short after the record was unlinked: process, mount, cgroup and directory go', async () => {
    const first = await newRuntime();
    const { id } = await first.create(ContainerSpec.parse({ image: 'busybox:test', command: ['sleep', '1000'] }));
    await first.start(id);
    const detail = await first.inspect(id);
    await first.close();
    // Where a forced removal commits: the record is gone, nothing else has been released yet.
    await rm(join(root, 'containers', id, 'container.json'));
    await newRuntime();
    expect(detail.pid !== null && isAlive(detail.pid)).toBe(false);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(detail.rootfs.merged);
    for (const dir of detail.cgroup.paths) await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(root, 'containers', id))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('recovers per container: one whose mount cannot be released is marked dead with the reason, the rest and the runtime work', async () => {
    const first = await newRuntime();
    const stuck = await first.create(ContainerSpec.parse({ image: 'busybox:test', name: 'stuck', command: ['sleep', '1000'] }));
    const fine = await first.create(ContainerSpec.parse({ image: 'busybox:test', name: 'fine', command: ['sleep', '1000'] }));
    await first.start(stuck.id);
    await first.start(fine.id);
    const detail = await first.inspect(stuck.id);
    await first.close(); // the agent is gone
    // Something outside the container keeps its rootfs busy (a shell whose cwd is in it), and the
    // container ends while no agent watches: its supervisor cannot unmount, and says so by omission.
    const blocker = spawn('sleep', ['1000'], { cwd: detail.rootfs.merged, stdio: 'ignore' });
    try {
      if (detail.pid !== null) process.kill(detail.pid, 'SIGKILL');
      const exitFile = join(root, 'containers', stuck.id, 'exit.json');
      for (let i = 0; i < 500 && !(await stat(exitFile).catch(() => undefined)); i += 1) await new Promise((r) => setTimeout(r, 10));
      expect(JSON.parse(await readFile(exitFile, 'utf8'))).not.toHaveProperty('rootfsUnmountedMs');

      const second = await newRuntime(); // used to throw: "the container runtime is unavailable"
      const listed = new Map(second.list(true).map((c) => [c.name, c]));
      expect(listed.get('stuck')).toMatchObject({ state: 'dead', pid: null });
      expect(listed.get('stuck')?.error).toMatch(/could not recover it after a restart: umount .*merged.*remove it with rm -f/s);
      expect(listed.get('fine')?.state).toBe('running');
      await expect(second.start('stuck')).rejects.toMatchObject({ kind: 'dead' });
      const other = await run(second, { command: ['echo', 'still works'] });
      expect(other.out).toBe('still works\n');
      await second.remove(other.id);

      blocker.kill('SIGKILL');
      await new Promise((resolve) => blocker.once('exit', resolve));
      await second.remove('stuck', true);
      await second.remove('fine', true);
      expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(detail.rootfs.merged);
      expect(second.list(true).map((c) => c.name)).not.toContain('stuck');
    } finally {
      blocker.kill('SIGKILL');
    }
  });

  it('removes everything it made: overlay mount, cgroups, directory', async () => {
    const runtime = await newRuntime();
    const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:test', command: ['sleep', '1000'] }));
    await runtime.start(id);
    const detail = await runtime.inspect(id);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).toContain(detail.rootfs.merged);
    await expect(runtime.remove(id)).rejects.toMatchObject({ kind: 'running' });
    await runtime.remove(id, true);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(detail.rootfs.merged);
    for (const dir of detail.cgroup.paths) await expect(readFile(join(dir, 'cgroup.procs'))).rejects.toThrow();
    await expect(readFile(join(root, 'containers', id, 'container.json'))).rejects.toThrow();
    expect(activity.list({ container: detail.name }).map((e) => e.argv?.[0] ?? 'write')).toEqual(
      expect.arrayContaining(['mount', 'umount', 'mkdir', 'rmdir', 'write']),
    );
  });

  it('wait on an --rm container answers once it is removed: its image is free and its directory gone (docker run --rm; rmi)', async () => {
    const runtime = await newRuntime();
    const { id } = await runtime.create(
      ContainerSpec.parse({
        image: 'busybox:test',
        command: ['sh', '-c', 'while [ ! -e /go ]; do usleep 5000; done; exit 3'],
        autoRemove: true,
      }),
    );
    const { name } = runtime.find(id);
    await runtime.start(id);
    const waiting = runtime.wait(id);
    await writeFile(join(root, 'containers', id, 'merged', 'go'), '');
    expect(await waiting).toMatchObject({ exitCode: 3 });
    expect(runtime.usingImage(IMAGE_ID)).not.toContain(name);
    expect(existsSync(join(root, 'containers', id))).toBe(false);
  });

  it('logs a teardown step that failed through the daemon logger, and still releases the rest', async () => {
    const errors: string[] = [];
    const log = { info: () => {}, debug: () => {}, error: (message: string) => errors.push(message) };
    const runtime = await newRuntime({
      log,
      afterStop: () => Promise.reject(new Error('veth busy')),
    });
    const { id, exitCode } = await run(runtime, { command: ['true'] });
    expect(exitCode).toBe(0);
    const detail = await runtime.inspect(id);
    await runtime.remove(id);
    // Only this container's lines: the new runtime also released the stopped containers earlier tests left.
    expect(errors.filter((line) => line.startsWith(`container ${detail.name}:`))).toEqual([
      expect.stringMatching(/releasing its resources: 1 step\(s\) failed: network teardown: veth busy$/),
      expect.stringMatching(/removing it: 1 step\(s\) failed: network teardown: veth busy$/),
    ]);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).not.toContain(detail.rootfs.merged);
    await expect(stat(join(root, 'containers', id))).rejects.toThrow();
  });
});
