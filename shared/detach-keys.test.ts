import { describe, expect, it } from 'vitest';
import { DEFAULT_DETACH_KEYS, DetachKeys, DetachWatcher } from './detach-keys.js';

const bytes = (text: string) => Uint8Array.from(Buffer.from(text, 'latin1'));
const text = (data: Uint8Array) => Buffer.from(data).toString('latin1');

describe("Docker's --detach-keys", () => {
  it('parses ctrl-X and single characters into the bytes a raw terminal sends', () => {
    expect([...DetachKeys.parse(DEFAULT_DETACH_KEYS)]).toEqual([0x10, 0x11]);
    expect([...DetachKeys.parse('ctrl-@,ctrl-[,ctrl-\\,ctrl-_,a,Z')]).toEqual([0, 0x1b, 0x1c, 0x1f, 0x61, 0x5a]);
  });

  it('refuses what is not a key, naming the sequence', () => {
    for (const bad of ['', 'ctrl-', 'ctrl-1', 'meta-q', 'ab', 'ctrl-p,,ctrl-q', 'é']) {
      const parsed = DetachKeys.safeParse(bad);
      expect(parsed.success, bad).toBe(false);
      expect(parsed.error?.issues[0]?.message).toContain('is not a key sequence');
    }
  });

  it('detaches on the whole sequence, never sending it, across chunks', () => {
    const watcher = new DetachWatcher(DetachKeys.parse(DEFAULT_DETACH_KEYS));
    expect(watcher.push(bytes('ls\r\x10'))).toEqual({ pass: bytes('ls\r'), detach: false });
    expect(watcher.push(bytes('\x11rest'))).toEqual({ pass: bytes(''), detach: true });
  });

  it('sends held bytes after all when the sequence breaks off (a lone Ctrl-P reaches the container)', () => {
    const watcher = new DetachWatcher(DetachKeys.parse(DEFAULT_DETACH_KEYS));
    expect(text(watcher.push(bytes('\x10')).pass)).toBe('');
    expect(text(watcher.push(bytes('x')).pass)).toBe('\x10x');
    // A repeated first key: the first is sent, the second may still begin the sequence.
    const again = watcher.push(bytes('\x10\x10\x11'));
    expect(text(again.pass)).toBe('\x10');
    expect(again.detach).toBe(true);
  });
});
