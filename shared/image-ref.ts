// Image references as Docker writes them: [registry[:port]/]repo/path[:tag][@sha256:hex].
// A bare name means Docker Hub's library/ namespace, as every Docker user expects.

export interface ImageRef {
  /** Registry host[:port]; `docker.io` for Docker Hub. */
  registry: string;
  /** Repository path within the registry, e.g. `library/busybox`. */
  repository: string;
  tag: string | undefined;
  digest: string | undefined;
}

const DOCKER_HUB = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST =
  /^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;

export class ImageRefError extends Error {}

export function parseImageRef(input: string): ImageRef {
  if (input.length === 0 || input.length > 512) throw new ImageRefError('an image reference has 1 to 512 characters');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ImageRefError(`"${digest}" is not a sha256 digest`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageRefError(`"${tag}" is not a valid tag`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    if (!HOST.test(first)) throw new ImageRefError(`"${first}" is not a registry host`);
    registry = first === 'index.docker.io' ? DOCKER_HUB : first;
    parts.shift();
  }
  if (parts.length === 0 || parts.some((part) => !COMPONENT.test(part))) {
    throw new ImageRefError(`"${rest}" is not a repository name (lowercase letters, digits and . _ - separators)`);
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  return { registry, repository: parts.join('/'), tag: tag ?? (digest ? undefined : 'latest'), digest };
}

/** The canonical form, used as the image's name in the store: `docker.io/library/busybox:latest`. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** The short form people type back: `busybox:latest` for Docker Hub's library images. */
export function familiarImageRef(ref: ImageRef): string {
  // A Docker Hub path whose first part looks like a host (`docker.io/a.b/c`) keeps its registry,
  // or it would read back as a reference to the registry `a.b`.
  const first = ref.repository.split('/')[0] ?? '';
  const hostLike = ref.repository.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const repo = ref.registry === DOCKER_HUB && !hostLike ? ref.repository.replace(/^library\//, '') : `${ref.registry}/${ref.repository}`;
  return `${repo}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
