// The documents a registry or an archive serves: OCI and Docker v2 manifests, OCI indexes and
// Docker manifest lists, and image configs. Parsed leniently (unknown fields pass) but with the
// fields we rely on checked, since they come from the network.
import * as z from 'zod';
import { lazySchema } from '../../../shared/lazy-schema.js';
import { HealthConfig } from '../../../shared/health.js';
import type { ImageConfig } from '../../../shared/images.js';
import { badImage, unsupported } from './errors.js';

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** What we ask a registry for, best first. */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.dockerList, MediaType.ociManifest, MediaType.dockerManifest].join(', ');

const Digest = lazySchema(() => z.string().regex(/^sha256:[a-f0-9]{64}$/, 'must be a sha256 digest'));

export const Descriptor = lazySchema(() =>
  z.looseObject({
    mediaType: z.string().max(256).optional(),
    digest: Digest,
    size: z.number().int().nonnegative(),
    urls: z.array(z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    platform: z
      .looseObject({
        architecture: z.string().max(64),
        os: z.string().max(64),
        variant: z.string().max(64).optional(),
      })
      .optional(),
  }),
);
export type Descriptor = z.infer<typeof Descriptor>;

export const ImageManifest = lazySchema(() =>
  z.looseObject({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    config: Descriptor,
    layers: z.array(Descriptor).max(512),
  }),
);
export type ImageManifest = z.infer<typeof ImageManifest>;

export const ImageIndex = lazySchema(() =>
  z.looseObject({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    manifests: z.array(Descriptor).max(4096),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
);
export type ImageIndex = z.infer<typeof ImageIndex>;

const StringList = lazySchema(() => z.array(z.string()).nullish());

/** An OCI / Docker image config (`application/vnd.oci.image.config.v1+json`). */
export const ImageConfigBlob = lazySchema(() =>
  z.looseObject({
    architecture: z.string().max(64).optional(),
    os: z.string().max(64).optional(),
    variant: z.string().max(64).optional(),
    created: z.string().max(64).optional(),
    config: z
      .looseObject({
        Env: StringList,
        Entrypoint: StringList,
        Cmd: StringList,
        WorkingDir: z.string().nullish(),
        User: z.string().nullish(),
        Labels: z.record(z.string(), z.string()).nullish(),
        ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
        Volumes: z.record(z.string(), z.unknown()).nullish(),
        StopSignal: z.string().nullish(),
      })
      .nullish(),
    rootfs: z.looseObject({ type: z.string(), diff_ids: z.array(Digest).max(512) }),
  }),
);
export type ImageConfigBlob = z.infer<typeof ImageConfigBlob>;

export type ParsedManifest = { kind: 'index'; index: ImageIndex } | { kind: 'manifest'; manifest: ImageManifest };

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw badImage(`${what} is not valid JSON`);
  }
}

/** Parses a manifest or index by its media type (from Content-Type, else its own mediaType field). */
export function parseManifest(bytes: Buffer, contentType: string | undefined, what: string): ParsedManifest {
  const raw = parseJson(bytes, what);
  const declared =
    typeof raw === 'object' && raw !== null && 'mediaType' in raw ? String((raw as { mediaType: unknown }).mediaType) : undefined;
  const type = (contentType?.split(';')[0]?.trim() || declared) ?? '';
  if (
    type === MediaType.dockerSchema1 ||
    type === MediaType.dockerSchema1Signed ||
    (raw as { schemaVersion?: unknown }).schemaVersion === 1
  ) {
    throw unsupported(`${what} is a Docker schema 1 manifest, which is deprecated and not supported`);
  }
  const isIndex =
    type === MediaType.ociIndex ||
    type === MediaType.dockerList ||
    (typeof raw === 'object' && raw !== null && 'manifests' in raw && !('layers' in raw));
  if (isIndex) {
    const parsed = ImageIndex.safeParse(raw);
    if (!parsed.success) throw badImage(`${what} is not a valid image index: ${parsed.error.issues[0]?.message ?? ''}`);
    return { kind: 'index', index: parsed.data };
  }
  const parsed = ImageManifest.safeParse(raw);
  if (!parsed.success) throw badImage(`${what} is not a valid image manifest: ${parsed.error.issues[0]?.message ?? ''}`);
  return { kind: 'manifest', manifest: parsed.data };
}

export function parseConfigBlob(bytes: Buffer, what: string): ImageConfigBlob {
  const parsed = ImageConfigBlob.safeParse(parseJson(bytes, what));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badImage(`${what} is not a valid image config: ${issue ? `${issue.path.join('.')}: ${issue.message}` : ''}`);
  }
  return parsed.data;
}

const NS_PER_MS = 1_000_000;
const DockerHealthcheck = lazySchema(() =>
  z.looseObject({
    Test: z.array(z.string()).nullish(),
    Interval: z.number().nullish(),
    Timeout: z.number().nullish(),
    StartPeriod: z.number().nullish(),
    Retries: z.number().nullish(),
  }),
);

/** Docker's config.Healthcheck (durations in ns, 0 meaning "the default") as our HealthConfig; an unusable one is left out. */
function imageHealthcheck(config: object): { healthcheck?: HealthConfig } {
  const parsed = DockerHealthcheck.safeParse((config as { Healthcheck?: unknown }).Healthcheck);
  if (!parsed.success || !parsed.data.Test?.length) return {};
  const { Test, Interval, Timeout, StartPeriod, Retries } = parsed.data;
  const ms = (ns: number | null | undefined) => (ns ? Math.max(1, Math.round(ns / NS_PER_MS)) : undefined);
  const candidate = HealthConfig.safeParse(
    Object.fromEntries(
      Object.entries({
        test: Test,
        intervalMs: ms(Interval),
        timeoutMs: ms(Timeout),
        startPeriodMs: StartPeriod ? Math.round(StartPeriod / NS_PER_MS) : undefined,
        retries: Retries || undefined,
      }).filter(([, value]) => value !== undefined),
    ),
  );
  return candidate.success ? { healthcheck: candidate.data } : {};
}

/** The parts of a config a container run needs, in the contract's shape. */
export function toImageConfig(blob: ImageConfigBlob): ImageConfig {
  const c = blob.config ?? {};
  return {
    env: c.Env ?? [],
    entrypoint: c.Entrypoint ?? null,
    cmd: c.Cmd ?? null,
    workingDir: c.WorkingDir ?? '',
    user: c.User ?? '',
    labels: c.Labels ?? {},
    exposedPorts: Object.keys(c.ExposedPorts ?? {}),
    volumes: Object.keys(c.Volumes ?? {}),
    // Only when set and sane: an image names what it likes, a container uses it only at stop.
    ...(c.StopSignal && /^(SIG)?[A-Z0-9+-]{2,10}$|^\d{1,2}$/.test(c.StopSignal) ? { stopSignal: c.StopSignal } : {}),
    ...imageHealthcheck(c),
  };
}

/** Layer media types we can unpack: tar, tar+gzip (OCI and Docker names), and foreign/nondistributable variants. */
export function checkLayerMediaType(mediaType: string | undefined, what: string): void {
  if (mediaType === undefined) return;
  if (/\+zstd$|\.zstd$/.test(mediaType)) throw unsupported(`${what} is zstd-compressed (${mediaType}); zstd layers are not supported yet`);
  const ok =
    mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip' ||
    mediaType === 'application/vnd.docker.image.rootfs.diff.tar' ||
    mediaType === 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip' ||
    /^application\/vnd\.oci\.image\.layer\.(nondistributable\.)?v1\.tar(\+gzip)?$/.test(mediaType);
  if (!ok) throw unsupported(`${what} has media type ${mediaType}, which is not an image layer this agent can unpack`);
}
