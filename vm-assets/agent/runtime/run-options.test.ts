// Docker's run options with a kernel effect, on the real kernel: the built init helper, overlayfs,
// cgroups under a parent of the test's own, a busybox layer whose /etc/resolv.conf is a symlink
// out of the root and whose /etc/passwd names a user. Everything is removed even on failure.
import { appendFile, lstat, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerSpec, type ContainerSpecInput, type LogEntry } from '../../../shared/containers.js';
import { inProcessRuntime } from '../../../build/testing/in-process-runtime.js';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { removeCgroupParent, testCgroupParent } from '../../../build/testing/cgroup-sandbox.js';
import { unmountUnder } from '../../../build/testing/mounts.js';
import { parseConfigBlob, toImageConfig } from '../images/manifest.js';
import type { ContainerRuntime, RuntimeOptions } from './container-runtime.js';
import { imageStopSignal } from './run-options.js';

const IMAGE_ID = `sha256:${'c'.repeat(64)}`;
let root: string;
let layer: string;
let parent: string;
/** A file on the machine the image's /etc/resolv.conf symlink points at: it must never change. */
let bait: string;
let machineResolv: string;
let upstreamResolv: string;
const runtimes: ContainerRuntime[] = [];

async function newRuntime(extra: Partial<RuntimeOptions> = {}): Promise<ContainerRuntime> {
  const runtime = await inProcessRuntime({
    root,
    layer,
    cgroupParent: parent,
    imageName: 'optbox:test',
    imageId: IMAGE_ID,
    extra: {
      resolvSources: { machine: machineResolv, resolvedUpstream: upstreamResolv, networkManagerUpstream: join(root, 'absent') },
      ...extra,
    },
  });
  runtimes.push(runtime);
  return runtime;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-run-options-'));
  layer = await makeBusyboxLayer(join(root, 'layer'));
  await appendFile(join(layer, 'etc/passwd'), 'app:x:1234:2345:app:/home/app:/bin/sh\n');
  await appendFile(join(layer, 'etc/group'), 'app:x:2345:\nstaff:x:777:\n');
  bait = join(root, 'bait');
  await writeFile(bait, 'the machine’s file\n');
  await symlink(bait, join(layer, 'etc/resolv.conf'));
  machineResolv = join(root, 'machine-resolv.conf');
  upstreamResolv = join(root, 'upstream-resolv.conf');
  await writeFile(machineResolv, 'nameserver 127.0.0.53\noptions edns0\n');
  await writeFile(upstreamResolv, 'nameserver 192.0.2.53\nsearch example.test\n');
  parent = testCgroupParent();
});

afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.close()));
  await removeCgroupParent(parent);
  unmountUnder(root);
  await rm(root, { recursive: true, force: true });
});

const text = (entries: LogEntry[]) => entries.map((e) => e.log).join('');

async function run(runtime: ContainerRuntime, spec: Partial<ContainerSpecInput> & { command: string[] }) {
  const { id } = await runtime.create(ContainerSpec.parse({ image: 'optbox:test', ...spec }));
  await runtime.start(id);
  const exit = await runtime.wait(id);
  const out = text(await runtime.logs(id, {}));
  await runtime.remove(id);
  return { ...exit, out };
}

async function until(check: () => boolean | Promise<boolean>, what: string, attempts = 1000): Promise<void> {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('run options (real kernel)', () => {
  it("binds a resolv.conf made from the machine's over the image's symlink, never writing through it", async () => {
    const runtime = await newRuntime();
    const plain = await run(runtime, { command: ['cat', '/etc/resolv.conf'] });
    expect(plain.exitCode).toBe(0);
    expect(plain.out).toContain('nameserver 192.0.2.53\n');
    expect(plain.out).toContain('search example.test\n');
    expect(plain.out).not.toContain('127.0.0.53');
    const own = await run(runtime, {
      command: ['sh', '-c', 'cat /etc/resolv.conf; echo written > /etc/resolv.conf && echo ok'],
      dns: ['10.9.8.7'],
      dnsSearch: ['.'],
      dnsOptions: ['ndots:3'],
    });
    expect(own.out).toMatch(/nameserver 10\.9\.8\.7\noptions ndots:3\nok\n$/);
    expect(own.out).not.toContain('search');
    expect(await readFile(bait, 'utf8')).toBe('the machine’s file\n');
    expect((await lstat(join(layer, 'etc/resolv.conf'))).isSymbolicLink()).toBe(true);
  });

  it('--read-only: the root filesystem refuses writes; /dev/shm and /etc/resolv.conf stay writable', async () => {
    const runtime = await newRuntime();
    const result = await run(runtime, {
      command: [
        'sh',
        '-c',
        'touch /made 2>&1; echo touch=$?; touch /dev/shm/x && echo shm=ok; echo x >> /etc/resolv.conf && echo resolv=ok',
      ],
      readOnly: true,
    });
    expect(result.out).toContain('Read-only file system');
    expect(result.out).toContain('touch=1');
    expect(result.out).toContain('shm=ok');
    expect(result.out).toContain('resolv=ok');
    const writable = await run(runtime, { command: ['sh', '-c', 'touch /made && echo made'] });
    expect(writable.out).toBe('made\n');
  });

  it("--user NAME[:GROUP] runs as the ids in the image's /etc/passwd and /etc/group", async () => {
    const runtime = await newRuntime();
    expect((await run(runtime, { command: ['sh', '-c', 'id -u; id -g'], user: 'app' })).out).toBe('1234\n2345\n');
    expect((await run(runtime, { command: ['sh', '-c', 'id -u; id -g'], user: 'app:staff' })).out).toBe('1234\n777\n');
    expect((await run(runtime, { command: ['sh', '-c', 'id -u; id -g'], user: '4321:staff' })).out).toBe('4321\n777\n');
  });

  it('refuses an unknown user or group clearly, leaving nothing behind', async () => {
    const runtime = await newRuntime();
    const before = await readdir(join(root, 'containers'));
    await expect(runtime.create(ContainerSpec.parse({ image: 'optbox:test', user: 'nosuch' }))).rejects.toMatchObject({
      field: 'params.user',
      message: expect.stringContaining('user "nosuch" is not in the image\'s /etc/passwd'),
    });
    await expect(runtime.create(ContainerSpec.parse({ image: 'optbox:test', user: 'app:nogroup2' }))).rejects.toMatchObject({
      field: 'params.user',
    });
    expect(await readdir(join(root, 'containers'))).toEqual(before);
    expect(runtime.list(true)).toEqual([]);
  });

  it('--shm-size sizes /dev/shm (default 64 MiB)', async () => {
    const runtime = await newRuntime();
    const sized = await run(runtime, { command: ['sh', '-c', 'grep " /dev/shm " /proc/mounts'], shmSize: '128m' });
    expect(sized.out).toContain('size=131072k');
    expect((await run(runtime, { command: ['sh', '-c', 'grep " /dev/shm " /proc/mounts'] })).out).toContain('size=65536k');
  });

  it('--stop-signal is what stop sends; --stop-timeout is how long stop waits when not told', async () => {
    const runtime = await newRuntime();
    const { id } = await runtime.create(
      ContainerSpec.parse({
        image: 'optbox:test',
        command: ['sh', '-c', 'trap "echo got USR1; exit 3" USR1; echo ready; while true; do sleep 0.05; done'],
        stopSignal: 'USR1',
      }),
    );
    await runtime.start(id);
    await until(async () => text(await runtime.logs(id, {})).includes('ready'), 'the trap to be set');
    expect(await runtime.stop(id)).toMatchObject({ state: 'exited', exitCode: 3 });
    expect(text(await runtime.logs(id, {}))).toContain('got USR1');
    await runtime.remove(id);

    // PID 1 without a handler never sees SIGTERM: stop waits the container's own timeout, then kills.
    const { id: stubborn } = await runtime.create(
      ContainerSpec.parse({ image: 'optbox:test', command: ['sleep', '1000'], stopTimeout: 1 }),
    );
    await runtime.start(stubborn);
    const started = Date.now();
    expect(await runtime.stop(stubborn)).toMatchObject({ state: 'exited', exitCode: 137 });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(5000); // the default, 10 s, was not used
    await runtime.remove(stubborn);
    await expect(runtime.create(ContainerSpec.parse({ image: 'optbox:test', stopSignal: 'SIGNOPE' }))).rejects.toMatchObject({
      field: 'params.stopSignal',
    });
  });

  it('--restart unless-stopped restarts on failure and after the agent’s restart, not once the user stopped it', async () => {
    const first = await newRuntime();
    const { id } = await first.create(
      ContainerSpec.parse({
        image: 'optbox:test',
        command: ['sh', '-c', 'echo run >> /runs; [ $(wc -l < /runs) -ge 2 ] && exec sleep 1000; exit 1'],
        restart: 'unless-stopped',
      }),
    );
    await first.start(id);
    // Failed once, restarted: now it sleeps.
    await until(() => first.find(id).restartCount === 1 && first.find(id).state === 'running', 'the restart');
    const pid = first.find(id).pid ?? 0;
    await first.close(); // the agent dies; its container ends while nobody watches
    process.kill(pid, 'SIGKILL');
    // Up to 30 s: in the full suite, beside the crash and fuzz suites, the supervisor's end (drain,
    // unmount, exit file) was seen to take over 10 s on this 2-core machine.
    await until(
      async () => (await readFile(join(root, 'containers', id, 'exit.json'), 'utf8').catch(() => '')) !== '',
      'the exit file',
      3000,
    );
    const second = await newRuntime();
    expect(second.find(id)).toMatchObject({ state: 'running', restartCount: 2 });
    // Stopped by the user: not restarted, neither now nor by the next agent.
    expect(await second.stop(id, 0)).toMatchObject({ state: 'exited' });
    expect(second.find(id)).toMatchObject({ state: 'exited', restartCount: 2, stoppedByUser: true });
    await second.close();
    const third = await newRuntime();
    expect(third.find(id)).toMatchObject({ state: 'exited', restartCount: 2 });
    // Started again, the policy applies again.
    await third.start(id);
    expect(third.find(id).stoppedByUser).toBe(false);
    await third.remove(id, true);
  }, 60_000);

  it("the image's STOPSIGNAL is what stop sends when the container names none", async () => {
    const config = {
      env: [],
      entrypoint: null,
      cmd: ['sh'],
      workingDir: '',
      user: '',
      labels: {},
      exposedPorts: [],
      stopSignal: 'SIGUSR1',
    };
    const runtime = await newRuntime({
      images: { resolve: async () => ({ id: IMAGE_ID, names: ['optbox:test'], config, layerDirs: [layer] }) },
    });
    const trapping = [
      'sh',
      '-c',
      'trap "echo got USR1; exit 3" USR1; trap "echo got TERM; exit 4" TERM; echo ready; while true; do sleep 0.05; done',
    ];
    const stopWith = async (spec: Partial<ContainerSpecInput>) => {
      const { id } = await runtime.create(ContainerSpec.parse({ image: 'optbox:test', command: trapping, ...spec }));
      await runtime.start(id);
      await until(async () => text(await runtime.logs(id, {})).includes('ready'), 'the traps to be set');
      const { exitCode } = await runtime.stop(id);
      await runtime.remove(id);
      return exitCode;
    };
    expect(await stopWith({})).toBe(3);
    expect(await stopWith({ stopSignal: 'TERM' })).toBe(4);
  });

  it('a container the user stops stays stopped, also under --restart always (as Docker)', async () => {
    const runtime = await newRuntime();
    const { id } = await runtime.create(ContainerSpec.parse({ image: 'optbox:test', command: ['sleep', '1000'], restart: 'always' }));
    await runtime.start(id);
    expect(await runtime.stop(id, 0)).toMatchObject({ state: 'exited', exitCode: 137 });
    expect(runtime.find(id)).toMatchObject({ state: 'exited', restartCount: 0 });
    // kill without a stop signal of its own ends its restarts too (Docker's ExitOnNext).
    await runtime.start(id);
    expect(await runtime.kill(id)).toMatchObject({ state: 'exited' });
    expect(runtime.find(id)).toMatchObject({ state: 'exited', restartCount: 0 });
    await runtime.remove(id);
  });

  it('labels are listed and inspected', async () => {
    const runtime = await newRuntime();
    const { id } = await runtime.create(
      ContainerSpec.parse({ image: 'optbox:test', command: ['true'], labels: { 'com.example.tier': 'web', empty: '' } }),
    );
    expect(runtime.list(true).find((c) => c.id === id)?.labels).toEqual({ 'com.example.tier': 'web', empty: '' });
    expect((await runtime.inspect(id)).labels).toEqual({ 'com.example.tier': 'web', empty: '' });
    await runtime.remove(id);
  });

  it("reads STOPSIGNAL from an image's config blob, keeping only a signal-shaped value", () => {
    const blob = (StopSignal: unknown) =>
      toImageConfig(
        parseConfigBlob(Buffer.from(JSON.stringify({ config: { StopSignal }, rootfs: { type: 'layers', diff_ids: [] } })), 'test'),
      );
    expect(blob('SIGQUIT').stopSignal).toBe('SIGQUIT');
    expect(blob('$(reboot)').stopSignal).toBeUndefined();
    expect(blob(null).stopSignal).toBeUndefined();
    expect(imageStopSignal({ ...blob('SIGNOPE'), stopSignal: 'SIGNOPE' })).toEqual({});
    expect(imageStopSignal(blob('QUIT'))).toEqual({ imageStopSignal: 'SIGQUIT' });
  });

  it('the spec schema names the field of a bad option', () => {
    const field = (input: Record<string, unknown>) =>
      ContainerSpec.safeParse({ image: 'optbox:test', ...input }).error?.issues.map((issue) => issue.path.join('.'));
    expect(field({ dns: ['not-an-ip'] })).toEqual(['dns.0']);
    expect(field({ dnsSearch: ['bad domain'] })).toEqual(['dnsSearch.0']);
    expect(field({ dnsOptions: ['nd ots'] })).toEqual(['dnsOptions.0']);
    expect(field({ addHosts: ['db'] })).toEqual(['addHosts.0']);
    expect(field({ addHosts: ['db:300.1.1.1'] })).toEqual(['addHosts.0']);
    expect(field({ labels: { 'a=b': 'c' } })).toEqual(['labels.a=b']);
    expect(field({ shmSize: '1k' })).toEqual(['shmSize']);
    expect(field({ shmSize: 'lots' })).toEqual(['shmSize']);
    expect(field({ stopTimeout: -1 })).toEqual(['stopTimeout']);
    expect(field({ stopSignal: 'sig term' })).toEqual(['stopSignal']);
    expect(field({ user: 'a b' })).toEqual(['user']);
    expect(field({ restart: 'sometimes' })).toEqual(['restart']);
    expect(field({ addHosts: ['db:10.0.0.5', 'v6:fe80::1'], user: 'app:staff', restart: 'unless-stopped' })).toBeUndefined();
  });
});
