// images.pull: reference → manifest (an index resolved to this machine's platform, or the one
// asked for) → config → layers, each downloaded to a temp file while hashed, verified, unpacked
// once into the store and the compressed blob deleted. A layer or image already stored is not
// downloaded again.
import { rm } from 'node:fs/promises';
import { formatImageRef, parseImageRef } from '../../../shared/image-ref.js';
import type { ImageSummary } from '../../../shared/images.js';
import { badImage, registryNotFound, unsupported } from './errors.js';
import { imageFromConfig, unpackInto, type ProgressFn } from './layer-install.js';
import { runLimited } from './locks.js';
import { checkLayerMediaType, parseConfigBlob, parseManifest, type ImageManifest } from './manifest.js';
import { choosePlatform, formatPlatform, isAttestation, machinePlatform, parsePlatform, type Platform } from './platform.js';
import { RegistryClient, type RegistryAuth, type RegistryClientOptions } from './registry-client.js';
import type { ImageStore } from './store.js';

export interface PullOptions {
  ref: string;
  insecure?: boolean;
  auth?: RegistryAuth;
  platform?: string;
  onProgress?: ProgressFn;
  /** For tests. */
  fetch?: RegistryClientOptions['fetch'];
}

const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const PARALLEL_LAYERS = 3;

export async function pullImage(store: ImageStore, options: PullOptions): Promise<ImageSummary> {
  const ref = parseImageRef(options.ref);
  const name = formatImageRef(ref);
  const progress: ProgressFn = options.onProgress ?? (() => undefined);
  const wanted: Platform = options.platform ? parsePlatform(options.platform) : machinePlatform();
  const client = new RegistryClient(ref.registry, { insecure: options.insecure, auth: options.auth, fetch: options.fetch });
  const repo = ref.repository;
  const what = `${ref.registry}/${repo}`;

  progress(null, 'resolving');
  const top = await client.getManifest(repo, ref.digest ?? ref.tag ?? 'latest');
  const parsedTop = parseManifest(top.bytes, top.contentType, `the manifest of ${name}`);
  let manifest: ImageManifest;
  if (parsedTop.kind === 'index') {
    const entries = parsedTop.index.manifests;
    const chosen = choosePlatform(entries, wanted);
    const entry = entries[chosen];
    if (chosen < 0 || !entry) {
      const available = entries
        .filter((e) => e.platform && !isAttestation(e.platform, e.annotations))
        .map((e) => formatPlatform(e.platform as Platform));
      throw registryNotFound(
        `${name} has no image for ${formatPlatform(wanted)}; available: ${available.length > 0 ? [...new Set(available)].join(', ') : 'none'}`,
      );
    }
    const child = await client.getManifest(repo, entry.digest);
    const parsedChild = parseManifest(child.bytes, child.contentType, `the ${formatPlatform(wanted)} manifest of ${name}`);
    if (parsedChild.kind !== 'manifest') throw badImage(`${name}: the index entry for ${formatPlatform(wanted)} is another index`);
    manifest = parsedChild.manifest;
  } else {
    manifest = parsedTop.manifest;
  }

  const layers = manifest.layers;
  for (const [i, layer] of layers.entries()) checkLayerMediaType(layer.mediaType, `layer ${i + 1} of ${name}`);
  if (layers.some((l) => l.urls && l.urls.length > 0))
    throw unsupported(`${name} has foreign layers (fetched from URLs), which are not supported`);
  const id = manifest.config.digest;

  // The same image already stored in full: only the name is new.
  const existing = store.complete(id);
  if (existing) {
    for (const layer of layers) progress(layer.digest, 'exists', layer.size, layer.size);
    const summary = await store.commit({ ...existing, manifestDigest: existing.manifestDigest ?? top.digest }, [name]);
    progress(null, 'done');
    return summary;
  }

  const configBytes = await client.getBlob(repo, id, MAX_CONFIG_BYTES);
  const config = parseConfigBlob(configBytes, `the config of ${name}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== layers.length) {
    throw badImage(`${name}: the manifest lists ${layers.length} layers but the config lists ${diffIds.length} diff ids`);
  }
  if (options.platform && (config.os !== wanted.os || config.architecture !== wanted.architecture)) {
    throw registryNotFound(`${name} is for ${config.os ?? '?'}/${config.architecture ?? '?'}, not ${formatPlatform(wanted)}`);
  }

  const unpin = store.pin(diffIds);
  const unpacked: string[] = [];
  try {
    for (const layer of layers) progress(layer.digest, 'waiting', 0, layer.size);
    const sizes: number[] = new Array<number>(layers.length).fill(0);
    await runLimited(layers, PARALLEL_LAYERS, async (layer, i) => {
      const diffId = diffIds[i] as string;
      const layerWhat = `layer ${layer.digest} of ${what}`;
      const { existed, size } = await store.ensureLayer(diffId, async (dir) => {
        const file = store.tempPath(layer.digest.slice(7, 19));
        try {
          progress(layer.digest, 'downloading', 0, layer.size);
          await client.downloadBlob(repo, layer.digest, layer.size, file, (bytes) =>
            progress(layer.digest, 'downloading', bytes, layer.size),
          );
          progress(layer.digest, 'verifying', layer.size, layer.size);
          progress(layer.digest, 'extracting', 0, layer.size);
          const result = await unpackInto(store, file, dir, layerWhat, diffId, (bytes) =>
            progress(layer.digest, 'extracting', bytes, layer.size),
          );
          return { size: result.size };
        } finally {
          await rm(file, { force: true });
        }
      });
      sizes[i] = size;
      if (!existed) unpacked.push(diffId);
      progress(layer.digest, existed ? 'exists' : 'done', layer.size, layer.size);
    });
    await store.putBlob(id, configBytes);
    await store.putBlob(top.digest, top.bytes);
    const image = imageFromConfig(
      id,
      config,
      top.digest,
      layers.map((l, i) => ({ diffId: diffIds[i] as string, digest: l.digest, size: sizes[i] ?? 0 })),
      wanted,
    );
    const summary = await store.commit(image, [name]);
    unpin();
    progress(null, 'done');
    return summary;
  } catch (error) {
    unpin();
    await store.discardLayers(unpacked);
    throw error;
  }
}
