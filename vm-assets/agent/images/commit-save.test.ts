// commit and image save against the real kernel: a busybox rootfs imported into a real store, a
// container changing it, the committed image run again (the change seen, the deleted file still
// deleted), and save → import into a fresh store → run.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../../shared/containers.js';
import { ContainerSpec, type ContainerSpecInput } from '../../../shared/containers.js';
import { inProcessRuntime } from '../../../build/testing/in-process-runtime.js';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { removeCgroupParent, testCgroupParent } from '../../../build/testing/cgroup-sandbox.js';
import { unmountUnder } from '../../../build/testing/mounts.js';
import { ActivityLog } from '../activity/activity-log.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { applyChanges, commitContainer } from './commit.js';
import { importImages } from './import.js';
import { saveImages } from './save.js';
import { ImageStore } from './store.js';
import { builtHelper, errorOf } from './test-support.js';

let root: string;
let parent: string;
let store: ImageStore;
let runtime: ContainerRuntime;
const runtimes: ContainerRuntime[] = [];

async function runtimeOver(images: ImageStore, dir: string): Promise<ContainerRuntime> {
  const made = await inProcessRuntime({
    root: dir,
    layer: '/nonexistent',
    cgroupParent: parent,
    imageName: 'unused',
    imageId: `sha256:${'0'.repeat(64)}`,
    extra: { images },
  });
  runtimes.push(made);
  return made;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-commit-'));
  parent = testCgroupParent();
  const rootfs = await makeBusyboxLayer(join(root, 'rootfs'));
  const tarFile = join(root, 'rootfs.tar');
  execFileSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', tarFile, '.']);
  store = await ImageStore.open({ root: join(root, 'images'), activity: new ActivityLog(), helper: builtHelper });
  await importImages(store, { path: tarFile, kind: 'rootfs', name: 'onggi-test/base:v1' });
  runtime = await runtimeOver(store, join(root, 'run-a'));
});

afterAll(async () => {
  await Promise.all(runtimes.map((made) => made.close()));
  await removeCgroupParent(parent);
  unmountUnder(root);
  await rm(root, { recursive: true, force: true });
});

async function run(on: ContainerRuntime, spec: Partial<ContainerSpecInput>): Promise<{ exitCode: number; out: string }> {
  const { id } = await on.create(ContainerSpec.parse({ image: 'onggi-test/base:v1', ...spec }));
  await on.start(id);
  const { exitCode } = await on.wait(id);
  const out = (await on.logs(id, {})).map((e: LogEntry) => e.log).join('');
  await on.remove(id);
  return { exitCode, out };
}

describe('commit and save (real kernel)', () => {
  it('commit makes an image with the change as a layer; the deleted file stays deleted; --change sets CMD and ENV', async () => {
    const { id } = await runtime.create(
      ContainerSpec.parse({
        image: 'onggi-test/base:v1',
        command: ['sh', '-c', 'echo committed > /new.txt; rm /etc/group; rm -rf /root; mkdir /root'],
      }),
    );
    await runtime.start(id);
    await runtime.wait(id);
    const image = await commitContainer(runtime, store, {
      container: id,
      reference: 'onggi-test/committed:v1',
      changes: ['CMD ["sh", "-c", "cat /new.txt; test -e /etc/group || echo group-gone; echo $GREETING"]', 'ENV GREETING=hello'],
    });
    expect(image.names).toContain('docker.io/onggi-test/committed:v1');
    expect(image.layers).toBe(2);
    const result = await run(runtime, { image: 'onggi-test/committed:v1' });
    expect(result).toEqual({ exitCode: 0, out: 'committed\ngroup-gone\nhello\n' });
    // The layer carries the deletion as an OCI whiteout (and the re-made /root as opaque).
    const saved = join(root, 'committed.tar');
    await saveImages(store, ['onggi-test/committed:v1'], saved);
    const layerTar = join(root, 'layer1.tar');
    await tar.x({ file: saved, cwd: root, filter: (path) => path.replace(/^\.\//, '') === '1/layer.tar' });
    execFileSync('mv', [join(root, '1/layer.tar'), layerTar]);
    const names: string[] = [];
    await tar.t({ file: layerTar, onReadEntry: (entry) => void names.push(entry.path.replace(/^\.\//, '')) });
    expect(names).toEqual(expect.arrayContaining(['etc/.wh.group', 'new.txt', 'root/.wh..wh..opq']));
    await runtime.remove(id);
  });

  it('save then import into a fresh store round-trips: the image runs with its files and config', async () => {
    const archive = join(root, 'save.tar');
    expect(await saveImages(store, ['onggi-test/committed:v1', 'onggi-test/base:v1'], archive)).toEqual({ dest: archive, images: 2 });
    const fresh = await ImageStore.open({ root: join(root, 'images-fresh'), activity: new ActivityLog(), helper: builtHelper });
    const imported = await importImages(fresh, { path: archive, kind: 'docker-archive' });
    expect(imported.flatMap((i) => i.names).sort()).toEqual(['docker.io/onggi-test/base:v1', 'docker.io/onggi-test/committed:v1']);
    const other = await runtimeOver(fresh, join(root, 'run-b'));
    expect(await run(other, { image: 'onggi-test/committed:v1' })).toEqual({ exitCode: 0, out: 'committed\ngroup-gone\nhello\n' });
    expect((await errorOf(saveImages(store, ['no-such-image:v9'], join(root, 'x.tar')))).field).toBeDefined();
  });

  it('refuses a bad --change naming it', () => {
    expect(() => applyChanges({}, ['FROM busybox'])).toThrow(/cannot be changed/);
    expect(() => applyChanges({}, ['CMD ["unterminated'])).toThrow(/JSON array/);
    expect(() => applyChanges({}, ['ENV 1A=b'])).toThrow(/NAME=value/);
    expect(applyChanges({ Env: ['A=1'] }, ['ENV A=2', 'CMD echo hi', 'WORKDIR /srv'])).toEqual({
      Env: ['A=2'],
      Cmd: ['/bin/sh', '-c', 'echo hi'],
      WorkingDir: '/srv',
    });
  });
});
