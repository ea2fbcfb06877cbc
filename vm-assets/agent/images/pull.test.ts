// Pulls from a real registry (Debian's docker-registry on 127.0.0.1), as root, into a fresh store
// per test; a proxy in front of the registry counts requests, requires tokens, tampers with blobs
// or redirects them to another host.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort, pushImage, startRegistryProxy, type RegistryProxy } from '../../../build/testing/registry.js';
import { useRegistryImages } from '../../../build/testing/test-images.js';
import type { PullProgress } from '../../../shared/images.js';
import { ActivityLog } from '../activity/activity-log.js';
import type { ProgressFn } from './layer-install.js';
import { machinePlatform } from './platform.js';
import { pullImage } from './pull.js';
import { ImageStore } from './store.js';
import { builtHelper, errorOf } from './test-support.js';
import { makeTar } from './test-tar.js';

let work: string;
let root: string;
let store: ImageStore;
const proxies: RegistryProxy[] = [];

let activity: ActivityLog;

async function openStore(inUse?: (id: string) => string[]): Promise<ImageStore> {
  activity = new ActivityLog();
  return ImageStore.open({ root, activity, helper: builtHelper, inUse });
}

async function proxy(options: Parameters<typeof startRegistryProxy>[1] = {}, name?: string): Promise<RegistryProxy> {
  const p = await startRegistryProxy(fixture.registry.host, options, name);
  proxies.push(p);
  return p;
}

function collect(): { events: Array<{ layer: string | null; status: PullProgress['status'] }>; fn: ProgressFn } {
  const events: Array<{ layer: string | null; status: PullProgress['status'] }> = [];
  return { events, fn: (layer, status) => events.push({ layer, status }) };
}

const via = (p: RegistryProxy, ref: string): string => ref.replace(fixture.registry.host, p.host);
const blobGets = (p: RegistryProxy): string[] =>
  p.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/')).map((r) => r.path);

function leftovers(): string[] {
  const layerTemps = readdirSync(join(root, 'layers')).filter((n) => n.includes('.tmp-'));
  return [...layerTemps, ...readdirSync(join(root, 'tmp'))];
}

const fixture = useRegistryImages();
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'onggi-pull-'));
  root = join(work, 'images');
  store = await openStore();
});
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.stop();
  await rm(work, { recursive: true, force: true });
});

describe('pulling from a registry', () => {
  it('pulls busybox: one layer unpacked with owners, modes and links; compressed blob gone', async () => {
    const { events, fn } = collect();
    const summary = await pullImage(store, { ref: fixture.images.refs.busybox, onProgress: fn });
    expect(summary.names).toEqual([`${fixture.registry.host}/busybox:latest`]);
    expect(summary.manifestDigest).toBe(fixture.images.digests.busybox);
    expect(summary.layers).toBe(1);
    expect(summary.architecture).toBe(machinePlatform().architecture);
    const resolved = await store.resolve('127.0.0.1:' + fixture.registry.host.split(':')[1] + '/busybox');
    expect(resolved.config.cmd).toEqual(['/bin/sh']);
    const [dir] = resolved.layerDirs;
    if (!dir) throw new Error('no layer');
    expect(statSync(join(dir, 'bin/busybox')).mode & 0o7777).toBe(0o755);
    expect(readlinkSync(join(dir, 'bin/sh'))).toBe('busybox');
    expect(readlinkSync(join(dir, 'bin/ls'))).toBe('/bin/busybox');
    expect(statSync(join(dir, 'bin/cat')).ino).toBe(statSync(join(dir, 'bin/busybox')).ino);
    expect(readFileSync(join(dir, 'etc/passwd'), 'utf8')).toContain('nobody:x:65534');
    expect(statSync(join(dir, 'tmp')).mode & 0o7777).toBe(0o1777);
    const home = statSync(join(dir, 'home/nobody'));
    expect([home.uid, home.gid, home.mode & 0o7777]).toEqual([65534, 65534, 0o750]);
    expect(statSync(join(dir, 'usr/local/bin/suid-marker')).mode & 0o7777).toBe(0o4755);
    // Only the config and the manifest are kept as blobs; the layer blob was deleted after unpacking.
    expect(readdirSync(join(root, 'blobs/sha256')).sort()).toEqual([summary.id.slice(7), fixture.images.digests.busybox.slice(7)].sort());
    expect(leftovers()).toEqual([]);
    const statuses = events.map((e) => e.status);
    expect(statuses[0]).toBe('resolving');
    expect(statuses).toContain('downloading');
    expect(statuses).toContain('extracting');
    expect(statuses.at(-1)).toBe('done');
    // The record survives a restart.
    const reopened = await openStore();
    expect(reopened.list().map((i) => i.id)).toEqual([summary.id]);
  });

  it('pulls again without downloading a blob', async () => {
    const p = await proxy();
    await pullImage(store, { ref: via(p, fixture.images.refs.busybox) });
    expect(blobGets(p).length).toBe(2); // config + layer
    p.requests.length = 0;
    const { events, fn } = collect();
    await pullImage(store, { ref: via(p, fixture.images.refs.busybox), onProgress: fn });
    expect(blobGets(p)).toEqual([]);
    expect(events.filter((e) => e.layer !== null).map((e) => e.status)).toEqual(['exists']);
  });

  it('stores a layer shared by two images once, even when both pulls run at the same time', async () => {
    const p = await proxy();
    const [busybox, layered] = await Promise.all([
      pullImage(store, { ref: via(p, fixture.images.refs.busybox) }),
      pullImage(store, { ref: via(p, fixture.images.refs.layered) }),
    ]);
    expect(layered.layers).toBe(3);
    const a = await store.resolve(busybox.id);
    const b = await store.resolve(layered.id);
    expect(b.layerDirs[0]).toBe(a.layerDirs[0]);
    expect(readdirSync(join(root, 'layers')).length).toBe(3);
    expect(blobGets(p).filter((path) => path.endsWith(fixture.images.digests.busyboxLayer)).length).toBe(1);
  });

  it('pulls by digest and verifies it', async () => {
    const ref = `${fixture.registry.host}/busybox@${fixture.images.digests.busybox}`;
    const summary = await pullImage(store, { ref });
    expect(summary.manifestDigest).toBe(fixture.images.digests.busybox);
    expect(summary.names).toEqual([ref]);
    expect((await store.resolve(ref)).id).toBe(summary.id);
    const missing = await errorOf(pullImage(store, { ref: `${fixture.registry.host}/busybox@sha256:${'0'.repeat(64)}` }));
    expect(missing.kind).toBe('not_found');
    expect(missing.message).toContain(`${fixture.registry.host}/busybox@sha256:000`);
  });

  it('resolves a multi-platform index: the machine platform, a platform asked for, or an error listing them', async () => {
    const mine = await pullImage(store, { ref: fixture.images.refs.multi });
    expect(mine.architecture).toBe(machinePlatform().architecture);
    expect(mine.manifestDigest).toBe(fixture.images.digests.multiIndex);
    const arm = await pullImage(store, { ref: fixture.images.refs.multi, platform: 'linux/arm64' });
    expect(arm.architecture).toBe('arm64');
    expect(store.inspect(arm.id).config.labels['org.onggi.test.note']).toMatch(/platform resolution/);
    expect(arm.id).not.toBe(mine.id);
    const none = await errorOf(pullImage(store, { ref: fixture.images.refs.multi, platform: 'linux/s390x' }));
    expect(none.kind).toBe('not_found');
    expect(none.message).toContain('no image for linux/s390x');
    expect(none.message).toContain('linux/arm64/v8');
    expect(none.message).toContain('linux/amd64');
    expect(none.message).not.toContain('unknown');
  });

  it('detects a tampered layer blob and leaves nothing behind', async () => {
    const p = await proxy({ tamperBlobs: new Set([fixture.images.digests.busyboxLayer]) });
    const error = await errorOf(pullImage(store, { ref: via(p, fixture.images.refs.busybox) }));
    expect(error.kind).toBe('digest_mismatch');
    expect(error.message).toContain(`expected ${fixture.images.digests.busyboxLayer}`);
    expect(error.message).toMatch(/got sha256:[a-f0-9]{64}/);
    expect(readdirSync(join(root, 'layers'))).toEqual([]);
    expect(leftovers()).toEqual([]);
    expect(store.list()).toEqual([]);
  });

  it('removes the layers a failed multi-layer pull unpacked, keeping those other images use', async () => {
    const busybox = await pullImage(store, { ref: fixture.images.refs.busybox });
    const [, middle, top] = fixture.images.digests.layeredLayers;
    const p = await proxy({ tamperBlobs: new Set([top ?? '']) });
    const error = await errorOf(pullImage(store, { ref: via(p, fixture.images.refs.layered) }));
    expect(error.kind).toBe('digest_mismatch');
    expect(blobGets(p).some((path) => path.endsWith(middle ?? ''))).toBe(true); // it was downloaded and unpacked…
    expect(readdirSync(join(root, 'layers'))).toEqual((await store.resolve(busybox.id)).layerDirs.map((d) => d.split('/').pop())); // …then removed
    expect(leftovers()).toEqual([]);
    expect(store.list().map((i) => i.id)).toEqual([busybox.id]);
  });

  it("detects a layer whose content does not match the config's diff id", async () => {
    const layer = makeTar([{ path: 'hello', data: 'hello' }]);
    await pushImage(fixture.registry.host, 'wrong-diffid', 'latest', {
      layers: [gzipSync(layer)],
      diffIds: [`sha256:${'1'.repeat(64)}`],
      layerMediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    });
    const error = await errorOf(pullImage(store, { ref: `${fixture.registry.host}/wrong-diffid` }));
    expect(error.kind).toBe('digest_mismatch');
    expect(error.message).toContain("the config's diff id");
    expect(readdirSync(join(root, 'layers'))).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it('refuses a hostile layer served by a registry, and writes nothing outside the store', async () => {
    const target = join(work, 'outside');
    await mkdir(target);
    const layer = makeTar([
      { path: 'link', type: 'symlink', linkpath: target },
      { path: 'link/pwned', data: 'x' },
    ]);
    await pushImage(fixture.registry.host, 'hostile', 'latest', { layers: [layer] });
    const error = await errorOf(pullImage(store, { ref: `${fixture.registry.host}/hostile` }));
    expect(error.kind).toBe('invalid_layer');
    expect(error.message).toContain('through the symlink');
    expect(existsSync(join(target, 'pwned'))).toBe(false);
    expect(readdirSync(join(root, 'layers'))).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it('converts whiteouts and opaque dirs so overlayfs hides what the top layer deleted', async () => {
    const summary = await pullImage(store, { ref: fixture.images.refs.layered });
    const { layerDirs } = await store.resolve(summary.id);
    const top = layerDirs[2] as string;
    // One recorded helper call per marker kind, in the layer's temp dir before it was renamed into
    // place (or the mknod/setfattr fallback when no helper is built).
    const helper = builtHelper();
    const steps = activity.list().map((e) => e.argv ?? []);
    const temp = expect.stringMatching(new RegExp(`^${top}\\.tmp-[0-9a-f]+$`));
    if (helper) {
      expect(steps).toContainEqual([helper, 'whiteout', temp, fixture.images.layered.deletedFile]);
      expect(steps).toContainEqual([helper, 'opaque', temp, fixture.images.layered.opaqueDir]);
    } else {
      expect(steps).toContainEqual([
        'mknod',
        expect.stringMatching(new RegExp(`^${top}\\.tmp-[0-9a-f]+/${fixture.images.layered.deletedFile}$`)),
        'c',
        '0',
        '0',
      ]);
    }
    const whiteout = lstatSync(join(top, fixture.images.layered.deletedFile));
    expect(whiteout.isCharacterDevice()).toBe(true);
    expect(whiteout.rdev).toBe(0);
    const xattr = spawnSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(top, fixture.images.layered.opaqueDir)], {
      encoding: 'utf8',
    });
    if (xattr.error === undefined) expect(xattr.stdout).toBe('y');
    const merged = join(work, 'merged');
    await mkdir(merged);
    const mount = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${[...layerDirs].reverse().join(':')}`, merged], {
      encoding: 'utf8',
    });
    expect(mount.stderr).toBe('');
    try {
      expect(existsSync(join(merged, fixture.images.layered.deletedFile))).toBe(false);
      expect(existsSync(join(merged, fixture.images.layered.keptFile))).toBe(true);
      expect(readdirSync(join(merged, fixture.images.layered.opaqueDir)).sort()).toEqual(fixture.images.layered.opaqueKept);
      expect(existsSync(join(merged, 'bin/busybox'))).toBe(true);
    } finally {
      spawnSync('umount', [merged]);
    }
  });

  it('pulls the glibc and musl images, whose programs run from their layers', async () => {
    const glibc = await store.resolve((await pullImage(store, { ref: fixture.images.refs.glibc })).id);
    const bash = spawnSync('chroot', [glibc.layerDirs[0] as string, '/bin/bash', '-c', 'echo ok from bash'], { encoding: 'utf8' });
    expect(bash.stdout.trim()).toBe('ok from bash');
    if (fixture.images.refs.musl === undefined) {
      console.warn(`skipping the musl image: ${fixture.images.muslSkipReason ?? ''}`);
      return;
    }
    const musl = await store.resolve((await pullImage(store, { ref: fixture.images.refs.musl })).id);
    const hello = spawnSync('chroot', [musl.layerDirs[0] as string, '/hello'], { encoding: 'utf8' });
    expect(hello.stdout).toMatch(/^hello from musl/);
  });

  it('says what is missing: repository or tag not found, registry unreachable', async () => {
    const missing = await errorOf(pullImage(store, { ref: `${fixture.registry.host}/nope:v9` }));
    expect(missing.kind).toBe('not_found');
    expect(missing.message).toContain(`${fixture.registry.host}/nope:v9 not found`);
    const tag = await errorOf(pullImage(store, { ref: `${fixture.registry.host}/busybox:v9` }));
    expect(tag.message).toContain(`${fixture.registry.host}/busybox:v9 not found`);
    const port = await freePort(); // nobody listens there
    const closed = await errorOf(pullImage(store, { ref: `127.0.0.1:${port}/busybox` }));
    expect(closed.kind).toBe('network');
    expect(closed.message).toContain(`cannot reach http://127.0.0.1:${port}: ECONNREFUSED`);
  });
});

describe('registry authentication', () => {
  it('gets an anonymous token from the realm, with service and scope, and caches it for the pull', async () => {
    const p = await proxy({ tokenAuth: {} });
    await pullImage(store, { ref: via(p, fixture.images.refs.busybox) });
    expect(p.tokenRequests.length).toBe(1);
    const query = new URLSearchParams(p.tokenRequests[0]?.query);
    expect(query.get('service')).toBe('onggi-test');
    expect(query.get('scope')).toBe('repository:busybox:pull');
    expect(p.tokenRequests[0]?.authorization).toBeUndefined();
    const statuses = p.requests.filter((r) => r.path.startsWith('/v2/')).map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBe(1); // only the first request; the token is reused
  });

  it('sends credentials to the token realm, and says when they are refused', async () => {
    const p = await proxy({ tokenAuth: { username: 'ada', password: 's3cret' } });
    const refused = await errorOf(
      pullImage(store, { ref: via(p, fixture.images.refs.busybox), auth: { username: 'ada', password: 'wrong' } }),
    );
    expect(refused.kind).toBe('unauthorized');
    expect(refused.message).toContain('refused the credentials');
    const anonymous = await errorOf(pullImage(store, { ref: via(p, fixture.images.refs.busybox) }));
    expect(anonymous.kind).toBe('unauthorized');
    await pullImage(store, { ref: via(p, fixture.images.refs.busybox), auth: { username: 'ada', password: 's3cret' } });
    expect(p.tokenRequests.at(-1)?.authorization).toBe(`Basic ${Buffer.from('ada:s3cret').toString('base64')}`);
  });

  it('answers a Basic challenge with the credentials', async () => {
    const p = await proxy({ basicAuth: { username: 'ada', password: 'pw' } });
    const error = await errorOf(pullImage(store, { ref: via(p, fixture.images.refs.busybox) }));
    expect(error.kind).toBe('unauthorized');
    expect(error.message).toContain('requires a username and password');
    await pullImage(store, { ref: via(p, fixture.images.refs.busybox), auth: { username: 'ada', password: 'pw' } });
  });

  it('follows a blob redirect to another host without the Authorization header', async () => {
    const cdn = await proxy({}, 'localhost');
    const p = await proxy({ tokenAuth: {}, redirectBlobsTo: cdn.host });
    await pullImage(store, { ref: via(p, fixture.images.refs.busybox) });
    expect(p.requests.some((r) => r.status === 307)).toBe(true);
    expect(p.requests.some((r) => r.authorization?.startsWith('Bearer '))).toBe(true);
    const atCdn = cdn.requests.filter((r) => r.path.includes('/blobs/'));
    expect(atCdn.length).toBe(2);
    expect(atCdn.map((r) => r.authorization)).toEqual([undefined, undefined]);
  });
});

describe('the store on disk', () => {
  it('removes what a crash left: temp layers, downloads, and layers no record mentions', async () => {
    const summary = await pullImage(store, { ref: fixture.images.refs.busybox });
    const kept = (await store.resolve(summary.id)).layerDirs[0] as string;
    const orphan = join(root, 'layers', 'a'.repeat(64));
    await mkdir(join(orphan, 'bin'), { recursive: true });
    await mkdir(join(root, 'layers', `${'b'.repeat(64)}.tmp-123456`));
    await writeFile(join(root, 'tmp', 'partial-download'), 'x');
    await writeFile(join(root, 'blobs/sha256', 'c'.repeat(64)), '{}');
    const reopened = await openStore();
    expect(readdirSync(join(root, 'layers'))).toEqual([kept.split('/').pop()]);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(readdirSync(join(root, 'blobs/sha256'))).not.toContain('c'.repeat(64));
    expect((await reopened.resolve(summary.id)).layerDirs).toEqual([kept]);
  });
});
