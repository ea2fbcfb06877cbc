// Image names as docker clients show them (used by the image list, inspect, save and load).
import { familiarImageRef, parseImageRef } from '../../../shared/image-ref.js';

/** Docker's `RepoTags`: familiar names (`busybox:latest`, `127.0.0.1:5000/x:v1`). */
export function repoTags(names: readonly string[]): string[] {
  return names.map((name) => {
    try {
      return familiarImageRef(parseImageRef(name));
    } catch {
      return name;
    }
  });
}
