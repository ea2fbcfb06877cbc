// A cgroup parent of the test's own (ONGGI_CGROUP_PARENT), so containers the test starts are
// found — and ended, and removed — even when the test failed half-way.
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { detectCgroups } from '../../vm-assets/agent/system/cgroups.js';

export function testCgroupParent(): string {
  return `onggi-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Kills every process in the parent's cgroups (ours by construction), then removes them. */
export async function removeCgroupParent(parent: string): Promise<void> {
  await removeFromControllers(parent);
  await removeFromOtherHierarchies(parent);
}

/**
 * Peers started under the same parent (runc in the bench, via cgroupsPath) also make it in the
 * named and unified hierarchies (`systemd`, `unified`) that our agent never uses: remove the
 * empty directories there too, deepest first.
 */
async function removeFromOtherHierarchies(parent: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[2] === 'cgroup' || fields[2] === 'cgroup2')
    .map((fields) => fields[1] ?? '');
  const removeTree = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isDirectory()) await removeTree(join(dir, entry.name));
    await rmdir(dir).catch(() => undefined);
  };
  for (const mount of mounts) if (mount) await removeTree(join(mount, parent));
}

async function removeFromControllers(parent: string): Promise<void> {
  const info = await detectCgroups();
  const roots = [...new Set(info.controllers.filter((c) => c.version === info.version).map((c) => c.mountPoint))];
  for (let round = 0; round < 200; round += 1) {
    let busy = false;
    for (const root of roots) {
      const base = join(root, parent);
      const children = (await readdir(base, { withFileTypes: true }).catch(() => [])).filter((entry) => entry.isDirectory());
      for (const child of children) {
        const pids = (await readFile(join(base, child.name, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
        for (const pid of pids) {
          busy = true;
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone already
          }
        }
        if (pids.length === 0) await rmdir(join(base, child.name)).catch(() => undefined);
      }
      if (children.length === 0) await rmdir(base).catch(() => undefined);
    }
    if (
      !busy &&
      (
        await Promise.all(
          roots.map((root) =>
            readdir(join(root, parent)).then(
              () => true,
              () => false,
            ),
          ),
        )
      ).every((exists) => !exists)
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
