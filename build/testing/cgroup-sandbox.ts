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
