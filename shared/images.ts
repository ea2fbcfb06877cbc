import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { HealthConfig } from './health.js';
import { ImageRefError, parseImageRef } from './image-ref.js';

export const Digest = lazySchema(() => z.string().regex(/^sha256:[a-f0-9]{64}$/, 'must be sha256:<64 hex digits>'));

/** An image reference as users type it; checked by the same parser the agent pulls with. */
export const ImageReference = lazySchema(() =>
  z
    .string()
    .min(1)
    .max(512)
    .superRefine((value, ctx) => {
      try {
        parseImageRef(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: error instanceof ImageRefError ? error.message : 'invalid image reference' });
      }
    }),
);

/** A local image by reference, by full id (`sha256:…`) or by an id prefix of 12+ hex digits. */
export const ImageSelector = lazySchema(() => z.string().min(1).max(512));

export const ImageConfig = lazySchema(() =>
  z.strictObject({
    env: z.array(z.string().max(65536)).max(4096),
    entrypoint: z.array(z.string().max(65536)).max(4096).nullable(),
    cmd: z.array(z.string().max(65536)).max(4096).nullable(),
    workingDir: z.string().max(4096),
    user: z.string().max(256),
    labels: z.record(z.string().max(1024), z.string().max(65536)),
    exposedPorts: z.array(z.string().max(32)).max(1024),
    /** The image's VOLUME paths: each becomes an anonymous volume unless a mount covers it (absent in records from before it was kept). */
    volumes: z.array(z.string().max(4096)).max(1024).optional(),
    /** The image's STOPSIGNAL, what `stop` sends unless the container says otherwise. */
    stopSignal: z.string().max(16).optional(),
    /** The image's HEALTHCHECK (Docker's config), when it has one. */
    healthcheck: HealthConfig.optional(),
  }),
);
export type ImageConfig = z.infer<typeof ImageConfig>;

export const ImageSummary = lazySchema(() =>
  z.strictObject({
    /** The config blob's digest, as Docker's image id. */
    id: Digest,
    /** Canonical names pointing at this image, e.g. `docker.io/library/busybox:latest`. */
    names: z.array(z.string().max(512)).max(256),
    /** The manifest digest it was pulled or imported as, when known. */
    manifestDigest: Digest.nullable(),
    /** Bytes of the unpacked layers on disk. */
    size: z.number().int().nonnegative(),
    layers: z.number().int().nonnegative(),
    created: z.string().max(64).nullable(),
    os: z.string().max(32),
    architecture: z.string().max(32),
  }),
);
export type ImageSummary = z.infer<typeof ImageSummary>;

export const ImageLayer = lazySchema(() =>
  z.strictObject({
    /** The uncompressed tar's digest (config rootfs.diff_ids). */
    diffId: Digest,
    /** The blob's digest as the registry serves it; null for imports that only had the diff. */
    digest: Digest.nullable(),
    size: z.number().int().nonnegative(),
    /** The unpacked layer directory on the machine (an overlay lowerdir). */
    dir: z.string().max(4096),
  }),
);

export const ImageDetail = lazySchema(() =>
  ImageSummary.extend({
    config: ImageConfig,
    layerDetails: z.array(ImageLayer).max(512),
  }),
);
export type ImageDetail = z.infer<typeof ImageDetail>;

export const PullProgress = lazySchema(() =>
  z.strictObject({
    type: z.literal('pull.progress'),
    /** Echoes images.pull's progressId so a client follows only its own pull. */
    progressId: z.string().max(128),
    ref: z.string().max(512),
    /** The layer blob's digest, or null for steps that concern the whole image. */
    layer: Digest.nullable(),
    status: z.enum(['resolving', 'waiting', 'downloading', 'verifying', 'extracting', 'exists', 'done']),
    current: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
  }),
);
export type PullProgress = z.infer<typeof PullProgress>;

export const imageMethods = {
  'images.pull': {
    params: lazySchema(() =>
      z.strictObject({
        ref: ImageReference,
        /** Allow plain HTTP / unverified TLS for this registry only (e.g. 127.0.0.1:5000). */
        insecure: z.boolean().optional(),
        auth: z.strictObject({ username: z.string().min(1).max(256), password: z.string().max(4096) }).optional(),
        progressId: z.string().min(1).max(128).optional(),
        /** Override the platform (default: the machine's), e.g. `linux/arm64`. */
        platform: z
          .string()
          .regex(/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/)
          .optional(),
      }),
    ),
    result: ImageSummary,
  },
  'images.import': {
    params: lazySchema(() =>
      z.strictObject({
        /** A tarball on the machine: `docker save` output, an OCI image layout, or a plain rootfs. */
        path: z.string().min(1).max(4096).startsWith('/', 'must be an absolute path on the machine'),
        kind: z.enum(['auto', 'docker-archive', 'oci-archive', 'rootfs']).optional(),
        /** The name for a rootfs import (required there), or an extra tag for the others. */
        name: ImageReference.optional(),
      }),
    ),
    result: lazySchema(() => z.array(ImageSummary).max(256)),
  },
  'images.list': { params: lazySchema(() => z.strictObject({}).optional()), result: lazySchema(() => z.array(ImageSummary).max(100_000)) },
  'images.inspect': { params: lazySchema(() => z.strictObject({ image: ImageSelector })), result: ImageDetail },
  'images.remove': {
    params: lazySchema(() => z.strictObject({ image: ImageSelector, force: z.boolean().optional() })),
    result: lazySchema(() => z.strictObject({ untagged: z.array(z.string()), deleted: z.array(Digest) })),
  },
  /** `image tag SOURCE TARGET`: another name for an image; a name another image had moves. */
  'images.tag': { params: lazySchema(() => z.strictObject({ image: ImageSelector, name: ImageReference })), result: ImageSummary },
} as const;
