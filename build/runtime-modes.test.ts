// The runtime tar's modes come from the build, not from the file system: a tree staged on Windows
// (where chmod sets no exec bits and stat reports none) must still give an executable bin/node.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packRuntimeTree } from './runtime.mjs';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-runtime-modes-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('writes bin/node 0755, bin/ 0755 and LICENSE 0644 whatever modes the staged files have', async () => {
  const tree = join(dir, 'tree');
  await mkdir(join(tree, 'bin'), { recursive: true });
  await writeFile(join(tree, 'bin', 'node'), 'not really node');
  await writeFile(join(tree, 'LICENSE'), 'MIT');
  // What a Windows file system reports: no exec bits anywhere, files writable by all.
  await chmod(join(tree, 'bin', 'node'), 0o666);
  await chmod(join(tree, 'LICENSE'), 0o600);
  await chmod(join(tree, 'bin'), 0o700);

  const tarPath = join(dir, 'runtime.tar');
  await packRuntimeTree(tree, tarPath);
  const modes: Record<string, string> = {};
  await tar.list({ file: tarPath, onReadEntry: (entry) => void (modes[entry.path] = (entry.mode ?? 0).toString(8)) });
  expect(modes).toEqual({ 'bin/': '755', 'bin/node': '755', LICENSE: '644' });
});
