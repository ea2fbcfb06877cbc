// A test fixture that is expensive to make (a debootstrapped VM image, workload images), built
// once into `<cacheDir>/<recipe hash>/` and reused until its recipe changes; older builds are
// removed. Concurrent runs each build in a `.build-<pid>` folder of their own and the first to
// finish wins (the others use its result). `complete` marks a finished build.
import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unmountUnder } from './mounts.js';

export function recipeHashOf(recipe: unknown): string {
  return createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 16);
}

/** The cache entry for `recipe`, made by `build(work)` when absent. */
export async function cachedByRecipe(
  cacheDir: string,
  recipe: unknown,
  build: (work: string) => Promise<void>,
): Promise<{ dir: string; built: boolean; buildMs: number }> {
  const hash = recipeHashOf(recipe);
  const dir = join(cacheDir, hash);
  if (await exists(join(dir, 'complete'))) return { dir, built: false, buildMs: 0 };
  await mkdir(cacheDir, { recursive: true });
  const started = Date.now();
  const work = join(cacheDir, `${hash}.build-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  try {
    await mkdir(work, { recursive: true });
    await build(work);
    await writeFile(join(work, 'complete'), `${new Date().toISOString()}\n`);
    try {
      await rename(work, dir);
    } catch (error) {
      // Another run finished the same recipe first: use theirs.
      if (!(await exists(join(dir, 'complete')))) throw error;
    }
  } finally {
    // debootstrap mounts /proc and /sys inside its rootfs while it works: a build that failed
    // half-way may leave them there, and rm must never walk into the machine's own.
    unmountUnder(work);
    await rm(work, { recursive: true, force: true });
  }
  // Older recipes' builds go (not another run's build in progress).
  for (const entry of await readdir(cacheDir)) {
    if (entry === hash || entry.includes('.build-')) continue;
    unmountUnder(join(cacheDir, entry));
    await rm(join(cacheDir, entry), { recursive: true, force: true });
  }
  return { dir, built: true, buildMs: Date.now() - started };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
