// isMounted answers from the mount point's device, as the mount table would: a filesystem mounted
// on the path (an overlay, as the supervisor mounts a rootfs; a tmpfs here) is, a directory or a
// missing path is not, and after the umount it is not any more. The mount is the test's own,
// under a temp dir, and unmounted even on failure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMounted } from './rootfs.js';

const isRoot = process.getuid?.() === 0;
const root = mkdtempSync(join(tmpdir(), 'onggi-rootfs-'));

afterAll(() => {
  spawnSync('umount', [join(root, 'merged')]);
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('isMounted', () => {
  it('is true for a filesystem mounted on the path, false for a directory, a missing path, and after the umount', async () => {
    const merged = join(root, 'merged');
    mkdirSync(merged);
    expect(await isMounted(merged)).toBe(false);
    expect(await isMounted(join(root, 'missing'))).toBe(false);
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', merged]).status).toBe(0);
    expect(await isMounted(merged)).toBe(true);
    // What is under the mount point is not a mount point itself.
    mkdirSync(join(merged, 'etc'));
    expect(await isMounted(join(merged, 'etc'))).toBe(false);
    expect(spawnSync('umount', [merged]).status).toBe(0);
    expect(await isMounted(merged)).toBe(false);
  });
});
