// A desktop folder live in a container on an SSH machine, for real: a loopback OpenSSH server as
// the machine, the agent deployed over it (isolated), sharefs on the machine. The desktop folder is
// covered by an empty tmpfs in the sshd's own mount namespace (sshd.ts `hide`), so the machine —
// its shells, its agent, its containers — can reach it only through the share.
import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { sshMachine } from '../../../build/testing/host-machines.js';
import { until } from '../../../build/testing/until.js';
import { desktopChangesSeen, makeShareDesktop } from '../../../build/testing/share-desktop.js';
import { startLoopbackMachine, type LoopbackMachine } from '../../../build/testing/loopback-machine.js';
import type { Sshd } from '../../../build/testing/sshd.js';
import { connectToSshd } from '../../../build/testing/sshd-connection.js';
import type { ShareResolution } from '../../../shared/shares.js';
import { shellCommand } from '../machines/ssh/quote.js';
import { type SshConnection } from '../machines/ssh/ssh-connection.js';
import { asHostApi, type HostCore } from '../host-core.js';
import { shareDesktopBinds } from '../../cli/desktop-binds.js';

const IMAGE = 'busybox:share';
let machine: LoopbackMachine | undefined;
let sshd: Sshd | undefined;
let core: HostCore | undefined;
let root = '';
let desktop = '';
let remote: LoopbackMachine['remote'];

beforeAll(async () => {
  // The desktop folder is made after sshd covered it in its namespace: the machine never saw it.
  machine = await startLoopbackMachine({ prefix: 'onggi-share-test-', hide: (dir) => join(dir, 'desktop') });
  ({ core, sshd, root, remote } = machine);
  desktop = join(root, 'desktop');
  await makeShareDesktop(desktop);
  const layer = await makeBusyboxLayer(join(root, 'busybox'));
  await tar.c({ cwd: layer, file: join(root, 'busybox.tar') }, ['.']);
  await host().importImageFile('box', join(root, 'busybox.tar'), { kind: 'rootfs', name: IMAGE });
}, 300_000);

afterAll(async () => {
  // The mounts live in the sshd's namespace: unmounted from there, while the link is up.
  await machine?.stop(async () => {
    const connection = await sshMachine(host(), 'box').sshConnection();
    await connection.exec(
      shellCommand(['sh', '-c', 'for m in "$1"/shares/*; do fusermount3 -u -z "$m" 2>/dev/null; done; true', 'sh', remote.runDir]),
    );
  });
}, 60_000);

async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function host(): HostCore {
  if (!core) throw new Error('the host core is set up in beforeAll');
  return core;
}

/** A command on the machine (in the sshd's namespace, where the desktop folder is hidden). */
async function onMachine(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const connection = await sshMachine(host(), 'box').sshConnection();
  return connection.exec(shellCommand(argv), { timeoutMs: 20_000 });
}

/** A connection of the test's own to the machine (not the machine's: that one is cut in a test). */
function observerConnection(): Promise<SshConnection> {
  if (!sshd) throw new Error('no sshd');
  return connectToSshd(sshd, join(root, 'observer_known_hosts'));
}

/** Runs a container to its end with these binds; its output. */
async function runIn(
  binds: Array<{ source: string; target: string; readonly?: boolean }>,
  command: string[],
): Promise<{ exitCode: number; output: string }> {
  const { id } = (await host().call('containers.create', {
    machine: 'box',
    image: IMAGE,
    command,
    networks: ['none'],
    mounts: binds.map((bind) => ({ type: 'bind', ...bind })),
  })) as { id: string };
  await host().call('containers.start', { machine: 'box', container: id });
  const { exitCode } = (await host().call('containers.wait', { machine: 'box', container: id })) as { exitCode: number };
  const { entries } = (await host().call('containers.logs', { machine: 'box', container: id })) as { entries: Array<{ log: string }> };
  await host().call('containers.remove', { machine: 'box', container: id, force: true });
  return { exitCode, output: entries.map((entry) => entry.log).join('') };
}

describe('a desktop folder shared with an SSH machine', () => {
  it('the machine cannot see the desktop folder except through the share', async () => {
    const seen = await onMachine(['ls', '-A', desktop]);
    expect(seen.stdout.trim()).toBe('');
  });

  it('a path in no shared folder is refused, naming the command that shares it', async () => {
    await expect(host().call('machines.resolveShare', { machine: 'box', path: join(desktop, 'app', 'src') })).rejects.toThrow(
      `onggi machine share box ${join(desktop, 'app', 'src')}`,
    );
  });

  it('a desktop write is read in the container, a container write on the desktop; a link out is refused', async () => {
    const shares = await host().call('machines.share', { machine: 'box', path: join(desktop, 'app') });
    expect(shares).toEqual([{ path: join(desktop, 'app'), readOnly: false }]);
    const resolved = (await host().call('machines.resolveShare', { machine: 'box', path: join(desktop, 'app', 'src') })) as ShareResolution;
    expect(resolved.machinePath).toMatch(new RegExp(`^${remote.runDir}/shares/[0-9a-f]{16}/src$`));
    // Asked again: the same mount, reused.
    expect(
      ((await host().call('machines.resolveShare', { machine: 'box', path: join(desktop, 'app') })) as ShareResolution).machinePath,
    ).toBe(resolved.machinePath.replace(/\/src$/, ''));

    // The mount's readahead is raised (share-mount.ts): FUSE's 128 KiB made sequential reads a fraction of the link.
    const readahead = await onMachine([
      'sh',
      '-c',
      'cat "/sys/class/bdi/$(mountpoint -d "$1")/read_ahead_kb"',
      'sh',
      resolved.machinePath.replace(/\/src$/, ''),
    ]);
    expect(Number(readahead.stdout.trim())).toBeGreaterThan(128);

    await writeFile(join(desktop, 'app', 'src', 'edited.txt'), 'written on the desktop\n');
    const read = await runIn(
      [{ source: resolved.machinePath, target: '/app' }],
      ['sh', '-c', 'cat /app/hello.txt /app/edited.txt; echo made > /app/from-container'],
    );
    expect(read).toEqual({ exitCode: 0, output: 'hello from the desktop\nwritten on the desktop\n' });
    expect(await readFile(join(desktop, 'app', 'src', 'from-container'), 'utf8')).toBe('made\n');

    const escape = await runIn([{ source: resolved.machinePath, target: '/app' }], ['sh', '-c', 'cat /app/escape; echo "exit=$?"']);
    expect(escape.output).not.toContain('outside every share');
    expect(escape.output).toContain('exit=1');
  }, 120_000);

  it('`run -v` of a desktop path: mounted through the share, the mapping in the labels; outside every share refused with the command', async () => {
    const api = asHostApi(host());
    const written = new Map([
      ['/app', join(desktop, 'app', 'src')],
      ['/data', '/srv/machine-data'],
      ['/x', '~/not-shared'],
    ]);
    const { mounts, labels } = await shareDesktopBinds(
      api,
      'box',
      [
        { type: 'bind', source: join(desktop, 'app', 'src'), target: '/app', createSource: true },
        { type: 'bind', source: '/srv/machine-data', target: '/data', createSource: true },
      ],
      written,
    );
    expect(mounts[0]).toMatchObject({
      type: 'bind',
      target: '/app',
      createSource: false,
      source: expect.stringMatching(new RegExp(`^${remote.runDir}/shares/[0-9a-f]{16}/src$`)),
    });
    // An absolute path in no shared folder is the machine's own, as before.
    expect(mounts[1]).toEqual({ type: 'bind', source: '/srv/machine-data', target: '/data', createSource: true });
    expect(labels).toEqual({ 'onggi.shared-folder:/app': `${join(desktop, 'app', 'src')} → ${(mounts[0] as { source: string }).source}` });
    await expect(
      shareDesktopBinds(api, 'box', [{ type: 'bind', source: join(homedir(), 'not-shared'), target: '/x', createSource: true }], written),
    ).rejects.toThrow(`share it first with \`onggi machine share box ${join(homedir(), 'not-shared')}\``);
  }, 60_000);

  it('a read-only share refuses writes from the container', async () => {
    await host().call('machines.share', { machine: 'box', path: join(desktop, 'docs'), readOnly: true });
    const resolved = (await host().call('machines.resolveShare', { machine: 'box', path: join(desktop, 'docs') })) as ShareResolution;
    const run = await runIn(
      [{ source: resolved.machinePath, target: '/docs' }],
      ['sh', '-c', 'cat /docs/readme; echo x > /docs/readme; echo "exit=$?"; echo y > /docs/new; echo "exit=$?"'],
    );
    expect(run.output).toContain('read only\n');
    expect(run.output).toContain('exit=1\n');
    expect(run.output).not.toContain('exit=0');
    expect(await readFile(join(desktop, 'docs', 'readme'), 'utf8')).toBe('read only\n');
    await expect(readFile(join(desktop, 'docs', 'new'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  }, 120_000);

  it('a desktop edit reaches an inotify watcher of the mount on the machine within 1 s, with the new content', async () => {
    const resolved = (await host().call('machines.resolveShare', { machine: 'box', path: join(desktop, 'app', 'src') })) as ShareResolution;
    const observer = await observerConnection();
    try {
      // inotifywait on the machine's side of the share: the same inode a container's bind of it watches.
      const channel = await observer.execChannel(
        shellCommand(['inotifywait', '-m', '-e', 'attrib,modify,create', '--format', '%e %f', resolved.machinePath]),
      );
      let stdout = '';
      let stderr = '';
      channel.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      channel.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      await waitFor(() => stderr.includes('Watches established'), 'inotifywait to watch');
      const started = performance.now();
      await writeFile(join(desktop, 'app', 'src', 'hello.txt'), 'edited on the desktop\n');
      await waitFor(() => stdout.includes('hello.txt'), 'the event on the machine', 5000);
      const latencyMs = performance.now() - started;
      channel.close();
      expect(stdout).toMatch(/ATTRIB hello\.txt/);
      expect(latencyMs).toBeLessThan(1000);
      const read = await observer.exec(shellCommand(['cat', `${resolved.machinePath}/hello.txt`]));
      expect(read.stdout).toBe('edited on the desktop\n');
      console.log(`share: a desktop edit reached inotifywait on the machine in ${latencyMs.toFixed(0)} ms`);

      // Every kind of change, though the machine's kernel caches names and attributes long (share-mount.ts).
      const changes = await desktopChangesSeen(join(desktop, 'app', 'src'), resolved.machinePath, observer);
      console.log(`share: desktop changes seen on the machine (ms): ${JSON.stringify(changes)}`);
      for (const ms of Object.values(changes)) expect(ms).toBeLessThan(1000);
    } finally {
      observer.close();
    }
  }, 60_000);

  it('after the SSH link is cut and restored, the same mount works again; meanwhile a read fails at once', async () => {
    const resolved = (await host().call('machines.resolveShare', { machine: 'box', path: join(desktop, 'app') })) as ShareResolution;
    const mountId = async (via: SshConnection) =>
      (
        await via.exec(
          shellCommand([
            'sh',
            '-c',
            'grep " $1 " /proc/self/mountinfo | grep " - fuse.onggi-share " | cut -d" " -f1',
            'sh',
            resolved.machinePath,
          ]),
        )
      ).stdout.trim();
    // A second connection of the test's own watches from the machine while the machine's is down.
    const observer = await observerConnection();
    try {
      const mounted = await mountId(observer);
      expect(mounted).not.toBe('');
      // Known to the machine's kernel before the cut (its attributes cached), edited on the desktop during it.
      await writeFile(join(desktop, 'app', 'edited-in-cut.txt'), 'before\n');
      const size = () =>
        observer
          .exec(shellCommand(['stat', '-c', '%s', `${resolved.machinePath}/edited-in-cut.txt`]))
          .then((result) => result.stdout.trim());
      await until(size, (seen) => seen === '7', 'the file on the machine', { attempts: 400, intervalMs: 50 });
      const machine = sshMachine(host(), 'box');
      const before = await machine.sshConnection();
      await sshd?.killConnection(before.localPort);
      await new Promise<void>((resolve) => before.onClose(() => resolve()));

      await writeFile(join(desktop, 'app', 'after-cut.txt'), 'still live\n');
      await writeFile(join(desktop, 'app', 'edited-in-cut.txt'), 'edited while the link was down\n');
      const started = performance.now();
      const meanwhile = await observer.exec(shellCommand(['cat', `${resolved.machinePath}/after-cut.txt`]), { timeoutMs: 20_000 });
      const failedInMs = performance.now() - started;
      expect(meanwhile.code).not.toBe(0);
      expect(failedInMs).toBeLessThan(5000);

      // The desktop redials on demand; the new connection serves the share again (resolveShare waits for that).
      await host().call('machines.resolveShare', { machine: 'box', path: join(desktop, 'app') });
      expect(await machine.sshConnection()).not.toBe(before);
      const after = await observer.exec(shellCommand(['cat', `${resolved.machinePath}/after-cut.txt`]), { timeoutMs: 20_000 });
      expect(after.stdout).toBe('still live\n');
      expect(await mountId(observer)).toBe(mounted); // the same mount: containers' binds of it carry on
      // The edit made during the cut was held on the desktop and touched on the machine once the link was back.
      await until(size, (seen) => seen === '31', 'the edit made during the cut on the machine', { attempts: 400, intervalMs: 50 });
      const edited = await observer.exec(shellCommand(['cat', `${resolved.machinePath}/edited-in-cut.txt`]));
      expect(edited.stdout).toBe('edited while the link was down\n');
      console.log(`share: a read during the cut failed in ${failedInMs.toFixed(0)} ms`);
    } finally {
      observer.close();
    }
  }, 120_000);
});
