// One layer from a blob file into the store: unpack, check its diff id against the config, turn
// OCI whiteouts into overlay ones (the helper), and report progress. Shared by pull and import.
import { createReadStream } from 'node:fs';
import { ImageConfig, type ImageSummary, type PullProgress } from '../../../shared/images.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { badImage, digestMismatch } from './errors.js';
import { LayerError, unpackLayer, type UnpackResult } from './layer-unpack.js';
import type { ImageConfigBlob } from './manifest.js';
import { parseConfigBlob, toImageConfig } from './manifest.js';
import { sha256Digest } from './digest.js';
import type { ImageStore, NewImage } from './store.js';

export type ProgressStatus = PullProgress['status'];
export type ProgressFn = (layer: string | null, status: ProgressStatus, current?: number, total?: number) => void;

/** Unpacks `file` into `dir` and makes its whiteouts; checks the diff id when one is expected. */
export async function unpackInto(
  store: ImageStore,
  file: string,
  dir: string,
  what: string,
  expectedDiffId: string | undefined,
  onRead?: (bytes: number) => void,
): Promise<UnpackResult> {
  let result: UnpackResult;
  try {
    result = await unpackLayer(createReadStream(file), dir, {
      onProgress: onRead,
      beforeFinish: async ({ whiteouts, opaques }) => {
        if (whiteouts.length === 0 && opaques.length === 0) return;
        const marker = store.marker();
        await marker.whiteouts(dir, whiteouts);
        await marker.opaques(dir, opaques);
      },
    });
  } catch (error) {
    if (error instanceof LayerError) throw new OnggiError(ErrorCode.OperationFailed, 'invalid_layer', `${what}: ${error.message}`);
    throw error;
  }
  if (expectedDiffId !== undefined && result.diffId !== expectedDiffId) {
    throw digestMismatch(`${what} (uncompressed, the config's diff id)`, expectedDiffId, result.diffId);
  }
  return result;
}

const MAX_CREATED = 64;

/** The record a config describes, with what the contract allows checked. */
/**
 * An image Onggi wrote the config of itself (`image import` of a rootfs, `commit`): the config is
 * stored under its digest, read back through the same checks as any image's, and committed.
 */
export async function commitOwnImage(
  store: ImageStore,
  config: object,
  layers: NewImage['layers'],
  platform: { os: string; architecture: string; variant?: string | undefined },
  names: readonly string[],
  what: string,
): Promise<ImageSummary> {
  const configBytes = Buffer.from(JSON.stringify(config));
  const id = sha256Digest(configBytes);
  await store.putBlob(id, configBytes);
  return store.commit(imageFromConfig(id, parseConfigBlob(configBytes, what), null, layers, platform), names);
}

export function imageFromConfig(
  id: string,
  config: ImageConfigBlob,
  manifestDigest: string | null,
  layers: NewImage['layers'],
  fallbackPlatform: { os: string; architecture: string; variant?: string | undefined },
): NewImage {
  const imageConfig = ImageConfig.safeParse(toImageConfig(config));
  if (!imageConfig.success) {
    const issue = imageConfig.error.issues[0];
    throw badImage(`image config ${id} is out of bounds: ${issue ? `${issue.path.join('.')}: ${issue.message}` : ''}`);
  }
  const created = config.created && config.created.length <= MAX_CREATED ? config.created : null;
  const clip = (s: string | undefined, fallback: string): string => (s && s.length <= 32 ? s : fallback);
  return {
    id,
    manifestDigest,
    created,
    os: clip(config.os, fallbackPlatform.os),
    architecture: clip(config.architecture, fallbackPlatform.architecture),
    ...(config.variant
      ? { variant: clip(config.variant, '') }
      : fallbackPlatform.variant && !config.architecture
        ? { variant: fallbackPlatform.variant }
        : {}),
    config: imageConfig.data,
    layers,
  };
}
