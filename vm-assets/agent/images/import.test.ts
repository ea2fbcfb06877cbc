// Importing tarballs on the machine: skopeo's docker-archive, Docker 25+'s OCI-style docker save,
// an OCI image-layout archive, and plain rootfs tarballs (gzip and not).
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useRegistryImages } from '../../../build/testing/test-images.js';
import { ActivityLog } from '../activity/activity-log.js';
import { detectKind, importImages } from './import.js';
import { pullImage } from './pull.js';
import { ImageStore } from './store.js';
import { builtHelper, errorOf } from './test-support.js';
import { makeTar } from './test-tar.js';

let work: string;
let store: ImageStore;

const fixture = useRegistryImages();
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'onggi-import-'));
  store = await ImageStore.open({ root: join(work, 'images'), activity: new ActivityLog(), helper: builtHelper });
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('images.import', () => {
  it('tells the archive kinds apart', async () => {
    expect(await detectKind(fixture.images.archives.dockerArchive)).toBe('docker-archive');
    expect(await detectKind(fixture.images.archives.dockerOciArchive)).toBe('docker-archive');
    expect(await detectKind(fixture.images.archives.ociArchive)).toBe('oci-archive');
    expect(await detectKind(fixture.images.archives.rootfsGz)).toBe('rootfs');
    expect(await detectKind(fixture.images.archives.rootfsTar)).toBe('rootfs');
  });

  it('imports a docker save archive with its RepoTags, whiteouts and all', async () => {
    const [image] = await importImages(store, { path: fixture.images.archives.dockerArchive });
    expect(image?.names).toEqual([fixture.images.archives.dockerArchiveName]);
    expect(image?.layers).toBe(3);
    const { layerDirs } = await store.resolve('onggi-test/archived:v1');
    expect(lstatSync(join(layerDirs[2] as string, fixture.images.layered.deletedFile)).isCharacterDevice()).toBe(true);
    expect(readFileSync(join(layerDirs[2] as string, 'opaque/c'), 'utf8')).toContain('top layer');
    expect(readlinkSync(join(layerDirs[0] as string, 'bin/ls'))).toBe('/bin/busybox');
  });

  it("imports Docker 25+'s OCI-style docker save, with the manifest digest from its index", async () => {
    const [image] = await importImages(store, { path: fixture.images.archives.dockerOciArchive, name: 'extra/tag:1' });
    expect(image?.names).toEqual([fixture.images.archives.dockerOciArchiveName, 'docker.io/extra/tag:1']);
    expect(image?.manifestDigest).toBe(fixture.images.digests.busybox);
  });

  it('imports an OCI archive, named by its ref.name annotation, sharing layers with a pulled image', async () => {
    const pulled = await pullImage(store, { ref: fixture.images.refs.busybox });
    const [image] = await importImages(store, { path: fixture.images.archives.ociArchive, kind: 'oci-archive' });
    expect(image?.names.sort()).toEqual([fixture.images.archives.ociArchiveName, `${fixture.registry.host}/busybox:latest`].sort());
    expect(image?.id).toBe(pulled.id); // the same config: the same image, now with two names
    expect(store.list().length).toBe(1);
    expect(store.inspect(pulled.id).names.sort()).toEqual(
      [fixture.images.archives.ociArchiveName, `${fixture.registry.host}/busybox:latest`].sort(),
    );
    expect(readdirSync(join(work, 'images/layers')).length).toBe(1);
  });

  it('imports a rootfs tarball as one layer with a made-up config; gzip or not', async () => {
    const [gz] = await importImages(store, { path: fixture.images.archives.rootfsGz, name: 'minirootfs:gz' });
    expect(gz?.names).toEqual(['docker.io/library/minirootfs:gz']);
    expect(gz?.layers).toBe(1);
    const detail = store.inspect('minirootfs:gz');
    expect(detail.config.cmd).toEqual(['/bin/sh']);
    expect(detail.config.env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    expect(detail.layerDetails[0]?.digest).toBeNull();
    expect(existsSync(join(detail.layerDetails[0]?.dir ?? '', 'bin/busybox'))).toBe(true);
    const [plain] = await importImages(store, { path: fixture.images.archives.rootfsTar, kind: 'rootfs', name: 'minirootfs:plain' });
    expect(plain?.layers).toBe(1);
    // A rootfs without /bin/sh gets no command.
    const bare = join(work, 'bare.tar');
    await writeFile(bare, makeTar([{ path: 'hello', data: 'hi', mode: 0o755 }]));
    await importImages(store, { path: bare, name: 'bare' });
    expect(store.inspect('bare').config.cmd).toBeNull();
  });

  it('needs a name for a rootfs, and says when an archive is not what it was said to be', async () => {
    const unnamed = await errorOf(importImages(store, { path: fixture.images.archives.rootfsGz }));
    expect(unnamed.field).toBe('params.name');
    const wrongKind = await errorOf(importImages(store, { path: fixture.images.archives.rootfsTar, kind: 'docker-archive' }));
    expect(wrongKind.message).toContain('manifest.json');
    const notTar = join(work, 'not.tar');
    await writeFile(notTar, 'hello, I am not a tarball'.repeat(100));
    const bad = await errorOf(importImages(store, { path: notTar }));
    expect(bad.field).toBe('params.path');
    const missing = await errorOf(importImages(store, { path: join(work, 'nope.tar') }));
    expect(missing.field).toBe('params.path');
    expect(readdirSync(join(work, 'images/tmp'))).toEqual([]);
  });
});
