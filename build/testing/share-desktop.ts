// The desktop folder the shared-folder tests share (share-mount.test.ts on the loopback machine,
// qemu-guest.vm-test.ts in the QEMU guest): app/src with a file and a link out of the share to a
// secret beside it, and docs to share read-only.
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { shellCommand } from '../../electron/core/machines/ssh/quote.js';
import type { SshConnection } from '../../electron/core/machines/ssh/ssh-connection.js';
import { until } from './until.js';

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
 * machine's kernel has cached what was there before each: the previous step looked at it). The
 * machine is already looking when the change is made (its exec started first: under TCG that
 * alone takes longer than the change takes to arrive). Returns milliseconds per change; throws
 * when one is not seen within 10 s.
 */
export async function desktopChangesSeen(desktop: string, machineDir: string, machine: SshConnection): Promise<Record<string, number>> {
  const dir = join(desktop, 'changes');
  const seen = async (what: string, change: () => Promise<unknown>, condition: string): Promise<number> => {
    // Polled on the machine, at most 1,000 times 10 ms apart; `ready` once it looks, `seen` once it sees.
    const loop = `echo ready; i=0; until ${condition}; do i=$((i + 1)); [ "$i" -lt 1000 ] || exit 1; sleep 0.01; done; echo seen`;
    const channel = await machine.execChannel(shellCommand(['sh', '-c', loop, 'sh', `${machineDir}/changes`]));
    channel.stderr.resume();
    let output = '';
    const ended = new Promise<void>((resolve) => {
      channel.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('seen')) resolve();
      });
      channel.once('close', () => resolve());
    });
    await until(
      () => output,
      (now) => now.includes('ready'),
      `the machine to look for the ${what}`,
      { attempts: 6000, intervalMs: 5 },
    );
    const started = performance.now();
    await change();
    await ended;
    const ms = Math.round(performance.now() - started);
    if (!output.includes('seen')) throw new Error(`the desktop's ${what} was not seen on the machine within 10 s`);
    return ms;
  };
  const content = (name: string, text: string) => `[ "$(cat "$1/${name}" 2>/dev/null)" = "${text}" ]`;
  // The folder's listing too (what sharefs keeps of it, apart from the kernel's names).
  const listed = (names: string) => `[ "$(ls "$1" | tr '\\n' ' ')" = "${names}" ]`;
  await mkdir(dir, { recursive: true });
  await seen('folder', () => mkdir(join(dir, 'sub')), `[ -d "$1/sub" ] && ${listed('sub ')}`);
  return {
    create: await seen('create', () => writeFile(join(dir, 'a.txt'), 'one'), `${content('a.txt', 'one')} && ${listed('a.txt sub ')}`),
    edit: await seen('edit', () => writeFile(join(dir, 'a.txt'), 'two, longer'), content('a.txt', 'two, longer')),
    rename: await seen(
      'rename',
      () => rename(join(dir, 'a.txt'), join(dir, 'b.txt')),
      `[ ! -e "$1/a.txt" ] && ${content('b.txt', 'two, longer')} && ${listed('b.txt sub ')}`,
    ),
    delete: await seen('delete', () => rm(join(dir, 'b.txt')), `[ ! -e "$1/b.txt" ] && ${listed('sub ')}`),
    removeFolder: await seen('folder removal', () => rm(join(dir, 'sub'), { recursive: true }), `[ ! -e "$1/sub" ] && ${listed('')}`),
  };
}
