// sha256 digests as the distribution spec writes them: `sha256:<64 hex>`.
import { createHash } from 'node:crypto';

const DIGEST = /^sha256:([a-f0-9]{64})$/;

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

/** The hex part of a digest; throws on anything but a well-formed sha256 digest (it becomes a path). */
export function digestHex(digest: string): string {
  const match = DIGEST.exec(digest);
  if (!match?.[1]) throw new Error(`"${digest}" is not a sha256 digest`);
  return match[1];
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
