// Escape attempts from inside a container, as root there, against the real kernel: every one must
// be refused, and the host must be found unchanged afterwards. The attempts that need a syscall
// busybox cannot make live in testdata/escape.c (built static here and copied into the image);
// container-runtime.test.ts covers the basics (host files and processes hidden, kcore masked,
// mount/insmod/hostname via busybox) and is not repeated. The whole suite runs twice: in the
// machine's user namespace (--userns=host) and in one of the container's own (--userns=auto, its
// range from the test's own subuid/subgid files). --privileged is outside this suite: it is meant
// to be able to do most of these.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerSpec, type ContainerSpecInput, type LogEntry } from '../../../shared/containers.js';
import { isAlive } from '../../../build/testing/isolated-agent.js';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { removeCgroupParent, testCgroupParent } from '../../../build/testing/cgroup-sandbox.js';
import { unmountUnder } from '../../../build/testing/mounts.js';
import { ActivityLog } from '../activity/activity-log.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { inProcessRuntime } from '../../../build/testing/in-process-runtime.js';
import type { UsernsMode } from '../../../shared/userns.js';
import { usernsRuntime } from '../userns/userns-settings.js';

let root: string;
let layer: string;
let parent: string;
let runtime: ContainerRuntime;
let hostSleeper: ChildProcess;
let marker: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-escape-'));
  layer = await makeBusyboxLayer(join(root, 'layer'));
  const built = spawnSync('gcc', ['-static', '-O1', '-o', join(layer, 'bin/escape'), join(__dirname, 'testdata/escape.c')], {
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`cannot build escape.c: ${built.stderr}`);
  marker = join(root, `host-only-${process.pid}`);
  await writeFile(marker, 'host');
  hostSleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
  parent = testCgroupParent();
  const activity = new ActivityLog();
  const subid = join(root, 'subid');
  await writeFile(subid, 'onggi:5000000:1048576\n');
  runtime = await inProcessRuntime({
    root,
    layer,
    cgroupParent: parent,
    imageName: 'busybox:escape',
    imageId: `sha256:${'e'.repeat(64)}`,
    activity,
    extra: { userns: usernsRuntime(join(root, 'state'), activity, { ONGGI_SUBUID_FILE: subid, ONGGI_SUBGID_FILE: subid }) },
  });
});

afterAll(async () => {
  await runtime?.close();
  if (hostSleeper?.pid !== undefined && isAlive(hostSleeper.pid)) hostSleeper.kill('SIGKILL');
  await removeCgroupParent(parent);
  unmountUnder(root);
  await rm(root, { recursive: true, force: true });
});

const stdout = (entries: LogEntry[]) =>
  entries
    .filter((e) => e.stream === 'stdout')
    .map((e) => e.log)
    .join('');

/** The user namespace the suite's containers run in, and capabilities added (describe.each below). */
let userns: UsernsMode = 'host';
let capAdd: string[] = [];

async function run(spec: Partial<ContainerSpecInput> & { command: string[] }) {
  const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:escape', userns, capAdd, ...spec }));
  await runtime.start(id);
  const exit = await runtime.wait(id);
  const out = stdout(await runtime.logs(id, {}));
  await runtime.remove(id, true);
  return { ...exit, out };
}

function hostDevice(): [number, number] {
  const dev = statSync('/').dev;
  return [Math.floor(dev / 256) & 0xfff, dev & 0xff];
}

const hostLinks = () => spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.replace(/\s+state \S+.*$/gm, '');

// With a user namespace of its own, capabilities other than SYS_ADMIN are the container's own:
// the kernel checks these against the machine's user namespace (open_by_handle_at for
// DAC_READ_SEARCH — the "shocker" escape —, modules, raw I/O, the clock), so the attempts fail
// all the same. (--privileged is outside this suite: it hands the machine to the container.)
const ADDED_CAPS = ['NET_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_TIME', 'DAC_READ_SEARCH', 'IPC_LOCK', 'LINUX_IMMUTABLE'];

describe.each([
  { mode: 'host' as const, caps: [] as string[], label: '--userns=host' },
  { mode: 'auto' as const, caps: [] as string[], label: '--userns=auto' },
  { mode: 'auto' as const, caps: ADDED_CAPS, label: `--userns=auto --cap-add ${ADDED_CAPS.join(',')}` },
])('escape attempts (each must fail) with $label', ({ mode, caps }) => {
  beforeAll(() => {
    userns = mode;
    capAdd = caps;
  });

  it('runs in the user namespace asked for', async () => {
    const result = await run({ command: ['cat', '/proc/self/uid_map'] });
    const [inside, outside] = result.out.trim().split(/\s+/).map(Number);
    expect(inside).toBe(0);
    if (mode === 'host') expect(outside).toBe(0);
    else expect(outside).toBeGreaterThanOrEqual(5000000);
  });

  it('cannot leave through chroot, /proc/*/root, kcore, sysrq, /proc/sys, devices, modules, mounts, namespaces, reboot, clock, or host pids', async () => {
    const [major, minor] = hostDevice();
    const linksBefore = hostLinks();
    const hostnameBefore = hostname();
    const result = await run({ command: ['/bin/escape', marker, String(hostSleeper.pid), String(major), String(minor)] });
    const attempts = new Map(
      result.out
        .split('\n')
        .map((line) => line.split(' '))
        .filter((parts) => parts.length >= 3)
        .map(([name, verdict, ...detail]) => [name ?? '', `${verdict} ${detail.join(' ')}`] as const),
    );
    const expected = [
      'chroot-out',
      'proc-root-walk',
      'read-kcore',
      'write-sysrq-trigger',
      'write-proc-sys-kernel',
      'write-proc-sys-vm',
      'write-sys-kernel',
      'write-sys-fs-cgroup',
      'mknod-host-disk',
      'finit-module',
      'init-module',
      'delete-module',
      'mount-proc',
      'mount-sysfs',
      'mount-tmpfs',
      'remount-root-rw',
      'remount-proc-sys-rw',
      'umount-masked-kcore',
      'unshare-userns',
      'unshare-mountns',
      'setns-mnt',
      'pivot-root',
      'sethostname',
      'reboot',
      'swapon',
      'set-host-clock',
      'bpf',
      'keyctl',
      'iopl',
      'open-by-handle-at',
      'kill-host-pid',
      'ptrace-host-pid',
      'process-vm-readv-host-pid',
    ];
    expect([...attempts.keys()].sort()).toEqual([...expected].sort());
    const escaped = [...attempts].filter(([, verdict]) => !verdict.startsWith('blocked'));
    expect(escaped).toEqual([]);
    expect(result.out).toContain('kill-all-done');
    // And the host agrees: same hostname, the host process lives, same links, marker untouched.
    expect(hostname()).toBe(hostnameBefore);
    expect(isAlive(hostSleeper.pid ?? 0)).toBe(true);
    expect(hostLinks()).toBe(linksBefore);
  });

  it('cannot change host links through a netlink socket, nor write through to the image layer', async () => {
    const linksBefore = hostLinks();
    const layerBefore = (await readdir(join(layer, 'bin'))).length;
    const script = [
      'ip link add onggi-evil type dummy 2>/dev/null && echo LEAK-LINK-ADD',
      // (busybox skips an up/down that changes nothing, so change what always differs)
      'ip link set lo mtu 1300 2>/dev/null && echo LEAK-LINK-MTU',
      'ip link set lo address 02:00:00:00:00:01 2>/dev/null && echo LEAK-LINK-ADDRESS',
      'ip addr add 10.66.66.66/32 dev lo 2>/dev/null && echo LEAK-ADDR',
      'ip route add 10.66.0.0/16 dev lo 2>/dev/null && echo LEAK-ROUTE',
      'ip link | grep -c ": " ', // only its own loopback,
      'ip link show lo | grep -q "<LOOPBACK,UP" && echo lo-up', // which the helper brought up
      'touch /bin/written-by-container && echo wrote-upper',
      'rm /bin/sh && echo removed-in-upper',
    ].join('\n');
    const result = await run({ command: ['/bin/busybox', 'sh', '-c', script] });
    // With NET_ADMIN added the container may change its own namespace's links (that is what the
    // capability gives): the escape would be the machine's links changing, checked below either way.
    if (capAdd.includes('NET_ADMIN')) expect(result.out).toContain('LEAK-LINK-MTU');
    else expect(result.out).not.toMatch(/LEAK/);
    expect(result.out).toMatch(/^1$/m);
    expect(result.out).toContain('lo-up');
    // Writes land in the container's upper dir: the shared layer keeps its files.
    expect(result.out).toContain('wrote-upper');
    expect((await readdir(join(layer, 'bin'))).length).toBe(layerBefore);
    await expect(copyFile(join(layer, 'bin/sh'), join(root, 'sh-still-there'))).resolves.toBeUndefined();
    expect(hostLinks()).toBe(linksBefore);
  });

  it('runs a non-root user without any capability, unable to regain them through setuid files', async () => {
    // A setuid-root copy of busybox in the image: no_new_privs must keep it from raising privileges.
    // (in a directory of its own: busybox picks its applet by the name it runs under)
    await mkdir(join(layer, 'suid'), { recursive: true });
    await copyFile(join(layer, 'bin/busybox'), join(layer, 'suid/busybox'));
    await chmod(join(layer, 'suid/busybox'), 0o4755);
    try {
      const result = await run({
        command: ['/suid/busybox', 'sh', '-c', 'id -u; grep -E "^Cap(Eff|Prm)" /proc/self/status'],
        user: '65534:65534',
      });
      expect(result.out).toBe('65534\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n');
    } finally {
      await rm(join(layer, 'suid'), { recursive: true, force: true });
    }
  });
});
