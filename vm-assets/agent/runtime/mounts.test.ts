// Mounts and volumes against the real kernel (issue 13): bind mounts both ways, read-only that
// really is, named volumes outliving their containers, anonymous ones going with `rm -v`, tmpfs,
// a crafted image layer whose symlinks at mount targets point outside the rootfs, and refusals
// that leave nothing behind. The built init helper, real overlayfs and cgroups; all removed after.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerSpec, type ContainerSpecInput, type LogEntry } from '../../../shared/containers.js';
import { OnggiError } from '../../../shared/errors.js';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { removeCgroupParent, testCgroupParent } from '../../../build/testing/cgroup-sandbox.js';
import { inProcessRuntime } from '../../../build/testing/in-process-runtime.js';
import { unmountUnder } from '../../../build/testing/mounts.js';
import { VolumeService } from '../volumes/handlers.js';
import { VolumeStore } from '../volumes/store.js';
import type { ContainerRuntime } from './container-runtime.js';

const IMAGE_ID = `sha256:${'c'.repeat(64)}`;
let root: string;
/** Paths of the machine that containers bind: outside the state directory (root), which is refused. */
let machine: string;
let layer: string;
let crafted: string;
let seeded: string;
let parent: string;
let volumes: VolumeStore;
let runtime: ContainerRuntime;
let service: VolumeService;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-mounts-'));
  machine = await mkdtemp(join(tmpdir(), 'onggi-mounts-machine-'));
  layer = await makeBusyboxLayer(join(root, 'layer'));
  // The crafted layer: symlinks where containers will ask for mounts, pointing out of the rootfs
  // as the machine would read them (absolute, and climbing with ..).
  crafted = join(root, 'crafted');
  await mkdir(crafted);
  await symlink('/etc', join(crafted, 'abs-link'));
  await symlink('../../../../../../../../../../etc', join(crafted, 'up-link'));
  await symlink(join(machine, 'victim'), join(crafted, 'host-link'));
  // A layer whose VOLUME directory has contents, owners and modes of its own (a database's data dir).
  seeded = join(root, 'seeded');
  await mkdir(join(seeded, 'var/data/sub'), { recursive: true });
  await writeFile(join(seeded, 'var/data/seed.txt'), 'seed\n');
  await symlink('../seed.txt', join(seeded, 'var/data/sub/link'));
  await chown(join(seeded, 'var/data/seed.txt'), 1234, 1234);
  await chmod(join(seeded, 'var/data/seed.txt'), 0o640);
  await chown(join(seeded, 'var/data'), 999, 999);
  await chmod(join(seeded, 'var/data'), 0o750);
  parent = testCgroupParent();
  volumes = new VolumeStore(join(root, 'volumes'));
  runtime = await inProcessRuntime({
    root,
    layer,
    cgroupParent: parent,
    imageName: 'busybox:test',
    imageId: IMAGE_ID,
    extra: {
      volumes,
      images: {
        // `busybox:test` is the busybox layer; `crafted:test` adds the symlink layer on top; `vol:test` declares a VOLUME.
        resolve: async (selector) => ({
          id: IMAGE_ID,
          names: [selector],
          config: {
            env: [],
            entrypoint: null,
            cmd: ['sh'],
            workingDir: '',
            user: '',
            labels: {},
            exposedPorts: [],
            volumes: selector === 'vol:test' || selector === 'seed:test' ? ['/var/data'] : [],
          },
          layerDirs: selector === 'crafted:test' ? [layer, crafted] : selector === 'seed:test' ? [layer, seeded] : [layer],
        }),
      },
    },
  });
  service = new VolumeService(volumes, runtime);
});

afterAll(async () => {
  await runtime?.close();
  await removeCgroupParent(parent);
  unmountUnder(root);
  await rm(root, { recursive: true, force: true });
  await rm(machine, { recursive: true, force: true });
});

const text = (entries: LogEntry[], stream: 'stdout' | 'stderr') =>
  entries
    .filter((e) => e.stream === stream)
    .map((e) => e.log)
    .join('');

async function run(spec: Partial<ContainerSpecInput> & { command: string[] }) {
  const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:test', ...spec }));
  await runtime.start(id);
  const exit = await runtime.wait(id);
  const logs = await runtime.logs(id, {});
  return { id, ...exit, out: text(logs, 'stdout'), err: text(logs, 'stderr') };
}

async function refusal(spec: ContainerSpecInput): Promise<OnggiError> {
  const error = await runtime.create(ContainerSpec.parse(spec)).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(OnggiError);
  return error as OnggiError;
}

describe('mounts and volumes (real kernel)', () => {
  it('a bind mount is shared both ways: the container reads the machine’s file and the machine reads what it writes', async () => {
    const host = join(machine, 'bind-rw');
    await mkdir(host);
    await writeFile(join(host, 'from-host'), 'hello from the machine\n');
    const result = await run({
      mounts: [{ type: 'bind', source: host, target: '/app' }],
      command: ['sh', '-c', 'cat /app/from-host && echo written-inside > /app/from-container'],
    });
    expect(result.err).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.out).toBe('hello from the machine\n');
    expect(await readFile(join(host, 'from-container'), 'utf8')).toBe('written-inside\n');
    await runtime.remove(result.id);
  });

  it(':ro is really read-only: a write inside fails and the mount says ro; the machine’s file is unchanged', async () => {
    const host = join(machine, 'bind-ro');
    await mkdir(host);
    await writeFile(join(host, 'keep'), 'original\n');
    const result = await run({
      mounts: [{ type: 'bind', source: host, target: '/srv/data', readonly: true }],
      command: [
        'sh',
        '-c',
        'cat /srv/data/keep; echo changed > /srv/data/keep || echo write-refused; touch /srv/data/new || echo create-refused; grep " /srv/data " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1',
      ],
    });
    expect(result.out).toBe('original\nwrite-refused\ncreate-refused\nro\n');
    expect(result.err).toContain('Read-only file system');
    expect(await readFile(join(host, 'keep'), 'utf8')).toBe('original\n');
    expect(existsSync(join(host, 'new'))).toBe(false);
    await runtime.remove(result.id);
  });

  it('binds a single file, and -v makes a missing host path (a directory, as Docker)', async () => {
    const file = join(machine, 'app.conf');
    await writeFile(file, 'port=80\n');
    const made = join(machine, 'made-by-v', 'deep');
    const result = await run({
      mounts: [
        { type: 'bind', source: file, target: '/etc/app.conf', readonly: true },
        { type: 'bind', source: made, target: '/made', createSource: true },
      ],
      command: ['sh', '-c', 'cat /etc/app.conf; echo x > /made/f'],
    });
    expect(result.out).toBe('port=80\n');
    expect(await readFile(join(made, 'f'), 'utf8')).toBe('x\n');
    await runtime.remove(result.id);
  });

  it('a named volume outlives rm -f: a new container on it sees the data; rm of it while used is refused naming the container', async () => {
    const first = await runtime.create(
      ContainerSpec.parse({
        image: 'busybox:test',
        name: 'db-one',
        mounts: [{ type: 'volume', source: 'dbdata', target: '/var/lib/db' }],
        command: ['sh', '-c', 'echo row-1 > /var/lib/db/table; exec sleep 1000'],
      }),
    );
    await runtime.start(first.id);
    await expect(service.remove('dbdata')).rejects.toThrow(/in use by container db-one/);
    expect((await service.inspect('dbdata')).containers).toEqual(['db-one']);
    expect((await runtime.inspect('db-one')).mounts).toEqual([
      { type: 'volume', name: 'dbdata', source: volumes.dataDir('dbdata'), target: '/var/lib/db', readonly: false },
    ]);
    await runtime.remove(first.id, true);
    expect(await readFile(join(volumes.dataDir('dbdata'), 'table'), 'utf8')).toBe('row-1\n');
    const second = await run({
      name: 'db-two',
      mounts: [{ type: 'volume', source: 'dbdata', target: '/data' }],
      command: ['cat', '/data/table'],
    });
    expect(second.out).toBe('row-1\n');
    await runtime.remove(second.id, false, true);
    // rm -v leaves named volumes alone.
    expect((await service.inspect('dbdata')).containers).toEqual([]);
    await service.remove('dbdata');
    expect(existsSync(volumes.dir('dbdata'))).toBe(false);
  });

  it('anonymous volumes (-v /path and the image’s VOLUME) go with rm -v, and stay without it', async () => {
    const spec = {
      image: 'vol:test',
      mounts: [{ type: 'volume' as const, target: '/scratch' }],
      command: ['sh', '-c', 'echo a > /scratch/f; echo b > /var/data/g'],
    };
    const kept = await runtime.create(ContainerSpec.parse(spec));
    await runtime.start(kept.id);
    await runtime.wait(kept.id);
    const keptVolumes = (await service.list()).filter((v) => v.containers.includes(kept.name));
    expect(keptVolumes.map((v) => v.anonymous)).toEqual([true, true]);
    const contents = await Promise.all(keptVolumes.map(async (v) => readdir(volumes.dataDir(v.name))));
    expect(contents.flat().sort()).toEqual(['f', 'g']);
    await runtime.remove(kept.id);
    for (const v of keptVolumes) expect(existsSync(volumes.dir(v.name))).toBe(true);
    const pruned = await service.prune({});
    expect(pruned.volumes.sort()).toEqual(keptVolumes.map((v) => v.name).sort());

    const gone = await runtime.create(ContainerSpec.parse(spec));
    const goneVolumes = (await service.list()).filter((v) => v.containers.includes(gone.name)).map((v) => v.name);
    expect(goneVolumes).toHaveLength(2);
    await runtime.remove(gone.id, false, true);
    for (const name of goneVolumes) expect(existsSync(volumes.dir(name))).toBe(false);
  });

  it('a volume mounted empty over an image directory is first filled from it, owners and modes kept (copy-up); never again once used', async () => {
    const show = 'cat /var/data/seed.txt; stat -c "%u:%g %a" /var/data /var/data/seed.txt; readlink /var/data/sub/link';
    const anonymous = await run({ image: 'seed:test', command: ['sh', '-c', show] });
    expect(anonymous.err).toBe('');
    expect(anonymous.out).toBe('seed\n999:999 750\n1234:1234 640\n../seed.txt\n');
    const [made] = (await service.list()).filter((v) => v.containers.includes(runtime.find(anonymous.id).name));
    expect((await stat(join(volumes.dataDir(made?.name ?? ''), 'seed.txt'))).uid).toBe(1234);
    await runtime.remove(anonymous.id, false, true);

    const mounts = [{ type: 'volume' as const, source: 'seeded-db', target: '/var/data' }];
    const first = await run({
      image: 'seed:test',
      mounts,
      command: ['sh', '-c', 'echo changed > /var/data/seed.txt; rm /var/data/sub/link'],
    });
    expect(first.exitCode).toBe(0);
    const second = await run({ image: 'seed:test', mounts, command: ['sh', '-c', 'cat /var/data/seed.txt; ls /var/data/sub | wc -l'] });
    expect(second.out).toBe('changed\n0\n');
    await runtime.remove(first.id);
    await runtime.remove(second.id);
    await service.remove('seeded-db');
  });

  it('a tmpfs gets its size and mode, and noexec when asked', async () => {
    const result = await run({
      mounts: [
        { type: 'tmpfs', target: '/run/cache', tmpfsSize: '8m', tmpfsMode: 0o1770 },
        { type: 'tmpfs', target: '/run/noexec', tmpfsNoexec: true },
      ],
      command: [
        'sh',
        '-c',
        'stat -c %a /run/cache; grep " /run/cache " /proc/self/mountinfo | grep -o "size=[0-9a-z]*"; for d in cache noexec; do cp /bin/busybox /run/$d/true && /run/$d/true && echo $d-runs; done',
      ],
    });
    expect(result.out).toBe('1770\nsize=8192k\ncache-runs\n');
    expect(result.err).toContain('Permission denied');
    await runtime.remove(result.id);
  });

  it('a symlink in the image at a mount target is resolved inside the rootfs, never on the machine (CVE-2021-30465 class)', async () => {
    const host = join(machine, 'payload');
    await mkdir(host);
    await writeFile(join(host, 'marker'), 'payload\n');
    // /abs-link -> /etc and /up-link -> ../../…/etc both mean the container's own /etc: the bind
    // must land there (seen inside), not on the machine's /etc (where mount(2) on the path would put it).
    for (const link of ['/abs-link', '/up-link']) {
      const result = await run({
        image: 'crafted:test',
        mounts: [{ type: 'bind', source: host, target: link, readonly: true }],
        command: ['sh', '-c', 'cat /etc/marker; grep -c root /etc/passwd 2>/dev/null || echo passwd-covered'],
      });
      expect(result.err, link).toBe('');
      expect(result.out, link).toBe('payload\npasswd-covered\n');
      await runtime.remove(result.id);
    }
    // /host-link -> ROOT/victim exists only on the machine: nothing inside matches, so the start is
    // refused, and the machine's directory never saw the mount or a write.
    await mkdir(join(machine, 'victim'));
    const { id } = await runtime.create(
      ContainerSpec.parse({
        image: 'crafted:test',
        mounts: [{ type: 'bind', source: host, target: '/host-link' }],
        command: ['sh', '-c', 'echo leaked > /host-link/written'],
      }),
    );
    await expect(runtime.start(id)).rejects.toThrow(/mount point \/host-link/);
    expect(await readdir(join(machine, 'victim'))).toEqual([]);
    expect(existsSync(join(host, 'written'))).toBe(false);
    await runtime.remove(id);
  });

  it('resolves a mount target through .. while the machine mounts elsewhere (openat2 says EAGAIN: walk again)', async () => {
    const host = join(machine, 'storm-payload');
    await mkdir(host);
    await writeFile(join(host, 'marker'), 'payload\n');
    // Other containers starting mount all the time; a mount namespace of the test's own stands in for them.
    const stormDir = await mkdtemp(join(root, 'storm-'));
    const storm = [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'while :; do mount -t tmpfs none "$1"; umount "$1"; done',
      'storm',
      stormDir,
    ];
    const storms = [1, 2].map(() => spawn('unshare', storm, { stdio: 'ignore' }));
    try {
      for (let i = 0; i < 30; i += 1) {
        const result = await run({
          image: 'crafted:test',
          mounts: [{ type: 'bind', source: host, target: '/up-link', readonly: true }],
          command: ['cat', '/etc/marker'],
        });
        expect(result.out).toBe('payload\n');
        await runtime.remove(result.id);
      }
    } finally {
      for (const storm of storms) storm.kill('SIGKILL');
    }
  });

  it('refuses /proc, /sys, /dev, the state directory and a missing --mount source, naming the field and leaving nothing made', async () => {
    const before = { containers: runtime.list(true).length, volumes: (await service.list()).length };
    const cases: Array<[ContainerSpecInput['mounts'], RegExp]> = [
      [[{ type: 'bind', source: '/proc', target: '/p' }], /\/proc of the machine/],
      [[{ type: 'bind', source: '/sys/fs/cgroup', target: '/c' }], /\/sys of the machine/],
      [[{ type: 'bind', source: '/dev', target: '/d', createSource: true }], /\/dev of the machine/],
      [[{ type: 'bind', source: join(root, 'containers'), target: '/state' }], /agent's state directory/],
      [[{ type: 'bind', source: join(root, 'volumes', 'x'), target: '/state', createSource: true }], /agent's state directory/],
      [[{ type: 'bind', source: join(machine, 'absent'), target: '/a' }], /bind source path does not exist/],
      // Binds are recursive: / would bring the machine's /proc along, a parent of the state directory that directory.
      [[{ type: 'bind', source: '/', target: '/host' }], /\/proc of the machine/],
      [[{ type: 'bind', source: dirname(root), target: '/parent' }], /holds the agent's state directory/],
    ];
    for (const [mounts, message] of cases) {
      // A named volume first: refused runs must not create it either.
      const error = await refusal({
        image: 'busybox:test',
        mounts: [{ type: 'volume', source: 'never-made', target: '/v' }, ...(mounts ?? [])],
        command: ['true'],
      });
      expect(error.message).toMatch(message);
      expect(error.field).toBe('params.mounts.1.source');
    }
    // A symlink on the machine to /proc is caught by where it leads.
    await symlink('/proc/self', join(machine, 'proc-link'));
    expect(
      (
        await refusal({
          image: 'busybox:test',
          mounts: [{ type: 'bind', source: join(machine, 'proc-link'), target: '/p' }],
          command: ['true'],
        })
      ).message,
    ).toMatch(/\/proc/);
    expect(runtime.list(true)).toHaveLength(before.containers);
    expect(await service.list()).toHaveLength(before.volumes);
    expect(existsSync(volumes.dir('never-made'))).toBe(false);
    expect(existsSync(join(machine, 'absent'))).toBe(false);
    expect(existsSync(join(root, 'volumes', 'x'))).toBe(false);
  });

  it('the schema refuses bad volume names, targets and mixes, naming the field', () => {
    const field = (mounts: unknown) => {
      const parsed = ContainerSpec.safeParse({ image: 'busybox:test', mounts });
      return parsed.success ? 'accepted' : `${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`;
    };
    expect(field([{ type: 'volume', source: '../etc', target: '/x' }])).toMatch(/^mounts\.0\.source: not a volume name/);
    expect(field([{ type: 'volume', source: 'a/b', target: '/x' }])).toMatch(/^mounts\.0\.source: .*no "\/"/);
    expect(field([{ type: 'volume', source: 'a..b', target: '/x' }])).toMatch(/^mounts\.0\.source: .*"\.\."/);
    expect(field([{ type: 'bind', source: 'relative', target: '/x' }])).toMatch(/^mounts\.0\.source: must be an absolute path/);
    expect(field([{ type: 'bind', target: '/x' }])).toMatch(/^mounts\.0\.source: a bind mount needs/);
    expect(field([{ type: 'bind', source: '/a', target: 'x' }])).toMatch(/^mounts\.0\.target/);
    expect(field([{ type: 'bind', source: '/a', target: '/proc/sys' }])).toMatch(/^mounts\.0\.target: cannot mount over \/proc/);
    expect(field([{ type: 'tmpfs', target: '/t', tmpfsSize: 'lots' }])).toMatch(/^mounts\.0\.tmpfsSize/);
    expect(field([{ type: 'bind', source: '/a', target: '/t', tmpfsMode: 0o700 }])).toMatch(/^mounts\.0\.tmpfsMode: only a tmpfs/);
    expect(
      field([
        { type: 'tmpfs', target: '/t' },
        { type: 'volume', target: '/t/' },
      ]),
    ).toMatch(/^mounts\.1\.target: duplicate mount point \/t/);
    expect(field([{ type: 'tmpfs', target: '/t', tmpfsSize: '64m', tmpfsMode: 0o1777 }])).toBe('accepted');
  });
});
