// Deploy for real: a loopback OpenSSH server (this same machine, as root), the staged Node 24
// runtime, the built agent. The install root, socket and state dirs are sandboxed under a temp dir
// (never /opt, /run/onggi or /var/lib/onggi), the daemon runs under the background supervisor
// (no systemd unit is ever installed), and both are stopped by pid at the end.
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { AGENT_DIR, CLI } from '../../../build/testing/isolated-agent.js';
import { addTestMachineArgs, remoteAgentEnv, stopRemoteAgents } from '../../../build/testing/remote-agent.js';
import { startSshd, type Sshd } from '../../../build/testing/sshd.js';
import { stageRuntime } from '../../../build/runtime.mjs';
import type { HostEvent } from '../../../shared/host-api.js';
import type { SystemInfo } from '../../../shared/system-info.js';
import { AGENT_DAEMON_ENV, agentDaemonLaunchWords } from '../../../shared/agent-launch.js';
import { createHostCore, type HostCore } from '../host-core.js';
import { SshMachine } from '../machines/ssh/ssh-machine.js';
import { fingerprint } from '../machines/ssh/known-hosts.js';
import { SYSTEMD_UNIT_PATH } from './remote-scripts.js';
import { sshMachine } from '../../../build/testing/host-machines.js';

const BUNDLES_DIR = join(AGENT_DIR, '..', 'bundles');
const isolation = remoteAgentEnv();
let sshd: Sshd;
let root: string;
let remote: { installRoot: string; runDir: string; stateDir: string };
let env: NodeJS.ProcessEnv;
const cores: HostCore[] = [];

beforeAll(async () => {
  // The real runtime, staged once and cached (≈ 100 s the first time: npm pack, strip, xz -9).
  await stageRuntime({ arch: 'x64', outDir: BUNDLES_DIR });
  sshd = await startSshd({ env: isolation.env });
  root = await mkdtemp(join(tmpdir(), 'onggi-deploy-test-'));
  remote = { installRoot: join(root, 'remote/opt'), runDir: join(root, 'remote/run'), stateDir: join(root, 'remote/state') };
  await mkdir(join(root, 'home/.ssh'), { recursive: true });
  env = {
    ...process.env,
    ONGGI_HOME: join(root, 'data'),
    HOME: join(root, 'home'), // the user's ~/.ssh (known_hosts, config) is the test's own
    ONGGI_LOCAL_RUN_DIR: join(root, 'local/run'),
    ONGGI_LOCAL_STATE_DIR: join(root, 'local/state'),
    SSH_AUTH_SOCK: '',
  };
}, 300_000);

afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.close()));
});

afterAll(async () => {
  await Promise.all(cores.splice(0).map((core) => core.close()));
  if (remote) await stopRemoteAgents(remote.runDir, `${root}/remote`, isolation);
  await sshd?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

function onggi(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 120_000 });
}

function hostCore(agentDir = AGENT_DIR): HostCore {
  const core = createHostCore({
    dataDir: join(root, 'data'),
    agentDir,
    bundlesDir: BUNDLES_DIR,
    nodeRuntime: { command: process.execPath },
    localAgent: { runDir: join(root, 'local/run'), stateDir: join(root, 'local/state') },
    platform: 'linux',
    prompts: { hostKey: () => Promise.resolve(false), secret: () => Promise.resolve(undefined) },
    ssh: { userKnownHosts: [join(root, 'home/.ssh/known_hosts')], agentSocket: '' },
  });
  cores.push(core);
  return core;
}

function addArgs(name: string): string[] {
  return addTestMachineArgs(name, sshd, sshd.userKeyPath, remote);
}

interface DeploySummary {
  uploaded: string[];
  uploadedBytes: number;
  restarted: boolean;
  deployMs: number;
  totalMs: number;
  runtimeId: string;
  agentId: string;
  removed: string[];
  timings: Record<string, number>;
}

describe('onggi machine add ssh + deploy over a real sshd', () => {
  it('refuses an unknown host key when there is no terminal to ask on, printing the fingerprint', () => {
    const run = onggi(...addArgs('box'));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`ED25519 key fingerprint is ${sshd.hostKeyFingerprint()}.`);
    expect(run.stderr).toContain('pass --accept-new-host-key');
    expect(run.stderr).toMatch(/onggi: the host key of 127\.0\.0\.1:\d+ is not known and was not accepted/);
    expect(onggi('machine', 'ls', '--json').stdout).not.toContain('"box"');
  });

  it('adds the machine with --accept-new-host-key: the remembered key is the one ssh-keygen -lf shows', async () => {
    const run = onggi(...addArgs('box'), '--accept-new-host-key');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`added box: root@127.0.0.1:${sshd.port}\n`);
    const line = (await readFile(join(root, 'data/known_hosts'), 'utf8')).trim();
    expect(line.startsWith(`[127.0.0.1]:${sshd.port} ssh-ed25519 `)).toBe(true);
    expect(fingerprint(Buffer.from(line.split(' ')[2] ?? '', 'base64'))).toBe(sshd.hostKeyFingerprint());
    const stored = JSON.parse(await readFile(join(root, 'data/machines.json'), 'utf8')) as { machines: Array<{ name: string }> };
    expect(stored.machines.map((machine) => machine.name)).toEqual(['box']);
    const list = JSON.parse(onggi('machine', 'ls', '--json').stdout) as Array<{ name: string; provider: string; host?: string }>;
    expect(list.find((machine) => machine.name === 'box')).toMatchObject({
      provider: 'ssh',
      host: '127.0.0.1',
      port: sshd.port,
      user: 'root',
    });
    expect(onggi(...addArgs('box'), '--accept-new-host-key').stderr).toBe('onggi: a machine named "box" exists (params.name)\n');
  });

  it('deploys: uploads runtime and agent once, starts the daemon; a second deploy uploads nothing in under a second', async () => {
    const first = onggi('machine', 'deploy', 'box', '--json');
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const one = JSON.parse(first.stdout) as DeploySummary;
    expect(one.uploaded.sort()).toEqual(['agent', 'runtime']);
    expect(one.restarted).toBe(true);
    const manifest = JSON.parse(await readFile(join(BUNDLES_DIR, 'runtime-linux-x64.json'), 'utf8')) as {
      id: string;
      files: Array<{ format: string; bytes: number }>;
    };
    expect(one.runtimeId).toBe(manifest.id);
    expect(one.uploadedBytes).toBeGreaterThan(manifest.files.find((file) => file.format === 'xz')?.bytes ?? 0);
    // Installed where we said, named by hash; no systemd unit anywhere.
    expect(await readdir(join(remote.installRoot, 'runtime'))).toEqual([one.runtimeId]);
    expect(await readdir(join(remote.installRoot, 'agent'))).toEqual([one.agentId]);
    const node = join(remote.installRoot, 'runtime', one.runtimeId, 'bin/node');
    expect(spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()).toBe('v24.21.0');
    expect(spawnSync('test', ['-e', SYSTEMD_UNIT_PATH]).status).not.toBe(0);
    const supervisor = Number((await readFile(join(remote.runDir, 'supervisor.pid'), 'utf8')).trim());
    expect(() => process.kill(supervisor, 0)).not.toThrow();

    const second = onggi('machine', 'deploy', 'box', '--json');
    expect(second.status).toBe(0);
    const two = JSON.parse(second.stdout) as DeploySummary;
    expect(two).toMatchObject({ uploaded: [], uploadedBytes: 0, restarted: false, runtimeId: one.runtimeId, agentId: one.agentId });
    expect(two.deployMs).toBeLessThan(1000);
    console.log(
      `first deploy: ${one.uploadedBytes} bytes, deploy ${one.deployMs} ms (with connect ${one.totalMs} ms); ` +
        `second deploy: ${two.uploadedBytes} bytes, deploy ${two.deployMs} ms (with connect ${two.totalMs} ms); ` +
        `steps ${JSON.stringify(one.timings)} / ${JSON.stringify(two.timings)}`,
    );
  }, 180_000);

  it('onggi info --machine shows the agent on the machine (the same kernel: it is this host)', async () => {
    const run = onggi('info', '--machine', 'box', '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const info = JSON.parse(run.stdout) as SystemInfo;
    expect(info.kernelRelease).toBe(spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim());
    expect(info.agent.pid).toBe(Number((await readFile(join(remote.runDir, 'agent.pid'), 'utf8')).trim()));
    const manifest = JSON.parse(await readFile(join(AGENT_DIR, 'manifest.json'), 'utf8')) as { buildId: string };
    expect(info.agent.buildId).toBe(manifest.buildId);
    // The daemon is the staged Node 24, not this test's Node.
    const runtime = JSON.parse(await readFile(join(BUNDLES_DIR, 'runtime-linux-x64.json'), 'utf8')) as { id: string };
    const argv = (await readFile(`/proc/${info.agent.pid}/cmdline`, 'utf8')).split('\0');
    expect(argv[0]).toBe(join(remote.installRoot, 'runtime', runtime.id, 'bin/node'));
    // Launched by the supervisor as shared/agent-launch.ts says: its Node flags, its malloc setting.
    const { flags } = agentDaemonLaunchWords();
    expect(argv.slice(1, 1 + flags.length)).toEqual(flags);
    const environ = (await readFile(`/proc/${info.agent.pid}/environ`, 'utf8')).split('\0');
    for (const [name, value] of Object.entries(AGENT_DAEMON_ENV)) expect(environ).toContain(`${name}=${value}`);
    // Isolated like every test agent: containers go under the test's own cgroup parent.
    expect(environ).toContain(`ONGGI_CGROUP_PARENT=${isolation.cgroupParent}`);
    // Every existing command takes --machine: the registry knows the machine.
    const ps = onggi('ps', '--all', '--json', '--machine', 'box');
    expect(ps.stderr).toBe('');
    expect(JSON.parse(ps.stdout)).toBeInstanceOf(Array);
    const ls = onggi('machine', 'ls');
    expect(ls.stdout).toMatch(new RegExp(`^box +ssh +stopped +root@127\\.0\\.0\\.1:${sshd.port}$`, 'm'));
  });
});

function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const tick = (): void => {
      if (condition()) return resolve();
      if (Date.now() > deadline) return reject(new Error('timed out'));
      setTimeout(tick, 20);
    };
    tick();
  });
}

describe('onggi machine ssh', () => {
  it('gives an interactive shell on the machine in a real terminal: raw keys, window size changes, exit code', async () => {
    const pty = await import('@lydell/node-pty');
    const terminal = pty.spawn(process.execPath, [CLI, 'machine', 'ssh', 'box'], {
      cols: 100,
      rows: 30,
      env: { ...(env as Record<string, string>), TERM: 'xterm' },
    });
    let output = '';
    terminal.onData((data) => (output += data));
    const exited = new Promise<number>((resolve) => terminal.onExit(({ exitCode }) => resolve(exitCode)));
    try {
      const waitFor = async (pattern: RegExp): Promise<void> => {
        const deadline = Date.now() + 15_000;
        while (!pattern.test(output)) {
          if (Date.now() > deadline) throw new Error(`waited for ${pattern}; got ${JSON.stringify(output.slice(-400))}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      terminal.write('stty size; echo FIRST-$((6*7))\r');
      await waitFor(/30 100\r*\n[^]*FIRST-42/);
      terminal.resize(120, 40); // SIGWINCH to the CLI, window-change to the remote pty
      await new Promise((resolve) => setTimeout(resolve, 200));
      terminal.write('stty size; echo SECOND-$((6*7))\r');
      await waitFor(/40 120\r*\n[^]*SECOND-42/);
      terminal.write('exit 4\r');
      expect(await exited).toBe(4);
    } finally {
      terminal.kill();
    }
  });
});

describe('the ssh machine in the host core', () => {
  it('notices a killed SSH connection mid-stream, says lost, reconnects by itself without redeploying, and the next call works', async () => {
    const core = hostCore();
    const states: string[] = [];
    const retries: { at: number; retryAt: number }[] = [];
    core.onEvent((event: HostEvent) => {
      if (event.type !== 'machine.state' || event.machine !== 'box') return;
      states.push(event.state);
      if (event.retryAt !== undefined) retries.push({ at: Date.now(), retryAt: event.retryAt });
    });
    const before = (await core.call('machines.info', { machine: 'box' })) as SystemInfo;
    expect(states).toEqual(['connecting', 'deploying', 'ready']);
    const machine = core.machine('box');
    if (!(machine instanceof SshMachine)) throw new Error('no ssh machine');
    const connection = await machine.ssh();
    // A terminal streaming when the link dies.
    const terminal = await core.openTerminal('box', { command: ['sh', '-c', 'while :; do echo tick; sleep 0.05; done'], tty: false });
    let ticks = 0;
    terminal.stream.on('data', () => (ticks += 1));
    await waitUntil(() => ticks > 2);
    const killed = await sshd.killConnection(connection.localPort);
    expect(killed.length).toBeGreaterThan(0);
    expect((await terminal.exit).code).toBeNull(); // hung up, no exit status
    await waitUntil(() => states.includes('lost') && states.at(-1) === 'ready');
    expect(states.slice(3)).toEqual(['lost', 'connecting', 'deploying', 'ready']);
    // Only the lost state said when the reconnect was due: the first backoff step (500 ms) ahead.
    expect(retries).toHaveLength(1);
    expect((retries[0]?.retryAt ?? 0) - (retries[0]?.at ?? 0)).toBeGreaterThan(400);
    expect((retries[0]?.retryAt ?? 0) - (retries[0]?.at ?? 0)).toBeLessThanOrEqual(500);
    expect(machine.summary().retryAt).toBeUndefined();
    expect(machine.lastDeploy).toMatchObject({ uploadedBytes: 0, restarted: false });
    const after = (await core.call('machines.info', { machine: 'box' })) as SystemInfo;
    expect(after.agent.pid).toBe(before.agent.pid); // the daemon never noticed
    expect((await machine.ssh()).localPort).not.toBe(connection.localPort);
  });

  it('the background supervisor restarts a killed daemon, and the machine reconnects to it by itself', async () => {
    const core = hostCore();
    const states: string[] = [];
    core.onEvent((event: HostEvent) => {
      if (event.type === 'machine.state' && event.machine === 'box') states.push(event.state);
    });
    const before = (await core.call('machines.info', { machine: 'box' })) as SystemInfo;
    process.kill(before.agent.pid, 'SIGKILL');
    await waitUntil(() => states.includes('lost') && states.at(-1) === 'ready', 30_000);
    const after = (await core.call('machines.info', { machine: 'box' })) as SystemInfo;
    expect(after.agent.pid).not.toBe(before.agent.pid);
    // The supervisor brought it back; the reconnect only dialed (a background reconnect never deploys).
    expect(sshMachine(core, 'box').lastDeploy).toMatchObject({ uploadedBytes: 0, restarted: false });
  }, 60_000);

  it('opens a terminal on the machine itself (its login shell user), with and without a PTY', async () => {
    const core = hostCore();
    const plain = await core.openTerminal('box', { command: ['uname', '-r'], tty: false });
    let out = '';
    plain.stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
    expect(await plain.exit).toEqual({ code: 0 });
    expect(out.trim()).toBe(spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim());
    const tty = await core.openTerminal('box', { command: ['sh', '-c', 'stty size; exit 3'], tty: true, cols: 100, rows: 30 });
    let ttyOut = '';
    tty.stream.on('data', (chunk: Buffer) => (ttyOut += chunk.toString()));
    expect(await tty.exit).toEqual({ code: 3 });
    expect(ttyOut).toContain('30 100');
  });

  it('measures the SSH PTY round trip: a key typed into a remote pty comes back as its echo', async () => {
    const core = hostCore();
    const terminal = await core.openTerminal('box', { command: ['cat'], tty: true, cols: 80, rows: 24 });
    const echoed = (key: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no echo of ${key} within 5 s`)), 5000);
        const onData = (chunk: Buffer): void => {
          if (!chunk.toString().includes(key)) return;
          clearTimeout(timer);
          terminal.stream.off('data', onData);
          resolve();
        };
        terminal.stream.on('data', onData);
      });
    const rounds: number[] = [];
    for (let index = 0; index < 20; index += 1) {
      const key = String.fromCharCode(97 + (index % 26));
      const echo = echoed(key);
      const started = performance.now();
      terminal.stream.write(key);
      await echo;
      rounds.push(performance.now() - started);
    }
    terminal.close();
    rounds.sort((a, b) => a - b);
    const median = rounds[Math.floor(rounds.length / 2)] ?? 0;
    console.log(`SSH PTY round trip (loopback sshd, 20 keys): median ${median.toFixed(2)} ms, max ${rounds.at(-1)?.toFixed(2)} ms`);
    expect(median).toBeLessThan(100);
  });

  it('imports a tarball from this computer onto the machine: uploaded over SFTP with progress, imported there, the upload removed', async () => {
    const core = hostCore();
    const tarPath = join(root, 'busybox-upload.tar');
    const layer = await makeBusyboxLayer(join(root, 'busybox-upload'));
    expect(spawnSync('tar', ['-C', layer, '-cf', tarPath, '.']).status).toBe(0);
    const uploads: Array<{ file: string; bytes: number; total: number }> = [];
    core.onEvent((event: HostEvent) => {
      if (event.type === 'machine.upload' && event.machine === 'box') uploads.push(event);
    });
    const imported = await core.importImageFile('box', tarPath, { kind: 'rootfs', name: 'uploaded:1' });
    expect(imported.flatMap((image) => image.names).join(' ')).toMatch(/uploaded:1/);
    const size = (await stat(tarPath)).size;
    expect(uploads[0]).toEqual({ type: 'machine.upload', machine: 'box', file: 'busybox-upload.tar', bytes: 0, total: size });
    expect(uploads.at(-1)).toMatchObject({ bytes: size, total: size });
    // The machine's copy is gone (its name is ours: /tmp/onggi-upload-<32 hex>, no extension).
    expect((await readdir('/tmp')).filter((name) => /^onggi-upload-[0-9a-f]{32}$/.test(name))).toEqual([]);
    const listed = onggi('image', 'ls', '--machine', 'box');
    expect(listed.stdout).toMatch(/uploaded/);
    // Through the CLI: a local file is uploaded, not looked for on the machine.
    const cli = onggi('image', 'import', tarPath, '--kind', 'rootfs', '--name', 'uploaded:2', '--machine', 'box');
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(/uploaded:2/);
  }, 120_000);

  it("runs -i over SSH through the agent's attach: input reaches the container, its EOF ends cat, the exit code comes back", () => {
    // uploaded:1 is the busybox image the test above imported onto the machine.
    const run = spawnSync(process.execPath, [CLI, 'run', '-i', '--rm', '--machine', 'box', 'uploaded:1', 'sh', '-c', 'cat; exit 6'], {
      env,
      encoding: 'utf8',
      input: 'over ssh\n',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('over ssh\n');
    expect(run.status).toBe(6);
  }, 60_000);

  it('export and image save of a remote machine land on this computer (written there, copied over SFTP, removed there)', async () => {
    const made = onggi('run', '--name', 'toexport', '--machine', 'box', 'uploaded:1', 'sh', '-c', 'echo remote > /made');
    expect(made.stderr).toBe('');
    const exported = join(root, 'exported.tar');
    const exportRun = onggi('export', 'toexport', '-o', exported, '--machine', 'box');
    expect(exportRun.stderr).toBe('');
    const listed = spawnSync('tar', ['-tf', exported], { encoding: 'utf8' }).stdout.split('\n');
    expect(listed).toContain('./made');
    expect(spawnSync('tar', ['-xOf', exported, './made'], { encoding: 'utf8' }).stdout).toBe('remote\n');
    const saved = join(root, 'saved.tar');
    expect(onggi('image', 'save', '-o', saved, '--machine', 'box', 'uploaded:1').stderr).toBe('');
    expect(spawnSync('tar', ['-tf', saved], { encoding: 'utf8' }).stdout.split('\n')).toContain('./manifest.json');
    // The machine's temporary copies are gone (/tmp/onggi-download-<32 hex>).
    expect((await readdir('/tmp')).filter((name) => /^onggi-download-[0-9a-f]{32}$/.test(name))).toEqual([]);
    // A failing export leaves no file there either, and says why.
    expect(onggi('export', 'nosuch', '-o', join(root, 'none.tar'), '--machine', 'box').stderr).toMatch(/nosuch/);
    expect((await readdir('/tmp')).filter((name) => /^onggi-download-[0-9a-f]{32}$/.test(name))).toEqual([]);
    expect(onggi('rm', 'toexport', '--machine', 'box').status).toBe(0);
  }, 120_000);

  it('an agent update uploads only the agent, restarts the daemon, and keeps the two newest agents', async () => {
    const variant = async (name: string, buildId: string): Promise<string> => {
      const dir = join(root, name);
      await cp(AGENT_DIR, dir, { recursive: true });
      const manifestPath = join(dir, 'manifest.json');
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { buildId: string };
      manifest.buildId = buildId;
      await writeFile(manifestPath, JSON.stringify(manifest));
      return dir;
    };
    // (Other builds may have been deployed before this test: the checkout's agent is rebuilt by every test run.)
    const agentsBefore = await readdir(join(remote.installRoot, 'agent'));
    expect(agentsBefore.length).toBeGreaterThanOrEqual(1);
    const oldPid = Number((await readFile(join(remote.runDir, 'agent.pid'), 'utf8')).trim());
    const ids: string[] = [];
    for (const [index, buildId] of ['e'.repeat(64), 'd'.repeat(64)].entries()) {
      const core = hostCore(await variant(`agent-v${index + 2}`, buildId));
      const info = (await core.call('machines.info', { machine: 'box' })) as SystemInfo;
      expect(info.agent.buildId).toBe(buildId);
      const deployed = sshMachine(core, 'box').lastDeploy;
      expect(deployed?.uploaded).toEqual(['agent']);
      expect(deployed?.restarted).toBe(true);
      expect(deployed?.uploadedBytes).toBeLessThan(1_000_000);
      expect(info.agent.pid).not.toBe(oldPid);
      ids.push(deployed?.agentId ?? '');
      await core.close();
    }
    // The two newest stay, every older one went.
    expect((await readdir(join(remote.installRoot, 'agent'))).sort()).toEqual(ids.sort());
    expect(await readdir(join(remote.installRoot, 'runtime'))).toHaveLength(1);
  }, 120_000);

  it('refuses to deploy a build without the init helper for the machine, naming it, and uploads nothing', async () => {
    const dir = join(root, 'agent-no-helper');
    await cp(AGENT_DIR, dir, { recursive: true });
    await rm(join(dir, 'onggi-init-amd64'));
    const agentsBefore = (await readdir(join(remote.installRoot, 'agent'))).sort();
    const core = hostCore(dir);
    await expect(core.call('machines.info', { machine: 'box' })).rejects.toThrow(/no onggi-init-amd64.*ONGGI_INIT_PREBUILT/);
    expect((await readdir(join(remote.installRoot, 'agent'))).sort()).toEqual(agentsBefore);
  }, 60_000);
});
