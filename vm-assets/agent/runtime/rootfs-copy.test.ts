// cp both ways and export against the real kernel: a running container (frozen while we work) and
// a stopped one (its rootfs mounted for the copy); symlinks pointing out of the rootfs stay inside.
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerSpec } from '../../../shared/containers.js';
import { inProcessRuntime } from '../../../build/testing/in-process-runtime.js';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { removeCgroupParent, testCgroupParent } from '../../../build/testing/cgroup-sandbox.js';
import { unmountUnder } from '../../../build/testing/mounts.js';
import type { ContainerRuntime } from './container-runtime.js';
import { isMounted } from './rootfs.js';
import { copyFromContainer, copyToContainer, exportRootfs } from './rootfs-copy.js';

const IMAGE_ID = `sha256:${'e'.repeat(64)}`;
let root: string;
let layer: string;
let parent: string;
let runtime: ContainerRuntime;
let work: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-cp-'));
  layer = await makeBusyboxLayer(join(root, 'layer'));
  // A link in the image that points at the machine's /etc, absolute and relative.
  await symlink('/etc', join(layer, 'escape'));
  await symlink('../../../../../../../etc', join(layer, 'tmp-escape'));
  parent = testCgroupParent();
  runtime = await inProcessRuntime({ root, layer, cgroupParent: parent, imageName: 'busybox:test', imageId: IMAGE_ID });
  work = join(root, 'work');
  await mkdir(work);
});

afterAll(async () => {
  await runtime.close();
  await removeCgroupParent(parent);
  unmountUnder(root);
  await rm(root, { recursive: true, force: true });
});

describe('cp and export (real kernel)', () => {
  it('copies a tree into a running container and back out unchanged; the container keeps running', async () => {
    const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:test', command: ['sleep', '1000'] }));
    await runtime.start(id);
    const tree = join(work, 'tree');
    await mkdir(join(tree, 'sub'), { recursive: true });
    await writeFile(join(tree, 'a.txt'), 'alpha');
    await writeFile(join(tree, 'sub', 'b.sh'), '#!/bin/sh\necho b\n', { mode: 0o755 });
    await symlink('a.txt', join(tree, 'link'));
    expect(await copyToContainer(runtime, id, tree, '/root')).toEqual({ path: '/root/tree' });
    const merged = (await runtime.inspect(id)).rootfs.merged;
    expect(readFileSync(join(merged, 'root/tree/sub/b.sh'), 'utf8')).toContain('echo b');
    const out = join(work, 'out');
    await mkdir(out);
    expect(await copyFromContainer(runtime, id, '/root/tree', out)).toEqual({ dest: join(out, 'tree') });
    expect(await readFile(join(out, 'tree/a.txt'), 'utf8')).toBe('alpha');
    expect(readlinkSync(join(out, 'tree/link'))).toBe('a.txt');
    // A file to a new name.
    await copyFromContainer(runtime, id, '/etc/passwd', join(out, 'passwd.copy'));
    expect(await readFile(join(out, 'passwd.copy'), 'utf8')).toContain('root:x:0:0');
    // Thawed afterwards: it still answers signals and runs.
    expect(runtime.find(id).state).toBe('running');
    expect(runtime.find(id).paused).toBe(false);
    await runtime.remove(id, true);
  });

  it("never follows a symlink out of the rootfs: a link to /etc resolves to the container's /etc", async () => {
    const marker = `onggi-cp-marker-${process.pid}`;
    const { id } = await runtime.create(ContainerSpec.parse({ image: 'busybox:test', command: ['true'] }));
    const source = join(work, marker);
    await writeFile(source, 'into the container only');
    // Into /escape (→ /etc): lands in the container's /etc, never the machine's.
    expect(await copyToContainer(runtime, id, source, '/escape')).toEqual({ path: `/escape/${marker}` });
    expect(existsSync(join('/etc', marker))).toBe(false);
    // Out through the relative link climbing past the top: the container's /etc/passwd, not the machine's.
    const out = join(work, 'passwd-through-link');
    await copyFromContainer(runtime, id, '/tmp-escape/passwd', out);
    expect(await readFile(out, 'utf8')).toBe(await readFile(join(layer, 'etc/passwd'), 'utf8'));
    // A stopped container's rootfs is mounted for the copy and unmounted after.
    const merged = (await runtime.inspect(id)).rootfs.merged;
    expect(await isMounted(merged)).toBe(false);
    // A link in the container where a file goes is replaced, not written through.
    await runtime.start(id);
    await runtime.wait(id);
    const linkSource = join(work, 'sneaky');
    await symlink('/etc/hostname-on-host', linkSource);
    await copyToContainer(runtime, id, linkSource, '/etc/sneaky');
    await copyToContainer(runtime, id, source, '/etc/sneaky');
    expect(existsSync('/etc/hostname-on-host')).toBe(false);
    await expect(copyToContainer(runtime, id, source, '/no/such/dir/file')).rejects.toMatchObject({ field: 'params.path' });
    await expect(copyFromContainer(runtime, id, '/nothing-here', out)).rejects.toMatchObject({ field: 'params.path' });
    await runtime.remove(id);
  });

  it('export writes the whole rootfs as a tar, with what the container changed', async () => {
    const { id } = await runtime.create(
      ContainerSpec.parse({ image: 'busybox:test', command: ['sh', '-c', 'echo made > /made.txt; rm /etc/group'] }),
    );
    await runtime.start(id);
    await runtime.wait(id);
    const file = join(work, 'export.tar');
    await exportRootfs(runtime, id, file);
    const names = new Set<string>();
    await tar.t({ file, onReadEntry: (entry) => void names.add(entry.path.replace(/^\.\//, '')) });
    for (const path of ['bin/busybox', 'bin/sh', 'etc/passwd', 'made.txt']) expect(names.has(path)).toBe(true);
    expect(names.has('etc/group')).toBe(false);
    await runtime.remove(id);
  });
});
