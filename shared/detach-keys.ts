// Docker's `--detach-keys`: the key sequence that leaves an attached container running. Written
// as Docker writes it, comma-separated keys, each a single character or `ctrl-X` (X one of a-z,
// @, [, \, ], ^, _); default ctrl-p,ctrl-q. Parsed into the bytes a terminal in raw mode sends.
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** The bytes of one key, or undefined when it is not one Docker accepts. */
function keyBytes(key: string): number | undefined {
  const ctrl = /^ctrl-([a-z@[\\\]^_])$/.exec(key);
  if (ctrl?.[1]) return ctrl[1] === '@' ? 0 : ctrl[1].toUpperCase().charCodeAt(0) & 0x1f;
  return key.length === 1 && key.charCodeAt(0) < 0x80 ? key.charCodeAt(0) : undefined;
}

export const DetachKeys = lazySchema(() =>
  z
    .string()
    .max(64)
    .transform((text, ctx) => {
      const bytes = text.split(',').map(keyBytes);
      if (text === '' || bytes.some((byte) => byte === undefined)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${text}" is not a key sequence: keys like ctrl-p,ctrl-q (a-z, @, [, \\, ], ^, _) or single characters`,
        });
        return z.NEVER;
      }
      return Uint8Array.from(bytes as number[]);
    }),
);

/**
 * Watches input for the detach sequence, as Docker's escape proxy does: bytes that could start it
 * are held back; a completed sequence detaches (and is never sent), a broken one is sent after all.
 */
export class DetachWatcher {
  private matched = 0;

  constructor(private readonly keys: Uint8Array) {}

  /** What of `chunk` to pass on, and whether the sequence was completed in it. */
  push(chunk: Uint8Array): { pass: Uint8Array; detach: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { pass: Uint8Array.from(out), detach: true };
        continue;
      }
      out.push(...this.keys.subarray(0, this.matched));
      this.matched = 0;
      if (byte === this.keys[0]) this.matched = 1;
      else out.push(byte);
    }
    return { pass: Uint8Array.from(out), detach: false };
  }
}
