// Deploy as a user whose sudo wants a password, for real: a throwaway non-root user with a random
// password, a sudoers drop-in that requires it, the loopback OpenSSH server letting that user in
// with the fixture's key. The password is asked through the host API (a secret question event,
// answered with machines.answerPrompt), fed to `sudo -S` on stdin, never stored. The user, its
// home, the sudoers file, the daemons and the temp root go in afterAll, whatever happened.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { AGENT_DIR, CLI } from '../../../build/testing/isolated-agent.js';
import { unmountUnder } from '../../../build/testing/mounts.js';
import { remoteAgentEnv, stopRemoteAgents } from '../../../build/testing/remote-agent.js';
import { startSshd, type Sshd } from '../../../build/testing/sshd.js';
import { stageRuntime } from '../../../build/runtime.mjs';
import type { HostEvent } from '../../../shared/host-api.js';
import type { SystemInfo } from '../../../shared/system-info.js';
import { createHostCore, type HostCore } from '../host-core.js';
import { addSshMachine, sshMachine } from '../../../build/testing/host-machines.js';
import { runAllSteps } from '../../../build/testing/teardown.js';

const BUNDLES_DIR = join(AGENT_DIR, '..', 'bundles');
const suffix = randomBytes(4).toString('hex');
const USER = `onggi-sudo-${suffix}`;
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const SUDOERS = `/etc/sudoers.d/onggi-test-${suffix}`;
const isolation = remoteAgentEnv();
let userCreated = false;
let home = '';
let sshd: Sshd | undefined;
let root = '';
let remote: { installRoot: string; runDir: string; stateDir: string; supervisor: 'background' };
const cores: HostCore[] = [];

function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

beforeAll(async () => {
  if (spawnSync('sudo', ['-V']).status !== 0) throw new Error('sudo is not installed (apt-get install sudo; build/test.sh does)');
  await stageRuntime({ arch: 'x64', outDir: BUNDLES_DIR });
  run('useradd', ['--create-home', '--shell', '/bin/sh', USER]);
  userCreated = true;
  home = run('getent', ['passwd', USER]).split(':')[5] ?? '';
  run('chpasswd', [], `${USER}:${PASSWORD}\n`);
  // The daemon sudo starts keeps the session's isolation (sshd SetEnv) through sudo's env_reset.
  const keep = Object.keys(isolation.env).join(' ');
  const rules = `Defaults:${USER} !requiretty\nDefaults:${USER} lecture=never\nDefaults:${USER} env_keep += "${keep}"\n${USER} ALL=(ALL) ALL\n`;
  await writeFile(`${SUDOERS}.tmp`, rules, { mode: 0o440 });
  run('visudo', ['-c', '-f', `${SUDOERS}.tmp`]);
  run('mv', [`${SUDOERS}.tmp`, SUDOERS]);
  sshd = await startSshd({
    env: isolation.env,
    // The fixture's AuthorizedKeysFile is root's; this user reads its own.
    config: [`Match User ${USER}`, `  AuthorizedKeysFile ${home}/.ssh/authorized_keys`],
  });
  const uid = Number(run('id', ['-u', USER]).trim());
  const gid = Number(run('id', ['-g', USER]).trim());
  await mkdir(join(home, '.ssh'), { mode: 0o700 });
  await writeFile(join(home, '.ssh/authorized_keys'), await readFile(`${sshd.userKeyPath}.pub`, 'utf8'), { mode: 0o600 });
  await chown(join(home, '.ssh'), uid, gid);
  await chown(join(home, '.ssh/authorized_keys'), uid, gid);
  // The login user probes the install root for what is there: it must be able to look.
  root = await mkdtemp(join(tmpdir(), 'onggi-sudo-test-'));
  await chmod(root, 0o755);
  remote = {
    installRoot: join(root, 'remote/opt'),
    runDir: join(root, 'remote/run'),
    stateDir: join(root, 'remote/state'),
    supervisor: 'background',
  };
}, 300_000);

afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.close()));
});

afterAll(async () => {
  const steps: Array<() => Promise<unknown>> = [
    () => Promise.all(cores.splice(0).map((core) => core.close())),
    async () => {
      if (root) await stopRemoteAgents(remote.runDir, `${root}/remote`, isolation);
    },
    async () => sshd?.stop(),
    () => rm(SUDOERS, { force: true }),
    () => rm(`${SUDOERS}.tmp`, { force: true }),
    async () => {
      // The user's sshd sessions end with their connections; userdel refuses while one lingers.
      for (let attempt = 0; userCreated && attempt < 50; attempt += 1) {
        const deleted = spawnSync('userdel', ['--remove', USER], { encoding: 'utf8' });
        if (deleted.status === 0 || spawnSync('id', [USER]).status !== 0) userCreated = false;
        else await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (userCreated) throw new Error(`could not remove the test user ${USER}`);
      if (home) await rm(home, { recursive: true, force: true });
    },
    async () => {
      if (!root) return;
      unmountUnder(root); // a container's rootfs, if a failed test left one
      await rm(root, { recursive: true, force: true });
    },
  ];
  await runAllSteps(steps);
}, 60_000);

interface Asked {
  kind: string;
  subject: string;
  attempt: number;
}

/** A host core as the window has it; secret questions answered through the host API from `answers`, in order. */
function windowCore(dataDir: string, answers: Array<string | null>): { core: HostCore; asked: Asked[]; events: HostEvent[] } {
  const core = createHostCore({
    dataDir,
    agentDir: AGENT_DIR,
    bundlesDir: BUNDLES_DIR,
    nodeRuntime: { command: process.execPath },
    localAgent: { runDir: join(root, 'local/run'), stateDir: join(root, 'local/state') },
    platform: 'linux',
    ssh: { userKnownHosts: [], agentSocket: '' },
  });
  cores.push(core);
  const asked: Asked[] = [];
  const events: HostEvent[] = [];
  core.onEvent((event) => {
    events.push(event);
    if (event.type !== 'machine.secretPrompt') return;
    asked.push({ kind: event.kind, subject: event.subject, attempt: event.attempt });
    const answer = answers.shift();
    void core.call('machines.answerPrompt', { requestId: event.requestId, secret: answer ?? null });
  });
  return { core, asked, events };
}

async function addMachine(core: HostCore, name: string): Promise<void> {
  await addSshMachine(core, {
    provider: 'ssh',
    name,
    host: '127.0.0.1',
    port: sshd?.port,
    user: USER,
    identityFile: sshd?.userKeyPath,
    acceptNewHostKey: true,
    remote,
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** Watches every process's argv and environment while it runs: the password must show up in none. */
function watchProcesses(secret: string): { stop(): Promise<{ scans: number; seen: string[] }> } {
  const seen: string[] = [];
  let scans = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        for (const file of ['cmdline', 'environ']) {
          const text = await readFile(`/proc/${entry}/${file}`).catch(() => Buffer.alloc(0));
          if (text.includes(secret)) seen.push(`${entry}/${file}`);
        }
      }
      scans += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { scans, seen };
    },
  };
}

describe('deploy as a user whose sudo asks for a password', () => {
  it('is really such a user: not root, and sudo -n refuses', () => {
    const probe = spawnSync('runuser', ['-u', USER, '--', 'sh', '-c', 'id -u; sudo -n true'], { encoding: 'utf8' });
    expect(probe.stdout.trim()).not.toBe('0');
    expect(probe.status).not.toBe(0);
    expect(probe.stderr).toMatch(/a password is required/);
  });

  it('a wrong password twice: asked twice, then a clear error; nothing was installed', async () => {
    const { core, asked } = windowCore(join(root, 'data-wrong'), ['not-it', 'not-it-either']);
    await addMachine(core, 'box');
    await expect(core.call('machines.info', { machine: 'box' })).rejects.toThrow(
      `the sudo password for ${USER}@127.0.0.1:${sshd?.port} was wrong 2 times; open the machine again to retry`,
    );
    const subject = `${USER}@127.0.0.1`;
    expect(asked).toEqual([
      { kind: 'sudo-password', subject, attempt: 1 },
      { kind: 'sudo-password', subject, attempt: 2 },
    ]);
    expect(spawnSync('test', ['-e', remote.installRoot]).status).not.toBe(0);
  });

  it('declining the question says so', async () => {
    const { core, asked } = windowCore(join(root, 'data-declined'), [null]);
    await addMachine(core, 'box');
    await expect(core.call('machines.info', { machine: 'box' })).rejects.toThrow(/no sudo password was given for/);
    expect(asked).toHaveLength(1);
  });

  it('wrong, then right: deploys, the daemon runs as root, info works; asked once per connection, stored nowhere', async () => {
    const dataDir = join(root, 'data');
    const first = windowCore(dataDir, ['not-it', PASSWORD]);
    await addMachine(first.core, 'box');
    const watch = watchProcesses(PASSWORD);
    const info = (await first.core.call('machines.info', { machine: 'box' })) as SystemInfo;
    const watched = await watch.stop();
    expect(watched.scans).toBeGreaterThan(3);
    expect(watched.seen).toEqual([]); // never in a command line or an environment
    expect(info.kernelRelease).toBe(spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim());
    expect(first.asked.map((question) => question.attempt)).toEqual([1, 2]);
    const deployed = sshMachine(first.core, 'box').lastDeploy;
    expect(deployed).toMatchObject({ restarted: true, uploaded: expect.arrayContaining(['runtime', 'agent']) as unknown });
    expect(deployed?.paths.privilege).toEqual(['sudo', '-k', '-S', '-p', '', '--']);
    const status = await readFile(`/proc/${info.agent.pid}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+0\s/m);
    // Its containers go under the test's own cgroup parent (kept through sudo by env_keep).
    expect((await readFile(`/proc/${info.agent.pid}/environ`, 'utf8')).split('\0')).toContain(
      `ONGGI_CGROUP_PARENT=${isolation.cgroupParent}`,
    );
    // The same connection: no more questions.
    await first.core.call('containers.list', { machine: 'box', all: true });
    expect(first.asked).toHaveLength(2);
    await first.core.close();

    // A new connection (another app start): asked once, dials with the password, uploads and restarts nothing.
    const second = windowCore(dataDir, [PASSWORD]);
    const again = (await second.core.call('machines.info', { machine: 'box' })) as SystemInfo;
    expect(again.agent.pid).toBe(info.agent.pid);
    expect(second.asked).toHaveLength(1);
    expect(sshMachine(second.core, 'box').lastDeploy).toMatchObject({ uploadedBytes: 0, restarted: false });
    // A non-PTY container-less command still works on the machine; the daemon never saw the password.
    const terminal = await second.core.openTerminal('box', { command: ['id', '-un'], tty: false });
    let out = '';
    terminal.stream.on('data', (chunk: Buffer) => (out += chunk.toString()));
    expect(await terminal.exit).toEqual({ code: 0 });
    expect(out.trim()).toBe(USER);
    // A container command without a PTY: `agent exec` behind sudo -S gets the password line first.
    const layer = await makeBusyboxLayer(join(root, 'busybox'));
    const tar = join(root, 'busybox.tar');
    expect(spawnSync('tar', ['-C', layer, '-cf', tar, '.']).status).toBe(0);
    await second.core.importImageFile('box', tar, { kind: 'rootfs', name: 'busybox:sudo' });
    await second.core.call('containers.create', {
      machine: 'box',
      image: 'busybox:sudo',
      name: 'sleeper',
      command: ['sleep', '60'], // ends by itself even if the test fails before removing it
      networks: ['none'],
    });
    await second.core.call('containers.start', { machine: 'box', container: 'sleeper' });
    const exec = await second.core.openTerminal('box', { container: 'sleeper', command: ['sh', '-c', 'echo in-$(hostname)'], tty: false });
    let execOut = '';
    exec.stream.on('data', (chunk: Buffer) => (execOut += chunk.toString()));
    expect(await exec.exit).toEqual({ code: 0 });
    expect(execOut).toMatch(/^in-/);
    expect(execOut).not.toContain(PASSWORD);
    // With a PTY the line would be echoed before sudo turns echo off: refused, saying why.
    await expect(second.core.openTerminal('box', { container: 'sleeper', command: ['sh'], tty: true })).rejects.toThrow(
      /container terminals with a PTY need root without a password prompt/,
    );
    await second.core.call('containers.remove', { machine: 'box', container: 'sleeper', force: true });
    await second.core.close();

    // Nowhere on disk: not in the app's data dir, the machine's state or logs, the sshd log.
    const files = [...(await filesUnder(dataDir)), ...(await filesUnder(join(root, 'remote/state'))), ...(await filesUnder(remote.runDir))];
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = await readFile(file).catch(() => Buffer.alloc(0));
      expect(text.includes(PASSWORD), file).toBe(false);
    }
    expect(await sshd?.log()).not.toContain(PASSWORD);
  }, 240_000);
});

describe('the CLI asks "[sudo] password for" on its terminal', () => {
  it('says why it cannot without a terminal; on a terminal: no echo, "Sorry, try again." once, then info works', async () => {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ONGGI_HOME: join(root, 'cli-data'),
      HOME: join(root, 'cli-home'),
      ONGGI_LOCAL_RUN_DIR: join(root, 'cli-local/run'),
      ONGGI_LOCAL_STATE_DIR: join(root, 'cli-local/state'),
      SSH_AUTH_SOCK: '',
      TERM: 'xterm',
    };
    await mkdir(join(root, 'cli-home/.ssh'), { recursive: true });
    const onggi = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 120_000 });
    const added = onggi(
      ...['machine', 'add', 'ssh', 'box', '--host', '127.0.0.1', '--port', String(sshd?.port), '--user', USER],
      ...['--key', sshd?.userKeyPath ?? '', '--accept-new-host-key', '--supervisor', 'background'],
      ...['--remote-root', remote.installRoot, '--remote-run-dir', remote.runDir, '--remote-state-dir', remote.stateDir],
    );
    expect(added.stderr).toBe('');
    expect(added.status).toBe(0);
    const headless = onggi('info', '--machine', 'box');
    expect(headless.status).toBe(1);
    expect(headless.stderr).toContain(`No terminal to ask for the sudo password of ${USER}@127.0.0.1 on`);
    expect(headless.stderr).toContain('no sudo password was given');

    const pty = await import('@lydell/node-pty');
    const terminal = pty.spawn(process.execPath, [CLI, 'info', '--machine', 'box', '--json'], { cols: 200, rows: 30, env });
    let output = '';
    terminal.onData((data) => (output += data));
    const exited = new Promise<number>((resolve) => terminal.onExit(({ exitCode }) => resolve(exitCode)));
    const waitFor = async (pattern: RegExp): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!pattern.test(output)) {
        if (Date.now() > deadline) throw new Error(`waited for ${pattern}; got ${JSON.stringify(output.slice(-400))}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    try {
      const prompt = `[sudo] password for ${USER}@127.0.0.1: `;
      await waitFor(new RegExp(prompt.replace(/[[\].]/g, '\\$&')));
      terminal.write('not-it\r');
      await waitFor(/Sorry, try again\.\r?\n/);
      await waitFor(new RegExp(`Sorry, try again\\.\\r?\\n${prompt.replace(/[[\].]/g, '\\$&')}`));
      terminal.write(`${PASSWORD}\r`);
      expect(await exited).toBe(0);
      expect(output).toContain('"kernelRelease"');
      expect(output).not.toContain(PASSWORD);
      expect(output).not.toContain('not-it');
    } finally {
      terminal.kill();
    }
  }, 120_000);
});
