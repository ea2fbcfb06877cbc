// The guest image for the VM suites: Debian 12 from debootstrap (minbase plus a kernel, systemd,
// sshd, what the agent runs and what shared folders use), root's authorized key, DHCP on the first NIC, and a busybox rootfs
// tarball to import as a container image. Built into `.cache/vm/<recipe hash>/` (ignored by git)
// and reused until the recipe below changes; older builds are removed. `mkfs.ext4 -d` fills a raw
// image straight from the directory tree: no loop device, no mount.
import { spawn, spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeBusyboxLayer } from './busybox-layer.js';
import { REPO_ROOT } from './isolated-agent.js';
import { cachedByRecipe, recipeHashOf } from './recipe-cache.js';

export const VM_CACHE_DIR = join(REPO_ROOT, '.cache/vm');

/** Everything that decides what the image holds; its hash names the cache entry. */
export const VM_RECIPE = {
  revision: 1,
  suite: 'bookworm',
  mirror: 'http://deb.debian.org/debian',
  variant: 'minbase',
  include: [
    'linux-image-amd64',
    'openssh-server',
    'systemd-sysv',
    'iproute2',
    'util-linux',
    'udev',
    'kmod',
    'ca-certificates',
    'iptables',
    'xz-utils',
    // The share tests watch a shared folder with inotifywait.
    'inotify-tools',
  ],
  imageSize: '2G',
  files: {
    'etc/hostname': 'onggi-vm\n',
    'etc/hosts': '127.0.0.1 localhost\n127.0.1.1 onggi-vm\n',
    'etc/systemd/network/10-wired.network': '[Match]\nName=e*\n\n[Network]\nDHCP=yes\n',
    'etc/fstab': '/dev/vda / ext4 rw,relatime 0 1\n',
  } as Record<string, string>,
  /** systemd units enabled (wanted by multi-user.target) or masked (slow or useless in a throwaway VM). */
  enable: ['systemd-networkd.service', 'ssh.service'],
  mask: ['apt-daily.timer', 'apt-daily-upgrade.timer', 'e2scrub_all.timer', 'fstrim.timer', 'systemd-networkd-wait-online.service'],
} as const;

export interface VmImage {
  dir: string;
  /** The raw ext4 root filesystem (boot it with `snapshot=on`: the cached file is never written). */
  rootImage: string;
  kernel: string;
  initrd: string;
  /** root's private key (no passphrase); its public half is in the guest's authorized_keys. */
  keyPath: string;
  /** A busybox rootfs tarball inside the guest, for `image import --kind rootfs`. */
  guestBusyboxTar: string;
  /** Whether this call built it (false: taken from the cache). */
  built: boolean;
  buildMs: number;
}

export function recipeHash(): string {
  return recipeHashOf(VM_RECIPE);
}

const GUEST_BUSYBOX_TAR = '/root/busybox-rootfs.tar';

/** The cached image for the current recipe, built first when absent (≈ 2 minutes). */
export async function vmImage(log: (line: string) => void = () => undefined): Promise<VmImage> {
  const dir = join(VM_CACHE_DIR, recipeHash());
  const image = (built: boolean, buildMs: number): VmImage => ({
    dir,
    rootImage: join(dir, 'root.img'),
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    keyPath: join(dir, 'id_ed25519'),
    guestBusyboxTar: GUEST_BUSYBOX_TAR,
    built,
    buildMs,
  });
  const { built, buildMs } = await cachedByRecipe(VM_CACHE_DIR, VM_RECIPE, (work) => build(work, log));
  return image(built, buildMs);
}

async function build(work: string, log: (line: string) => void): Promise<void> {
  const rootfs = join(work, 'rootfs');
  await mkdir(rootfs, { recursive: true });
  log(`debootstrap ${VM_RECIPE.suite} into ${rootfs}`);
  await run('debootstrap', [
    `--variant=${VM_RECIPE.variant}`,
    `--include=${VM_RECIPE.include.join(',')}`,
    VM_RECIPE.suite,
    rootfs,
    VM_RECIPE.mirror,
  ]);
  for (const [path, content] of Object.entries(VM_RECIPE.files)) {
    await mkdir(join(rootfs, path, '..'), { recursive: true });
    await writeFile(join(rootfs, path), content);
  }
  const wants = join(rootfs, 'etc/systemd/system/multi-user.target.wants');
  await mkdir(wants, { recursive: true });
  for (const unit of VM_RECIPE.enable) {
    await rm(join(wants, unit), { force: true });
    await symlink(`/lib/systemd/system/${unit}`, join(wants, unit));
  }
  for (const unit of VM_RECIPE.mask) {
    await rm(join(rootfs, 'etc/systemd/system', unit), { force: true });
    await symlink('/dev/null', join(rootfs, 'etc/systemd/system', unit));
  }
  // root logs in with the image's own key only.
  const keyPath = join(work, 'id_ed25519');
  const keygen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'onggi-vm-test', '-f', keyPath], { encoding: 'utf8' });
  if (keygen.status !== 0) throw new Error(`ssh-keygen failed: ${keygen.stderr}`);
  await mkdir(join(rootfs, 'root/.ssh'), { recursive: true, mode: 0o700 });
  await copyFile(`${keyPath}.pub`, join(rootfs, 'root/.ssh/authorized_keys'));
  await chmod(join(rootfs, 'root/.ssh/authorized_keys'), 0o600);
  // A container image to import inside the guest.
  const layer = await makeBusyboxLayer(join(work, 'busybox'));
  await run('tar', ['-C', layer, '-cf', join(rootfs, GUEST_BUSYBOX_TAR.slice(1)), '.']);
  // Kernel and initrd boot with -kernel/-initrd; the links in / point at /boot.
  await copyFile(join(rootfs, 'vmlinuz'), join(work, 'vmlinuz'));
  await copyFile(join(rootfs, 'initrd.img'), join(work, 'initrd.img'));
  await rm(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
  await mkdir(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
  log('mkfs.ext4 -d');
  await run('truncate', ['-s', VM_RECIPE.imageSize, join(work, 'root.img')]);
  await run('mkfs.ext4', ['-q', '-F', '-L', 'onggi-vm', '-d', rootfs, join(work, 'root.img')]);
  await rm(rootfs, { recursive: true, force: true });
  await rm(join(work, 'busybox'), { recursive: true, force: true });
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr}`)),
    );
  });
}
