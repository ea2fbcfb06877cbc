// The desktop folder the shared-folder tests share (share-mount.test.ts on the loopback machine,
// qemu-guest.vm-test.ts in the QEMU guest): app/src with a file and a link out of the share to a
// secret beside it, and docs to share read-only.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function makeShareDesktop(desktop: string): Promise<void> {
  await mkdir(join(desktop, 'app', 'src'), { recursive: true });
  await mkdir(join(desktop, 'docs'), { recursive: true });
  await writeFile(join(desktop, 'secret'), 'outside every share');
  await writeFile(join(desktop, 'app', 'src', 'hello.txt'), 'hello from the desktop\n');
  await writeFile(join(desktop, 'docs', 'readme'), 'read only\n');
  await symlink('../../secret', join(desktop, 'app', 'src', 'escape'));
}
