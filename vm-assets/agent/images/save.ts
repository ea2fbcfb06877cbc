// `image save`: images as a docker-archive (`docker save`'s classic layout: manifest.json, one
// config JSON per image, <n>/layer.tar per layer), which `image import` (and `docker load`) read.
// The store keeps layers unpacked, not their original tars, so each layer is tarred again from
// its directory (whiteouts back in OCI form): the bytes, so the diff ids and the image id, differ
// from the original's, while the files are the same.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { overlayDirToTar } from './layer-tar.js';
import type { ImageStore } from './store.js';

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** Docker writes names short (`busybox:latest`); ours are canonical (`docker.io/library/busybox:latest`). */
function dockerName(name: string): string {
  return name.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

export async function saveImages(store: ImageStore, selectors: readonly string[], dest: string): Promise<{ dest: string; images: number }> {
  const images = selectors.map((selector) => store.inspect(selector));
  const staging = await mkdtemp(join(store.tmpDir, 'save-'));
  const unpin = store.pin(images.flatMap((image) => image.layerDetails.map((l) => l.diffId)));
  try {
    const tarred = new Map<string, { file: string; diffId: string }>();
    const manifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
    for (const image of images) {
      const blob = await store.readBlob(image.id);
      if (!blob)
        throw new OnggiError(
          ErrorCode.OperationFailed,
          'operation_failed',
          `image ${image.id.slice(7, 19)} has no config blob to save`,
          'params.images',
        );
      const layers: Array<{ file: string; diffId: string }> = [];
      for (const layer of image.layerDetails) {
        let done = tarred.get(layer.diffId);
        if (!done) {
          const dir = `${tarred.size}`;
          await mkdir(join(staging, dir));
          const file = `${dir}/layer.tar`;
          await overlayDirToTar(store.activity, layer.dir, join(staging, `${dir}.staging`), join(staging, file));
          done = { file, diffId: await fileDigest(join(staging, file)) };
          tarred.set(layer.diffId, done);
        }
        layers.push(done);
      }
      const config = JSON.parse(blob.toString('utf8')) as Record<string, unknown>;
      config.rootfs = { type: 'layers', diff_ids: layers.map((l) => l.diffId) };
      const configBytes = Buffer.from(JSON.stringify(config));
      const configName = `${createHash('sha256').update(configBytes).digest('hex')}.json`;
      await writeFile(join(staging, configName), configBytes);
      manifest.push({ Config: configName, RepoTags: image.names.map(dockerName), Layers: layers.map((l) => l.file) });
    }
    await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifest));
    await store.activity.run(['tar', '--numeric-owner', '--sort=name', '-C', staging, '-cf', dest, '.']);
    return { dest, images: images.length };
  } finally {
    unpin();
    await rm(staging, { recursive: true, force: true });
  }
}
