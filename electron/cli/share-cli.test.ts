// Shared desktop folders as a user drives them: `onggi machine share`, `onggi run -v DESKTOP:CTR`,
// `onggi inspect`, `onggi machine unshare`, each a separate `node bin/onggi.js` process with the
// test's own data folder. The machine is a real sshd in a network namespace of the test's own
// (loopback-machine.ts, ownNetns), in a mount namespace where an empty tmpfs covers the desktop
// folder: the machine, its agent and its containers can reach that folder only through the share,
// which the CLI process itself serves (reverse SFTP over its SSH connection) while it runs.
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxLayer } from '../../build/testing/busybox-layer.js';
import { sshMachine } from '../../build/testing/host-machines.js';
import { CLI } from '../../build/testing/isolated-agent.js';
import { startLoopbackMachine, type LoopbackMachine } from '../../build/testing/loopback-machine.js';
import type { ContainerDetail } from '../../shared/containers.js';
import { shellCommand } from '../core/machines/ssh/quote.js';

const IMAGE = 'busybox:share-cli';
const isRoot = process.getuid?.() === 0;

let machine: LoopbackMachine | undefined;
let env: NodeJS.ProcessEnv = {};
let desktop = '';

function loopback(): LoopbackMachine {
  if (!machine) throw new Error('the machine is set up in beforeAll');
  return machine;
}

/** One `onggi` process (async: the test's own host core keeps its link meanwhile); cwd is the desktop folder. */
function onggi(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: desktop, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!isRoot)('shared desktop folders through the onggi command', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    // The desktop folder is made after sshd covered it in its namespace: the machine never saw it.
    machine = await startLoopbackMachine({ prefix: 'onggi-share-cli-', ownNetns: true, hide: (dir) => join(dir, 'desktop') });
    const { root } = machine;
    desktop = join(root, 'desktop');
    await mkdir(join(desktop, 'app'), { recursive: true });
    await mkdir(join(desktop, 'docs'), { recursive: true });
    await writeFile(join(desktop, 'app', 'f'), 'written on the desktop\n');
    await writeFile(join(desktop, 'docs', 'readme'), 'read only\n');
    // The CLI with the test core's data folder (where `box` was added) and local dirs (testHostCore's).
    env = {
      PATH: process.env.PATH,
      HOME: join(root, 'home'), // `~` and ~/.ssh are the test's own
      ONGGI_HOME: join(root, 'data'),
      ONGGI_LOCAL_RUN_DIR: join(root, 'local/run'),
      ONGGI_LOCAL_STATE_DIR: join(root, 'local/state'),
      DOCKER_CONFIG: join(root, 'docker-config'),
    };
    const layer = await makeBusyboxLayer(join(root, 'busybox'));
    await tar.c({ cwd: layer, file: join(root, 'busybox.tar') }, ['.']);
    const imported = await onggi('image', 'import', '--machine', 'box', '--kind', 'rootfs', join(root, 'busybox.tar'), IMAGE);
    if (imported.code !== 0) throw new Error(`onggi image import: ${imported.stderr}`);
  }, 300_000);

  afterAll(async () => {
    // The share mounts live in the sshd's namespace: unmounted from there, while the link is up.
    await machine?.stop(async () => {
      const connection = await sshMachine(loopback().core, 'box').sshConnection();
      await connection.exec(
        shellCommand([
          'sh',
          '-c',
          'for m in "$1"/shares/*; do fusermount3 -u -z "$m" 2>/dev/null; done; true',
          'sh',
          loopback().remote.runDir,
        ]),
      );
    });
  }, 60_000);

  it('the machine does not see the desktop folder itself', async () => {
    const connection = await sshMachine(loopback().core, 'box').sshConnection();
    expect((await connection.exec(shellCommand(['ls', '-A', desktop]))).stdout).toBe('');
  });

  it('`machine share` lists the folder; `run -v` reads the desktop file and writes one back; inspect maps the paths', async () => {
    const shared = await onggi('machine', 'share', 'box', join(desktop, 'app'));
    expect(shared).toMatchObject({ code: 0, stdout: `${join(desktop, 'app')}\n` });
    expect((await onggi('machine', 'shares', 'box')).stdout).toBe(`${join(desktop, 'app')}\n`);

    const read = await onggi('run', '--rm', '--machine', 'box', '-v', `${join(desktop, 'app')}:/app`, IMAGE, 'cat', '/app/f');
    expect(read).toMatchObject({ code: 0, stdout: 'written on the desktop\n' });

    const write = await onggi(
      'run',
      '--rm',
      '--machine',
      'box',
      '-v',
      './app:/app',
      IMAGE,
      'sh',
      '-c',
      'echo from the container > /app/made',
    );
    expect(write.code).toBe(0);
    expect(await readFile(join(desktop, 'app', 'made'), 'utf8')).toBe('from the container\n');

    // Kept (not --rm) for inspect: the mount names the desktop path behind the machine's.
    const kept = await onggi('run', '--machine', 'box', '--name', 'mapped', '-v', './app:/app:ro', IMAGE, 'true');
    expect(kept.code).toBe(0);
    const inspected = await onggi('inspect', '--machine', 'box', 'mapped');
    expect(inspected.code).toBe(0);
    const detail = JSON.parse(inspected.stdout) as ContainerDetail;
    expect(detail.mounts).toEqual([
      {
        type: 'bind',
        source: expect.stringMatching(new RegExp(`^${loopback().remote.runDir}/shares/[0-9a-f]{16}$`)),
        desktopPath: join(desktop, 'app'),
        target: '/app',
        readonly: true,
      },
    ]);
    expect((await onggi('rm', '--machine', 'box', 'mapped')).code).toBe(0);
  });

  it('a --read-only share refuses the container’s writes', async () => {
    expect((await onggi('machine', 'share', 'box', join(desktop, 'docs'), '--read-only')).stdout).toContain(
      `${join(desktop, 'docs')} (read-only)\n`,
    );
    const run = await onggi(
      'run', '--rm', '--machine', 'box', '-v', './docs:/docs', IMAGE,
      'sh', '-c', 'cat /docs/readme; echo changed > /docs/readme || echo refused; echo new > /docs/new || echo refused',
    ); // prettier-ignore
    expect(run.stdout).toBe('read only\nrefused\nrefused\n');
    expect(await readFile(join(desktop, 'docs', 'readme'), 'utf8')).toBe('read only\n');
    await expect(readFile(join(desktop, 'docs', 'new'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a desktop path outside every share is refused, naming `onggi machine share`; `unshare` takes a folder away', async () => {
    await mkdir(join(desktop, 'elsewhere'), { recursive: true });
    const outside = await onggi('run', '--rm', '--machine', 'box', '-v', './elsewhere:/x', IMAGE, 'true');
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain(`onggi machine share box ${join(desktop, 'elsewhere')}`);

    const unshared = await onggi('machine', 'unshare', 'box', join(desktop, 'app'));
    expect(unshared).toMatchObject({ code: 0, stdout: `${join(desktop, 'docs')} (read-only)\n` });
    const after = await onggi('run', '--rm', '--machine', 'box', '-v', './app:/app', IMAGE, 'cat', '/app/f');
    expect(after.code).not.toBe(0);
    expect(after.stdout).toBe('');
    expect(after.stderr).toContain(`onggi machine share box ${join(desktop, 'app')}`);
  });
});
