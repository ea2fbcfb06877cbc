import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { resolveInRoot } from './root-path.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-root-'));
  await mkdir(join(root, 'usr/bin'), { recursive: true });
  await writeFile(join(root, 'usr/bin/dash'), '');
  await symlink('dash', join(root, 'usr/bin/sh'));
  await symlink('/usr/bin', join(root, 'bin')); // absolute: means the root's /usr/bin, not the host's
  await symlink('../../../../../etc', join(root, 'up')); // climbs: stops at the root
  await symlink('loop', join(root, 'loop'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

it('follows symlinks as the container would, never leaving the root', async () => {
  expect(await resolveInRoot(root, '/bin/sh')).toBe(join(root, 'usr/bin/dash'));
  expect(await resolveInRoot(root, 'usr/../bin/./sh')).toBe(join(root, 'usr/bin/dash'));
  expect(await resolveInRoot(root, '/up/passwd')).toBeUndefined(); // the root's /etc/passwd, which it has not
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0::/:/bin/sh\n');
  expect(await resolveInRoot(root, '/up/passwd')).toBe(join(root, 'etc/passwd'));
  expect(await resolveInRoot(root, '/loop')).toBeUndefined();
  expect(await resolveInRoot(root, '/missing')).toBeUndefined();
});
