import type { ImageSummary } from '../../../shared/images.js';

/** `docker.io/library/busybox:latest` → `busybox:latest`, as people type it. */
export function shortImageName(name: string): string {
  return name.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

/** The 12 hex digits Docker shows for an id. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** What to call an image in a list: its first name, else its short id. */
export function imageLabel(image: Pick<ImageSummary, 'names' | 'id'>): string {
  const first = image.names[0];
  return first ? shortImageName(first) : shortId(image.id);
}
