// The desktop folder the shared-folder tests share (share-mount.test.ts on the loopback machine,
// qemu-guest.vm-test.ts in the QEMU guest): app/src with a file and a link out of the share to a
// secret beside it, and docs to share read-only.
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function makeShareDesktop(desktop: string): Promise<void> {
  await mkdir(join(desktop, 'app', 'src'), { recursive: true });
  await mkdir(join(desktop, 'docs'), { recursive: true });
  await writeFile(join(desktop, 'secret'), 'outside every share');
  await writeFile(join(desktop, 'app', 'src', 'hello.txt'), 'hello from the desktop\n');
  await writeFile(join(desktop, 'docs', 'readme'), 'read only\n');
  await symlink('../../secret', join(desktop, 'app', 'src', 'escape'));
}

/**
 * Makes each kind of desktop change in `desktop/changes` — create, edit, rename, delete a file,
 * remove a folder — and times until the machine sees it through the share at `machineDir` (the
 * machine's kernel has cached what was there before each: the previous step looked at it).
 * `onMachine` runs argv on the machine. Returns milliseconds per change; throws past 10 s.
 */
export async function desktopChangesSeen(
  desktop: string,
  machineDir: string,
  onMachine: (argv: string[]) => Promise<{ code: number | null }>,
): Promise<Record<string, number>> {
  const dir = join(desktop, 'changes');
  const seen = async (what: string, change: () => Promise<unknown>, condition: string): Promise<number> => {
    const started = performance.now();
    await change();
    // Polled on the machine (one exec, not one per look), at most 1,000 times 10 ms apart.
    const loop = `i=0; until ${condition}; do i=$((i + 1)); [ "$i" -lt 1000 ] || exit 1; sleep 0.01; done`;
    const { code } = await onMachine(['sh', '-c', loop, 'sh', `${machineDir}/changes`]);
    if (code !== 0) throw new Error(`the desktop's ${what} was not seen on the machine within 10 s`);
    return Math.round(performance.now() - started);
  };
  const content = (name: string, text: string) => `[ "$(cat "$1/${name}" 2>/dev/null)" = "${text}" ]`;
  await seen('folder', () => mkdir(join(dir, 'sub'), { recursive: true }), '[ -d "$1/sub" ]');
  return {
    create: await seen('create', () => writeFile(join(dir, 'a.txt'), 'one'), content('a.txt', 'one')),
    edit: await seen('edit', () => writeFile(join(dir, 'a.txt'), 'two, longer'), content('a.txt', 'two, longer')),
    rename: await seen(
      'rename',
      () => rename(join(dir, 'a.txt'), join(dir, 'b.txt')),
      `[ ! -e "$1/a.txt" ] && ${content('b.txt', 'two, longer')}`,
    ),
    delete: await seen('delete', () => rm(join(dir, 'b.txt')), '[ ! -e "$1/b.txt" ]'),
    removeFolder: await seen('folder removal', () => rm(join(dir, 'sub'), { recursive: true }), '[ ! -e "$1/sub" ]'),
  };
}
