// The store's selectors, list/inspect, and remove with Docker's untag/delete rules, reference
// counting of shared layers, and the refusal while a container uses the image.
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useRegistryImages } from '../../../build/testing/test-images.js';
import { ActivityLog } from '../activity/activity-log.js';
import { importImages } from './import.js';
import { pullImage } from './pull.js';
import { ImageStore } from './store.js';
import { makeTar } from './test-tar.js';
import { builtHelper, errorOf } from './test-support.js';

let work: string;
let root: string;
let store: ImageStore;
let activity: ActivityLog;
let users: Record<string, string[]>;

const fixture = useRegistryImages();
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'onggi-store-'));
  root = join(work, 'images');
  activity = new ActivityLog();
  users = {};
  store = await ImageStore.open({ root, activity, helper: builtHelper, inUse: (id) => users[id] ?? [] });
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('selecting images', () => {
  it('finds an image by familiar or canonical name, full id, or an id prefix of 12+ hex digits', async () => {
    const { id } = await pullImage(store, { ref: fixture.images.refs.busybox });
    const hex = id.slice(7);
    for (const selector of [
      `${fixture.registry.host}/busybox`,
      `${fixture.registry.host}/busybox:latest`,
      id,
      hex.slice(0, 12),
      `sha256:${hex.slice(0, 16)}`,
      hex,
    ]) {
      expect(store.find(selector).id).toBe(id);
    }
    for (const selector of [hex.slice(0, 11), `${fixture.registry.host}/busybox:v2`, 'busybox', 'sha256:nothex']) {
      const error = await errorOf(store.resolve(selector));
      expect(error.kind).toBe('not_found');
      expect(error.field).toBe('params.image');
    }
  });

  it('lists and inspects what it holds', async () => {
    const layered = await pullImage(store, { ref: fixture.images.refs.layered });
    const busybox = await pullImage(store, { ref: fixture.images.refs.busybox });
    expect(store.list().map((i) => i.id)).toEqual([busybox.id, layered.id]); // newest first
    const detail = store.inspect(layered.id);
    expect(detail.layerDetails.map((l) => existsSync(l.dir))).toEqual([true, true, true]);
    expect(detail.layerDetails.every((l) => l.digest?.startsWith('sha256:'))).toBe(true);
    expect(detail.config.labels['org.onggi.test']).toBe('layered');
    expect(detail.size).toBeGreaterThan(busybox.size); // layered = busybox's layer + two more
    const resolved = await store.resolve(layered.id);
    expect(resolved.layerDirs).toEqual(detail.layerDetails.map((l) => l.dir));
    expect(resolved.platform).toBe(`linux/${layered.architecture}`);
  });
});

describe('removing images', () => {
  it('untags one of several names; by id it needs force; the last name deletes', async () => {
    const pulled = await pullImage(store, { ref: fixture.images.refs.busybox });
    await pullImage(store, { ref: fixture.images.refs.multi }); // the amd64 entry is the same image
    const byDigest = `${fixture.registry.host}/busybox@${fixture.images.digests.busybox}`;
    await pullImage(store, { ref: byDigest });
    expect(store.inspect(pulled.id).names.length).toBe(3);

    expect(await store.remove(`${fixture.registry.host}/multi`)).toEqual({
      untagged: [`${fixture.registry.host}/multi:latest`],
      deleted: [],
    });
    const refused = await errorOf(store.remove(pulled.id));
    expect(refused.kind).toBe('conflict');
    expect(refused.message).toContain('has 2 names');
    const forced = await store.remove(pulled.id.slice(7, 19), true);
    expect(forced.deleted).toEqual([pulled.id]);
    expect(forced.untagged.sort()).toEqual([`${fixture.registry.host}/busybox:latest`, byDigest].sort());
    expect(store.list()).toEqual([]);
    expect(readdirSync(join(root, 'layers'))).toEqual([]);
    expect(readdirSync(join(root, 'blobs/sha256'))).toEqual([]);
    expect(activity.list().some((e) => e.argv?.[0] === 'rm' && e.ok)).toBe(true);
  });

  it('refuses to delete an image a container uses, force or not, but may untag a spare name', async () => {
    const pulled = await pullImage(store, { ref: fixture.images.refs.busybox });
    await pullImage(store, { ref: fixture.images.refs.multi });
    users[pulled.id] = ['web', 'db'];
    expect((await store.remove(`${fixture.registry.host}/multi:latest`)).untagged).toEqual([`${fixture.registry.host}/multi:latest`]);
    for (const force of [false, true]) {
      const error = await errorOf(store.remove(`${fixture.registry.host}/busybox`, force));
      expect(error.kind).toBe('conflict');
      expect(error.message).toContain('used by containers web, db');
    }
    expect(store.inspect(pulled.id).names).toEqual([`${fixture.registry.host}/busybox:latest`]);
    users[pulled.id] = [];
    await store.remove(`${fixture.registry.host}/busybox`);
    expect(store.list()).toEqual([]);
  });

  it('deletes only the layers no other image uses', async () => {
    const busybox = await pullImage(store, { ref: fixture.images.refs.busybox });
    const layered = await pullImage(store, { ref: fixture.images.refs.layered });
    const dirs = (await store.resolve(layered.id)).layerDirs;
    const result = await store.remove(`${fixture.registry.host}/layered:latest`);
    expect(result).toEqual({ untagged: [`${fixture.registry.host}/layered:latest`], deleted: [layered.id] });
    expect(dirs.map((d) => existsSync(d))).toEqual([true, false, false]);
    expect((await store.resolve(busybox.id)).layerDirs).toEqual([dirs[0]]);
    // And after a restart the store agrees.
    const reopened = await ImageStore.open({ root, activity });
    expect(reopened.list().map((i) => i.id)).toEqual([busybox.id]);
    expect(readdirSync(join(root, 'layers')).length).toBe(1);
  });

  it('moves a name to the newer image, leaving the older one nameless', async () => {
    const first = join(work, 'one.tar');
    const second = join(work, 'two.tar');
    await writeFile(first, makeTar([{ path: 'version', data: '1' }]));
    await writeFile(second, makeTar([{ path: 'version', data: '2' }]));
    const [one] = await importImages(store, { path: first, name: 'app:latest' });
    const [two] = await importImages(store, { path: second, name: 'app:latest' });
    expect(store.find('app').id).toBe(two?.id);
    expect(store.inspect(one?.id ?? '').names).toEqual([]);
    expect(await store.remove(one?.id ?? '')).toEqual({ untagged: [], deleted: [one?.id] });
  });
});
