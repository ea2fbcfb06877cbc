// The registry client's rules that a local registry cannot exercise, against a scripted fetch:
// HTTPS unless insecure or loopback, no downgrade by redirect or token realm, digests checked.
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Digest } from './digest.js';
import { pullImage } from './pull.js';
import { RegistryClient, isLoopbackRegistry } from './registry-client.js';
import { ImageStore } from './store.js';
import { ActivityLog } from '../activity/activity-log.js';
import { errorOf } from './test-support.js';

type Route = (url: URL, init: RequestInit | undefined) => Response | undefined;

/** A fetch that answers from `routes` and records every URL it was asked for. */
function scripted(routes: Route[]): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  const fake = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    urls.push(url.toString());
    for (const route of routes) {
      const res = route(url, init);
      if (res) return res;
    }
    return new Response('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}', { status: 404 });
  }) as typeof fetch;
  return { fetch: fake, urls };
}

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'onggi-client-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('RegistryClient', () => {
  it('uses HTTPS, except for loopback registries and those marked insecure; Docker Hub is registry-1.docker.io', () => {
    expect(new RegistryClient('docker.io').baseUrl).toBe('https://registry-1.docker.io');
    expect(new RegistryClient('ghcr.io').baseUrl).toBe('https://ghcr.io');
    expect(new RegistryClient('registry.lan:5000').baseUrl).toBe('https://registry.lan:5000');
    expect(new RegistryClient('registry.lan:5000', { insecure: true }).baseUrl).toBe('http://registry.lan:5000');
    for (const host of ['127.0.0.1:5000', 'localhost:5000', 'localhost', '127.1.2.3', '[::1]:5000']) {
      expect(isLoopbackRegistry(host)).toBe(true);
      expect(new RegistryClient(host).baseUrl.startsWith('http://')).toBe(true);
    }
    expect(isLoopbackRegistry('127.0.0.1.example.com')).toBe(false);
  });

  it('refuses a redirect from HTTPS to plain HTTP', async () => {
    const { fetch } = scripted([() => new Response(null, { status: 307, headers: { location: 'http://cdn.example.com/blob' } })]);
    const client = new RegistryClient('registry.example.com', { fetch });
    const error = await errorOf(client.downloadBlob('x', sha256Digest('a'), 1, join(work, 'blob')));
    expect(error.kind).toBe('network');
    expect(error.message).toContain('redirected');
    expect(existsSync(join(work, 'blob'))).toBe(false);
  });

  it('refuses a token realm over plain HTTP for an HTTPS registry, and never sends it credentials', async () => {
    const { fetch, urls } = scripted([
      (url) =>
        url.hostname === 'registry.example.com'
          ? new Response('', { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://auth.example.com/token",service="x"' } })
          : undefined,
    ]);
    const client = new RegistryClient('registry.example.com', { fetch, auth: { username: 'u', password: 'p' } });
    const error = await errorOf(client.getManifest('x', 'latest'));
    expect(error.kind).toBe('unauthorized');
    expect(error.message).toContain('token realm over http:');
    expect(urls.some((u) => u.startsWith('http://auth.example.com'))).toBe(false);
  });

  it('checks a manifest pulled by digest against that digest', async () => {
    const wanted = sha256Digest('the real manifest');
    const { fetch } = scripted([() => new Response('{"schemaVersion":2}', { status: 200 })]);
    const error = await errorOf(new RegistryClient('registry.example.com', { fetch }).getManifest('x', wanted));
    expect(error.kind).toBe('digest_mismatch');
    expect(error.message).toContain(`expected ${wanted}, got ${sha256Digest('{"schemaVersion":2}')}`);
  });

  it('stops reading a blob that is longer than its descriptor says', async () => {
    const { fetch } = scripted([() => new Response('x'.repeat(1000), { status: 200 })]);
    const error = await errorOf(
      new RegistryClient('registry.example.com', { fetch }).downloadBlob('x', sha256Digest('x'), 10, join(work, 'blob')),
    );
    expect(error.kind).toBe('digest_mismatch');
    expect(existsSync(join(work, 'blob'))).toBe(false);
  });

  it('refuses Docker schema 1 manifests, and zstd layers before downloading them', async () => {
    const store = await ImageStore.open({ root: join(work, 'images'), activity: new ActivityLog() });
    const schema1 = scripted([
      () =>
        new Response('{"schemaVersion":1,"name":"x","fsLayers":[]}', {
          headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' },
        }),
    ]);
    const old = await errorOf(pullImage(store, { ref: 'registry.example.com/x', fetch: schema1.fetch }));
    expect(old.kind).toBe('unsupported');
    expect(old.message).toContain('schema 1');
    const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: sha256Digest('l'), size: 1 };
    const manifest = JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest('c'), size: 1 },
      layers: [layer],
    });
    const zstd = scripted([
      (url) =>
        url.pathname.includes('/manifests/')
          ? new Response(manifest, { headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })
          : undefined,
    ]);
    const refused = await errorOf(pullImage(store, { ref: 'registry.example.com/x', fetch: zstd.fetch }));
    expect(refused.kind).toBe('unsupported');
    expect(refused.message).toContain('zstd');
    expect(zstd.urls.some((u) => u.includes('/blobs/'))).toBe(false);
  });
});
