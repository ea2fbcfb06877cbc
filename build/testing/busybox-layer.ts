// A one-layer busybox rootfs (Debian's busybox-static) for runtime tests that do not need a
// registry: /bin/busybox with its applets linked, a passwd with root and nobody, empty mount points.
import { spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function makeBusyboxLayer(dir: string): Promise<string> {
  for (const sub of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'mnt']) await mkdir(join(dir, sub), { recursive: true });
  await copyFile('/bin/busybox', join(dir, 'bin/busybox'));
  await chmod(join(dir, 'bin/busybox'), 0o755);
  await chmod(join(dir, 'tmp'), 0o1777);
  const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const applet of applets) if (applet !== 'busybox') await symlink('busybox', join(dir, 'bin', applet)).catch(() => undefined);
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  return dir;
}
