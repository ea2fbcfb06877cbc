// Boots the guest image (vm-image.ts) under QEMU's software emulation (`-accel tcg`: this
// machine's nested /dev/kvm cannot run a stock kernel), with user-mode networking that forwards
// one free port on 127.0.0.1 to the guest's sshd. Ready means the guest's sshd sent its banner
// through that forward. stop() kills the QEMU this fixture started, by its pid; so does the exit
// of the test process, should a test end without calling it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import type { VmImage } from './vm-image.js';
import { freePort, readBanner } from './sshd.js';

const QEMU = '/usr/bin/qemu-system-x86_64';

export interface QemuVm {
  readonly pid: number;
  /** The forwarded port: 127.0.0.1:sshPort reaches the guest's port 22. */
  readonly sshPort: number;
  /** Milliseconds from spawning QEMU to the guest's SSH banner. */
  readonly bootMs: number;
  serialLog(): Promise<string>;
  /** Sends a command to QEMU's monitor (`stop` pauses the guest as a laptop's sleep does, `cont` resumes it) and returns its reply. */
  monitor(command: string): Promise<string>;
  stop(): Promise<void>;
}

export interface QemuVmOptions {
  memoryMb?: number;
  cpus?: number;
  bootTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function bootVm(image: VmImage, options: QemuVmOptions = {}): Promise<QemuVm> {
  const dir = await mkdtemp(join(tmpdir(), 'onggi-qemu-'));
  const serial = join(dir, 'serial.log');
  const sshPort = await freePort();
  const started = Date.now();
  const child = spawn(
    QEMU,
    [
      '-name',
      `onggi-test-${process.pid}`,
      '-accel',
      'tcg',
      '-cpu',
      'max',
      '-smp',
      String(options.cpus ?? 1),
      '-m',
      String(options.memoryMb ?? 1024),
      '-kernel',
      image.kernel,
      '-initrd',
      image.initrd,
      '-append',
      'root=/dev/vda rw console=ttyS0 quiet systemd.show_status=0',
      // snapshot=on: the guest's writes go to a temp overlay; the cached image stays as built.
      '-drive',
      `file=${image.rootImage},format=raw,if=virtio,snapshot=on`,
      '-netdev',
      `user,id=n0,hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
      '-device',
      'virtio-net-pci,netdev=n0',
      '-display',
      'none',
      // The human monitor on a socket of our own: tests pause and resume the guest through it.
      '-monitor',
      `unix:${join(dir, 'monitor.sock')},server=on,wait=off`,
      '-serial',
      `file:${serial}`,
      '-no-reboot',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(`qemu exited (${signal ?? `code ${code}`}): ${stderr}`);
    });
    child.once('error', (error) => resolve(`qemu could not start: ${error.message}`));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const serialLog = (): Promise<string> => readFile(serial, 'utf8').catch(() => '');
  try {
    const deadline = started + (options.bootTimeoutMs ?? 420_000);
    for (;;) {
      // QEMU accepts on the forwarded port at once and closes when the guest does not answer yet;
      // an emulated guest under load may take seconds to fork sshd and send its banner.
      const banner = await Promise.race([readBanner(sshPort, 20_000), exited]);
      if (banner.startsWith('SSH-2.0')) break;
      if (banner.startsWith('qemu ')) throw new Error(banner);
      if (Date.now() > deadline) {
        throw new Error(
          `the guest's sshd sent no banner within ${deadline - started} ms; serial console:\n${(await serialLog()).slice(-3000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const monitor = (command: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = createConnection(join(dir, 'monitor.sock'));
      let reply = '';
      let sent = false;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        reply += chunk;
        // The monitor greets with a banner and a prompt, runs the command, prompts again.
        const prompts = reply.split('(qemu) ').length - 1;
        if (prompts === 1 && !sent) {
          sent = true;
          socket.write(`${command}\n`);
        } else if (prompts >= 2) socket.end();
      });
      socket.once('error', reject);
      socket.once('close', () => resolve(reply));
    });
  return { pid: child.pid ?? 0, sshPort, bootMs: Date.now() - started, serialLog, monitor, stop };
}
