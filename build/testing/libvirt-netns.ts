// A libvirtd of the test's own: started inside a network namespace the test creates (so the
// management network vagrant-libvirt makes — a bridge, dnsmasq, NAT rules — stays off this
// machine's interfaces) and a private mount namespace in which libvirt's state, run and config
// dirs are fresh tmpfs mounts and qemu.conf is ours (QEMU runs as root, logs to files, no
// security driver). Its socket is in a temp dir on the host, so `virsh -c URI` works from
// outside. stop() ends every process in the namespace (they are all ours: libvirtd, dnsmasq,
// QEMU) and deletes it; the private mounts go with the last of them.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface LibvirtNetns {
  netns: string;
  dir: string;
  /** `qemu+unix:///system?socket=…`: the URI for virsh and vagrant-libvirt. */
  uri: string;
  /** argv prefix that runs a command inside the namespace. */
  exec: string[];
  stop(): Promise<void>;
}

const LIBVIRTD_CONF = ['unix_sock_rw_perms = "0700"', 'auth_unix_rw = "none"', 'auth_unix_ro = "none"'];
const QEMU_CONF = ['stdio_handler = "file"', 'user = "root"', 'group = "root"', 'dynamic_ownership = 0', 'security_driver = "none"'];
const PRIVATE_DIRS = ['/run/libvirt', '/var/lib/libvirt', '/var/cache/libvirt', '/var/log/libvirt', '/etc/libvirt/qemu'];

export async function startLibvirtNetns(): Promise<LibvirtNetns> {
  // Short: the socket path must fit a sockaddr_un.
  const dir = await mkdtemp('/tmp/onggi-lv-');
  const netns = `onggi-lv-${process.pid}`;
  const sockDir = join(dir, 'sock');
  const run = (argv: string[]): void => {
    const result = spawnSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${argv.join(' ')} failed: ${result.stderr}`);
  };
  let created = false;
  const stop = async (): Promise<void> => {
    if (created) {
      for (let round = 0; round < 50; round += 1) {
        const pids = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
        if (pids.length === 0) break;
        for (const pid of pids) {
          try {
            process.kill(pid, round < 20 ? 'SIGTERM' : 'SIGKILL');
          } catch {
            // gone already
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      spawnSync('ip', ['netns', 'del', netns]);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await writeFile(join(dir, 'libvirtd.conf'), [`unix_sock_dir = "${sockDir}"`, ...LIBVIRTD_CONF, ''].join('\n'));
    await writeFile(join(dir, 'qemu.conf'), [...QEMU_CONF, ''].join('\n'));
    const inner = [
      'set -e',
      'mount --make-rprivate /',
      `mount --bind ${join(dir, 'qemu.conf')} /etc/libvirt/qemu.conf`,
      ...PRIVATE_DIRS.map((path) => `mkdir -p ${path} && mount -t tmpfs tmpfs ${path}`),
      'mkdir -p /var/lib/libvirt/images /etc/libvirt/qemu/networks',
      `mkdir -p ${sockDir}`,
      `exec libvirtd --config ${join(dir, 'libvirtd.conf')} --pid-file ${join(dir, 'libvirtd.pid')}`,
    ].join('\n');
    await writeFile(join(dir, 'inner.sh'), `${inner}\n`);
    run(['ip', 'netns', 'add', netns]);
    created = true;
    run(['ip', 'netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
    const child = spawn('ip', ['netns', 'exec', netns, 'unshare', '--mount', 'sh', join(dir, 'inner.sh')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: false,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const uri = `qemu+unix:///system?socket=${join(sockDir, 'libvirt-sock')}`;
    // Ready when virsh gets an answer over the socket.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`libvirtd exited (${child.exitCode}): ${stderr}`);
      const socket = await stat(join(sockDir, 'libvirt-sock')).catch(() => undefined);
      if (socket && spawnSync('virsh', ['-c', uri, 'version'], { encoding: 'utf8' }).status === 0) break;
      if (Date.now() > deadline) throw new Error(`libvirtd did not answer on ${uri} within 60 s: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return { netns, dir, uri, exec: ['ip', 'netns', 'exec', netns], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
