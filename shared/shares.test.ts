// The shared-folder label: written by bindThroughShare (the CLI's -v, the run dialog), read back by
// the agent's inspect (desktopPathOf) only while it still names the mount it was made for.
import { describe, expect, it } from 'vitest';
import { bindThroughShare, desktopPathOf } from './shares.js';

const machinePath = '/run/onggi/shares/0123456789abcdef/src';

describe('the shared-folder label', () => {
  it('round-trips a desktop path, arrows and all, for the bind it was made for', () => {
    const desktopPath = '/home/me/a → b/src';
    const { mount, label } = bindThroughShare(
      { type: 'bind' as const, target: '/app' },
      { desktopPath, share: { path: '/home/me/a → b', readOnly: true }, machinePath },
    );
    expect(mount).toEqual({ type: 'bind', target: '/app', source: machinePath, createSource: false, readonly: true });
    const labels = Object.fromEntries([label]);
    expect(desktopPathOf(labels, mount)).toBe(desktopPath);
  });

  it('is not believed for another mount, another source, or a value with no desktop path', () => {
    const labels = { 'onggi.shared-folder:/app': `/home/me/app → ${machinePath}` };
    expect(desktopPathOf(labels, { target: '/other', source: machinePath })).toBeUndefined();
    expect(desktopPathOf(labels, { target: '/app', source: '/srv/elsewhere' })).toBeUndefined();
    expect(desktopPathOf(labels, { target: '/app' })).toBeUndefined();
    expect(desktopPathOf({ 'onggi.shared-folder:/app': ` → ${machinePath}` }, { target: '/app', source: machinePath })).toBeUndefined();
    expect(desktopPathOf(undefined, { target: '/app', source: machinePath })).toBeUndefined();
  });
});
