// The Vagrant provider against a real Vagrant: Debian's vagrant + vagrant-libvirt, a libvirtd the
// test starts inside a network namespace (and private mounts) of its own, and a box made from the
// same debootstrap image as the QEMU suite (qcow2, booted with its kernel: the disk is a bare
// root filesystem). The onggi CLI runs inside that namespace too, since the VM's management
// network lives there. It exercises `machine add vagrant` → start (`vagrant up`, provisioning) →
// a shell through `vagrant ssh-config` → stop (`vagrant halt`) → rm (`vagrant destroy`).
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../../../../build/testing/isolated-agent.js';
import { startLibvirtNetns, type LibvirtNetns } from '../../../../build/testing/libvirt-netns.js';
import { vmImage, type VmImage } from '../../../../build/testing/vm-image.js';

const BOX = 'onggi-vm-test';
let image: VmImage;
let libvirt: LibvirtNetns | undefined;
let root: string;
let env: NodeJS.ProcessEnv;
let added = false;
const figures: Record<string, number> = {};

function run(argv: string[], timeout = 600_000) {
  const result = spawnSync(argv[0] ?? '', argv.slice(1), { env, encoding: 'utf8', timeout });
  if (result.error) throw result.error;
  return result;
}

/** The onggi CLI, inside the test's network namespace. */
function onggi(...args: string[]) {
  if (!libvirt) throw new Error('no libvirt');
  return run([...libvirt.exec, process.execPath, CLI, ...args]);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-vagrant-lv-'));
  await mkdir(join(root, 'home'), { recursive: true });
  env = {
    ...process.env,
    ONGGI_HOME: join(root, 'data'),
    HOME: join(root, 'home'),
    VAGRANT_HOME: join(root, 'vagrant.d'),
    SSH_AUTH_SOCK: '',
  };
  image = await vmImage();
  // The box: the image as qcow2 plus the metadata vagrant-libvirt reads.
  const boxDir = join(root, 'box');
  await mkdir(boxDir);
  expect(run(['qemu-img', 'convert', '-O', 'qcow2', image.rootImage, join(boxDir, 'box.img')]).status).toBe(0);
  await writeFile(join(boxDir, 'metadata.json'), JSON.stringify({ provider: 'libvirt', format: 'qcow2', virtual_size: 2 }));
  expect(run(['tar', '-C', boxDir, '-cf', join(root, 'box.box'), 'box.img', 'metadata.json']).status).toBe(0);
  await rm(boxDir, { recursive: true });
  const boxAdd = run(['vagrant', 'box', 'add', '--name', BOX, join(root, 'box.box')]);
  expect(boxAdd.stderr).toBe('');
  await rm(join(root, 'box.box'));
  libvirt = await startLibvirtNetns();
}, 900_000);

afterAll(async () => {
  try {
    if (added && libvirt) onggi('machine', 'rm', 'lv1'); // destroys the domain if a test left it
  } finally {
    await libvirt?.stop();
    if (root) await rm(root, { recursive: true, force: true });
    console.log(`vagrant-libvirt figures: ${JSON.stringify(figures)}`);
  }
});

describe('a Vagrant machine on vagrant-libvirt (QEMU TCG), driven by the onggi CLI', () => {
  it('is added, started (vagrant up + provisioning), reached over ssh-config, stopped and destroyed', () => {
    if (!libvirt) throw new Error('no libvirt');
    const add = onggi(
      'machine',
      'add',
      'vagrant',
      'lv1',
      '--provider',
      'libvirt',
      '--box',
      BOX,
      '--cpus',
      '1',
      '--memory',
      '768m',
      '--libvirt-driver',
      'qemu',
      '--libvirt-uri',
      libvirt.uri,
      '--libvirt-kernel',
      image.kernel,
      '--libvirt-initrd',
      image.initrd,
      '--libvirt-cmdline',
      'root=/dev/vda rw console=ttyS0 quiet',
      '--ssh-user',
      'root',
      '--ssh-key',
      image.keyPath,
      '--ssh-sudo-command',
      '%c',
    );
    expect(add.stderr).toBe('');
    expect(add.stdout).toMatch(/^added lv1: onggi-vm-test on libvirt, 1 CPUs, 768 MiB/);
    added = true;

    let started = Date.now();
    const up = onggi('machine', 'start', 'lv1');
    figures.upMs = Date.now() - started;
    expect(up.stdout).toBe('lv1: running\n');
    expect(up.status).toBe(0);
    expect(up.stderr).toContain("Bringing machine 'default' up with 'libvirt' provider...");
    expect(up.stderr).toContain('Machine booted and ready!');
    expect(up.stderr).toContain('onggi: machine ready for the agent'); // provision.sh ran

    // A shell on it, through `vagrant ssh-config` (host, port, user, key) and our SSH client.
    started = Date.now();
    const shell = onggi('machine', 'ssh', 'lv1', 'sh', '-c', 'cat /etc/hostname; stat -fc %T /sys/fs/cgroup');
    figures.firstShellMs = Date.now() - started;
    expect(shell.stderr).toBe('');
    expect(shell.stdout).toBe('onggi-lv1\ncgroup2fs\n');
    expect(onggi('machine', 'ls').stdout).toMatch(/^lv1 +vagrant +\S+ +onggi-vm-test \(libvirt\) in /m);

    started = Date.now();
    const halt = onggi('machine', 'stop', 'lv1');
    figures.haltMs = Date.now() - started;
    expect(halt.stderr).toBe('');
    expect(halt.stdout).toBe('lv1: stopped\n');
    const refused = onggi('machine', 'ssh', 'lv1', 'true');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/the Vagrant machine "lv1" is shutoff: start it with `onggi machine start lv1`/);

    started = Date.now();
    const destroy = onggi('machine', 'rm', 'lv1');
    figures.destroyMs = Date.now() - started;
    expect(destroy.stderr).toBe('');
    expect(destroy.status).toBe(0);
    added = false;
    const domains = run(['virsh', '-c', libvirt.uri, 'list', '--all', '--name']);
    expect(domains.stdout.trim()).toBe('');
  }, 900_000);
});
