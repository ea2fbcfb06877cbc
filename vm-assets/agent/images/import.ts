// images.import: a tarball on the machine becomes stored images.
//   docker-archive  `docker save` output: manifest.json ([{Config, RepoTags, Layers}]) with the
//                   config and layer tars at the paths it names — both the classic layout
//                   (<id>/layer.tar) and Docker 25+'s, which is also an OCI layout (blobs/sha256/…)
//   oci-archive     an OCI image layout: oci-layout, index.json, blobs/sha256/…
//   rootfs          a plain root filesystem tar (gzip or not), e.g. Alpine's minirootfs: one
//                   layer, a config made here (PATH, and /bin/sh as the command if it exists)
// `auto` tells them apart by the files at the archive's top. Names come from RepoTags or the
// index's annotations, normalized as pull names them; `name` adds one (and is a rootfs's only one).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import * as z from 'zod';
import { lazySchema } from '../../../shared/lazy-schema.js';
import { OnggiError } from '../../../shared/errors.js';
import { ImageRefError, formatImageRef, parseImageRef } from '../../../shared/image-ref.js';
import type { ImageSummary } from '../../../shared/images.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { sha256Digest } from './digest.js';
import { badImage, digestMismatch } from './errors.js';
import { commitOwnImage, imageFromConfig, unpackInto } from './layer-install.js';
import { parseConfigBlob, parseManifest, type Descriptor, type ImageConfigBlob } from './manifest.js';
import { choosePlatform, formatPlatform, isAttestation, machinePlatform, type Platform } from './platform.js';
import { resolveInRoot } from './root-path.js';
import type { ImageStore } from './store.js';

export type ImportKind = 'auto' | 'docker-archive' | 'oci-archive' | 'rootfs';

export interface ImportOptions {
  path: string;
  kind?: ImportKind;
  name?: string;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MAX_JSON_BYTES = 8 * 1024 * 1024;

const DockerManifest = lazySchema(() =>
  z
    .array(
      z.looseObject({
        Config: z.string().max(4096),
        RepoTags: z.array(z.string().max(512)).max(256).nullish(),
        Layers: z.array(z.string().max(4096)).max(512),
      }),
    )
    .max(256),
);

function fieldError(message: string, field: string): OnggiError {
  return new OnggiError(ErrorCode.InvalidParams, 'invalid_params', message, field);
}

/** Which kind an archive is, from the names at its top. */
export async function detectKind(path: string): Promise<Exclude<ImportKind, 'auto'>> {
  const top = new Set<string>();
  await tar.t({
    file: path,
    strict: true,
    onReadEntry: (entry) => {
      const clean = entry.path.replace(/^(\.\/)+/, '').replace(/\/$/, '');
      if (!clean.includes('/')) top.add(clean);
    },
  });
  if (top.has('manifest.json')) return 'docker-archive';
  if (top.has('oci-layout') && top.has('index.json')) return 'oci-archive';
  return 'rootfs';
}

export async function importImages(store: ImageStore, options: ImportOptions): Promise<ImageSummary[]> {
  const extraName = options.name === undefined ? undefined : formatImageRef(parseImageRef(options.name));
  let kind = options.kind ?? 'auto';
  try {
    if (kind === 'auto') kind = await detectKind(options.path);
  } catch (error) {
    throw fieldError(
      `cannot read ${options.path} as a tar archive: ${error instanceof Error ? error.message : String(error)}`,
      'params.path',
    );
  }
  if (kind === 'rootfs') {
    if (extraName === undefined) throw fieldError('a rootfs import needs a name for the image', 'params.name');
    return [await importRootfs(store, options.path, extraName)];
  }
  const scratch = store.tempPath('import');
  await mkdir(scratch, { mode: 0o700 });
  try {
    await extractArchive(options.path, scratch);
    const archive = new ExtractedArchive(scratch);
    return kind === 'docker-archive'
      ? await importDockerArchive(store, archive, extraName)
      : await importOciArchive(store, archive, extraName);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Unpacks the outer archive (regular files, directories, links only) with node-tar's host-side
 * protections. Not strict: in strict mode node-tar rejects on its first notice while earlier
 * entries are still being written; an entry it skips shows up later as a file the archive lacks.
 */
export async function extractArchive(path: string, dir: string): Promise<void> {
  const allowed = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);
  try {
    await tar.x({
      file: path,
      cwd: dir,
      preserveOwner: false,
      filter: (_path, entry) => 'type' in entry && allowed.has(entry.type),
    });
  } catch (error) {
    throw fieldError(`cannot unpack ${path}: ${error instanceof Error ? error.message : String(error)}`, 'params.path');
  }
}

/** Files inside an extracted archive, reachable only within it (its symlinks may not leave). */
class ExtractedArchive {
  constructor(readonly dir: string) {}

  async path(rel: string): Promise<string> {
    const root = await realpath(this.dir);
    // not dropped: a path realpath cannot resolve is not in the archive, and said so
    const full = await realpath(join(this.dir, rel)).catch(() => {
      throw badImage(`the archive has no ${rel}`);
    });
    if (!full.startsWith(`${root}/`)) throw badImage(`${rel} points outside the archive`);
    return full;
  }

  async has(rel: string): Promise<boolean> {
    return this.path(rel).then(
      () => true,
      () => false,
    );
  }

  async json(rel: string): Promise<Buffer> {
    const bytes = await readFile(await this.path(rel));
    if (bytes.length > MAX_JSON_BYTES) throw badImage(`${rel} is larger than ${MAX_JSON_BYTES} bytes`);
    return bytes;
  }

  /** A blob of an OCI layout, its digest checked. */
  async blob(digest: string, what: string, small = true): Promise<{ path: string; bytes?: Buffer }> {
    const path = await this.path(`blobs/sha256/${digest.replace(/^sha256:/, '')}`);
    if (small) {
      const bytes = await this.json(`blobs/sha256/${digest.replace(/^sha256:/, '')}`);
      const got = sha256Digest(bytes);
      if (got !== digest) throw digestMismatch(what, digest, got);
      return { path, bytes };
    }
    const got = await hashFile(path);
    if (got !== digest) throw digestMismatch(what, digest, got);
    return { path };
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

function normalizeName(name: string): string | undefined {
  try {
    return formatImageRef(parseImageRef(name));
  } catch (error) {
    if (error instanceof ImageRefError) return undefined;
    throw error;
  }
}

/** Unpacks an image's layers (each into the store once) and records it. */
async function storeImage(
  store: ImageStore,
  id: string,
  config: ImageConfigBlob,
  layerFiles: ReadonlyArray<{ path: string; digest: string | null }>,
  manifestDigest: string | null,
  names: string[],
  what: string,
): Promise<ImageSummary> {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== layerFiles.length)
    throw badImage(`${what}: ${layerFiles.length} layers but the config lists ${diffIds.length} diff ids`);
  const unpin = store.pin(diffIds);
  const unpacked: string[] = [];
  try {
    const sizes: number[] = [];
    for (const [i, layer] of layerFiles.entries()) {
      const diffId = diffIds[i] as string;
      const { size, existed } = await store.ensureLayer(diffId, async (dir) => {
        const result = await unpackInto(store, layer.path, dir, `layer ${i + 1} of ${what}`, diffId);
        return { size: result.size };
      });
      if (!existed) unpacked.push(diffId);
      sizes.push(size);
    }
    const image = imageFromConfig(
      id,
      config,
      manifestDigest,
      layerFiles.map((l, i) => ({ diffId: diffIds[i] as string, digest: l.digest, size: sizes[i] ?? 0 })),
      machinePlatform(),
    );
    const summary = await store.commit(image, [...new Set(names)]);
    unpin();
    return summary;
  } catch (error) {
    unpin();
    await store.discardLayers(unpacked);
    throw error;
  }
}

async function importDockerArchive(store: ImageStore, archive: ExtractedArchive, extraName: string | undefined): Promise<ImageSummary[]> {
  let entries: z.infer<typeof DockerManifest>;
  try {
    entries = DockerManifest.parse(JSON.parse((await archive.json('manifest.json')).toString('utf8')));
  } catch (error) {
    if (error instanceof OnggiError) throw error;
    throw badImage('manifest.json is not a docker save manifest');
  }
  if (entries.length === 0) throw badImage('manifest.json lists no images');
  const manifestDigests = await ociManifestDigestsByConfig(archive);
  const results: ImageSummary[] = [];
  for (const entry of entries) {
    const configBytes = await archive.json(entry.Config);
    const id = sha256Digest(configBytes);
    const config = parseConfigBlob(configBytes, `${entry.Config} in the archive`);
    const layers = await Promise.all(
      entry.Layers.map(async (rel) => ({
        path: await archive.path(rel),
        digest: /^blobs\/sha256\/([a-f0-9]{64})$/.exec(rel)?.[1] ?? null,
      })),
    );
    const names = (entry.RepoTags ?? []).map(normalizeName).filter((n): n is string => n !== undefined);
    if (extraName) names.push(extraName);
    const what = `image ${names[0] ?? id.slice(7, 19)} in the archive`;
    results.push(
      await storeImage(
        store,
        id,
        config,
        layers.map((l) => ({ path: l.path, digest: l.digest ? `sha256:${l.digest}` : null })),
        manifestDigests.get(id) ?? null,
        names,
        what,
      ),
    );
    await store.putBlob(id, configBytes);
  }
  return results;
}

/** Docker 25+'s docker save is also an OCI layout: map config digests to manifest digests. */
async function ociManifestDigestsByConfig(archive: ExtractedArchive): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  if (!(await archive.has('index.json'))) return map;
  try {
    const index = parseManifest(await archive.json('index.json'), undefined, 'index.json');
    if (index.kind !== 'index') return map;
    for (const d of index.index.manifests) {
      const { bytes } = await archive.blob(d.digest, `manifest ${d.digest}`);
      const parsed = parseManifest(bytes as Buffer, d.mediaType, `manifest ${d.digest}`);
      if (parsed.kind === 'manifest') map.set(parsed.manifest.config.digest, d.digest);
    }
  } catch {
    // The legacy manifest.json is what counts; a broken index only costs the manifest digest.
  }
  return map;
}

function namesFromAnnotations(annotations: Record<string, string> | undefined): string[] {
  const full = annotations?.['io.containerd.image.name'];
  if (full) return [normalizeName(full)].filter((n): n is string => n !== undefined);
  const ref = annotations?.['org.opencontainers.image.ref.name'];
  // A bare tag (`latest`, `v1`) names no repository: only a full reference is a name.
  if (ref && (ref.includes('/') || ref.includes(':'))) return [normalizeName(ref)].filter((n): n is string => n !== undefined);
  return [];
}

async function importOciArchive(store: ImageStore, archive: ExtractedArchive, extraName: string | undefined): Promise<ImageSummary[]> {
  const index = parseManifest(await archive.json('index.json'), undefined, 'index.json');
  if (index.kind !== 'index') throw badImage('index.json is not an image index');
  const results: ImageSummary[] = [];
  const wanted = machinePlatform();
  for (const top of index.index.manifests) {
    let descriptor: Descriptor = top;
    let parsed = parseManifest(
      (await archive.blob(top.digest, `manifest ${top.digest}`)).bytes as Buffer,
      top.mediaType,
      `manifest ${top.digest}`,
    );
    if (parsed.kind === 'index') {
      const entries = parsed.index.manifests;
      const chosen = entries[choosePlatform(entries, wanted)];
      if (!chosen) {
        const available = entries
          .filter((e) => e.platform && !isAttestation(e.platform, e.annotations))
          .map((e) => formatPlatform(e.platform as Platform));
        throw badImage(
          `the archive's index ${top.digest} has no image for ${formatPlatform(wanted)}; available: ${available.join(', ') || 'none'}`,
        );
      }
      descriptor = chosen;
      parsed = parseManifest(
        (await archive.blob(chosen.digest, `manifest ${chosen.digest}`)).bytes as Buffer,
        chosen.mediaType,
        `manifest ${chosen.digest}`,
      );
      if (parsed.kind !== 'manifest') throw badImage(`manifest ${chosen.digest} is another index`);
    }
    const manifest = parsed.manifest;
    if (descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || descriptor.platform?.os === 'unknown') continue;
    const { bytes: configBytes } = await archive.blob(manifest.config.digest, `config ${manifest.config.digest}`);
    const config = parseConfigBlob(configBytes as Buffer, `config ${manifest.config.digest}`);
    const layers = [];
    for (const layer of manifest.layers) {
      const { path } = await archive.blob(layer.digest, `layer ${layer.digest}`, false);
      layers.push({ path, digest: layer.digest });
    }
    const names = namesFromAnnotations(top.annotations);
    if (extraName) names.push(extraName);
    const what = `image ${names[0] ?? manifest.config.digest.slice(7, 19)} in the archive`;
    results.push(await storeImage(store, manifest.config.digest, config, layers, top.digest, names, what));
    await store.putBlob(manifest.config.digest, configBytes as Buffer);
  }
  if (results.length === 0) throw badImage('the archive holds no image');
  return results;
}

async function importRootfs(store: ImageStore, path: string, name: string): Promise<ImageSummary> {
  const temp = await store.newLayerTemp('import');
  let installed = false;
  try {
    const result = await unpackInto(store, path, temp, `the rootfs ${path}`, undefined);
    const diffId = result.diffId;
    const unpin = store.pin([diffId]);
    try {
      await store.installLayer(diffId, temp, result.size);
      installed = true;
      const hasShell = (await resolveInRoot(store.layerDir(diffId), '/bin/sh')) !== undefined;
      const platform = machinePlatform();
      const created = new Date().toISOString();
      const config = {
        created,
        architecture: platform.architecture,
        ...(platform.variant ? { variant: platform.variant } : {}),
        os: platform.os,
        config: { Env: [DEFAULT_PATH], ...(hasShell ? { Cmd: ['/bin/sh'] } : {}) },
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [{ created, created_by: `onggi import ${path}` }],
      };
      return await commitOwnImage(store, config, [{ diffId, digest: null, size: result.size }], platform, [name], 'the made-up config');
    } finally {
      unpin();
    }
  } finally {
    if (!installed) await rm(temp, { recursive: true, force: true });
  }
}
