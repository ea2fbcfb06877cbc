// A real VM, under QEMU's software emulation: Debian 12 built by debootstrap (cached under
// .cache/vm/), booted with -accel tcg, reached through a user-mode port forward on 127.0.0.1.
// It is added as an ssh machine through the CLI, deployed to (systemd is PID 1 there, so the
// agent runs as a unit), and runs a container with cpu, memory and pids limits: the guest's
// /sys/fs/cgroup is pure cgroup2, so this is where the runtime's v2 path is proved for real.
// A desktop folder is shared with it (reverse SFTP over its SSH link into sharefs) and used by a container there.
// QEMU is killed by its pid at the end, even when a test failed.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { stageRuntime } from '../../../../build/runtime.mjs';
import { AGENT_DIR, CLI } from '../../../../build/testing/isolated-agent.js';
import { freePort } from '../../../../build/testing/sshd.js';
import { sshMachine } from '../../../../build/testing/host-machines.js';
import { bootVm, type QemuVm } from '../../../../build/testing/qemu-vm.js';
import { desktopChangesSeen, makeShareDesktop } from '../../../../build/testing/share-desktop.js';
import { vmImage, type VmImage } from '../../../../build/testing/vm-image.js';
import type { ContainerDetail } from '../../../../shared/containers.js';
import type { MachineInfo, MachineSummary } from '../../../../shared/host-api.js';
import type { ShareResolution } from '../../../../shared/shares.js';
import type { SystemInfo } from '../../../../shared/system-info.js';
import type { TerminalSession } from '../../../../shared/terminals.js';
import { followLogs } from '../../../cli/log-follow.js';
import { asHostApi, createHostCore, type HostCore } from '../../host-core.js';
import { shareSocket } from '../../shares/share-mount.js';
import type { Terminal } from '../machine.js';
import { KnownHosts } from './known-hosts.js';
import { shellCommand } from './quote.js';
import { connectSsh } from './ssh-connection.js';

const BUNDLES_DIR = join(AGENT_DIR, '..', 'bundles');
let image: VmImage;
let vm: QemuVm | undefined;
let root: string;
let env: NodeJS.ProcessEnv;
const figures: Record<string, number> = {};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-vm-test-'));
  await mkdir(join(root, 'home/.ssh'), { recursive: true });
  env = {
    ...process.env,
    ONGGI_HOME: join(root, 'data'),
    HOME: join(root, 'home'),
    ONGGI_LOCAL_RUN_DIR: join(root, 'local/run'),
    ONGGI_LOCAL_STATE_DIR: join(root, 'local/state'),
    SSH_AUTH_SOCK: '',
  };
  const [built] = await Promise.all([
    vmImage((line) => console.log(`vm image: ${line}`)),
    stageRuntime({ arch: 'x64', outDir: BUNDLES_DIR }),
  ]);
  image = built;
  if (image.built) figures.imageBuildMs = image.buildMs;
}, 900_000);

afterAll(async () => {
  await vm?.stop();
  if (root) await rm(root, { recursive: true, force: true });
  console.log(`vm figures: ${JSON.stringify(figures)}`);
});

function onggi(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 720_000 });
  if (run.error) throw run.error;
  return run;
}

/** Runs a command in the guest (as root, over the machine's SSH link) and returns its stdout. */
function guest(...command: string[]): string {
  const run = onggi('machine', 'ssh', 'vm', ...command);
  if (run.status !== 0) throw new Error(`${command.join(' ')} in the guest: exit ${run.status}: ${run.stderr}${run.stdout}`);
  return run.stdout;
}

describe('a Debian VM under QEMU TCG as an ssh machine', () => {
  it('boots, is added with its host key, takes a deploy, and runs the agent under systemd on cgroup v2', async () => {
    vm = await bootVm(image, { memoryMb: 1024, cpus: 1 });
    figures.bootToSshMs = vm.bootMs;
    const bootStarted = Date.now() - vm.bootMs;

    const added = onggi(
      'machine',
      'add',
      'ssh',
      'vm',
      '--host',
      '127.0.0.1',
      '--port',
      String(vm.sshPort),
      '--user',
      'root',
      '--key',
      image.keyPath,
      '--accept-new-host-key',
      // Onggi runs this guest: its clock is stepped back after a pause (the sleep/wake test below).
      '--clock',
      'correct',
    );
    expect(added.stderr).toBe('');
    expect(added.stdout).toBe(`added vm: root@127.0.0.1:${vm.sshPort}\n`);

    const deployed = onggi('machine', 'deploy', 'vm', '--json');
    expect(deployed.stderr).toBe('');
    expect(deployed.status).toBe(0);
    const summary = JSON.parse(deployed.stdout) as { uploaded: string[]; uploadedBytes: number; restarted: boolean; deployMs: number };
    expect(summary.uploaded.sort()).toEqual(['agent', 'runtime']);
    expect(summary.restarted).toBe(true);
    figures.bootToAgentReadyMs = Date.now() - bootStarted;
    figures.firstDeployMs = summary.deployMs;
    figures.firstDeployBytes = summary.uploadedBytes;

    const info = JSON.parse(onggi('info', '--machine', 'vm', '--json').stdout) as SystemInfo;
    expect(info.hostname).toBe('onggi-vm');
    expect(info.distro.id).toBe('debian');
    expect(info.cgroup).toMatchObject({ version: 2, mode: 'unified', rootFsType: 'cgroup2' });
    for (const name of ['cpu', 'memory', 'pids']) {
      expect(info.cgroup.controllers.find((controller) => controller.name === name)).toMatchObject({ version: 2 });
    }
    // systemd keeps it running there: the unit's main pid is the agent that answered.
    expect(guest('systemctl', 'show', '--property=MainPID', '--value', 'onggi-agent.service').trim()).toBe(String(info.agent.pid));

    const again = onggi('machine', 'deploy', 'vm', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ uploaded: [], uploadedBytes: 0, restarted: false });
    figures.secondDeployMs = (JSON.parse(again.stdout) as { deployMs: number }).deployMs;
  }, 840_000);

  it('runs a container with --cpus/--memory/--pids-limit: the guest cgroup2 files hold the limits, and they bite', () => {
    const imported = onggi('image', 'import', image.guestBusyboxTar, '--kind', 'rootfs', '--name', 'busybox:vm', '--machine', 'vm');
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toMatch(/^(docker\.io\/library\/)?busybox:vm sha256:[0-9a-f]{64}$/m);

    const run = onggi(
      'run',
      '-d',
      '--name',
      'limited',
      '--cpus',
      '0.5',
      '--memory',
      '64m',
      '--pids-limit',
      '20',
      '--network',
      'none',
      '--machine',
      'vm',
      'busybox:vm',
      'sleep',
      '600',
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const detail = JSON.parse(onggi('inspect', 'limited', '--machine', 'vm').stdout) as ContainerDetail & { pid?: number | null };
    expect(detail.cgroup.version).toBe(2);
    const [dir] = detail.cgroup.paths;
    expect(dir).toMatch(/^\/sys\/fs\/cgroup\//);
    if (!dir) return;
    // The kernel's own view, read in the guest.
    expect(guest('cat', `${dir}/cpu.max`, `${dir}/memory.max`, `${dir}/pids.max`)).toBe('50000 100000\n67108864\n20\n');
    expect(guest('cat', `${dir}/cgroup.type`)).toBe('domain\n');
    const procs = guest('cat', `${dir}/cgroup.procs`).trim().split('\n').filter(Boolean);
    expect(procs.length).toBeGreaterThan(0);

    // pids.max bites: 30 background sleeps in a 20-pid cgroup cannot all start.
    const forks = onggi(
      'exec',
      '--machine',
      'vm',
      'limited',
      'sh',
      '-c',
      'n=0; for i in $(seq 30); do sleep 60 & n=$((n+1)); done 2>/dev/null; cat /sys/fs/cgroup/pids.current',
    );
    expect(Number(guest('cat', `${dir}/pids.current`).trim())).toBeLessThanOrEqual(20);
    expect(Number(guest('cat', `${dir}/pids.events`).match(/max (\d+)/)?.[1])).toBeGreaterThan(0);
    expect(forks.status).not.toBeNull();

    // memory.max bites: a 100 MB allocation in a 64 MiB cgroup is OOM-killed.
    const hog = onggi(
      'run',
      '--rm',
      '--memory',
      '64m',
      '--network',
      'none',
      '--machine',
      'vm',
      'busybox:vm',
      'sh',
      '-c',
      'head -c 100000000 /dev/zero | tail > /dev/null && echo survived',
    );
    expect(hog.stdout).not.toContain('survived');
    expect(hog.status).not.toBe(0);
  }, 300_000);

  it('sleeps and wakes: paused 60 s by QEMU (a laptop asleep) — Ready again, the clock stepped back, the published port, the terminal session, logs -f and the container carry on', async () => {
    if (!vm) throw new Error('the guest did not boot');
    const paused = vm;
    const hostPort = await freePort();
    // A long-lived host core, as the app and `onggi serve` have: it forwards published ports and redials.
    const core = createHostCore({
      dataDir: join(root, 'data'),
      agentDir: AGENT_DIR,
      nodeRuntime: { command: process.execPath },
      forwardPublishedPorts: true,
      ssh: { agentSocket: '', userKnownHosts: [], config: { home: join(root, 'home') } },
    });
    const states: Array<{ state: string; at: number }> = [];
    const forwards: string[] = [];
    let terminalOutput = '';
    core.onEvent((event) => {
      if (event.type === 'terminal.output') terminalOutput += event.data;
      if (event.type === 'machine.state' && event.machine === 'vm') states.push({ state: event.state, at: Date.now() });
      if (event.type === 'machine.portForward') forwards.push(`${event.state} ${event.localAddress} ${event.error ?? ''}`);
    });
    const call = <T>(method: string, params: unknown): Promise<T> => core.call(method, params) as Promise<T>;
    const answers = async (): Promise<boolean> => {
      try {
        const response = await fetch(`http://127.0.0.1:${hostPort}/`, { signal: AbortSignal.timeout(2000) });
        return response.ok && (await response.text()).includes('awake');
      } catch {
        return false;
      }
    };
    try {
      onTestFailed(() => console.log(`port forwards seen: ${forwards.join('; ')}`));
      await call('containers.create', {
        machine: 'vm',
        image: 'busybox:vm',
        name: 'ticker',
        ports: [`${hostPort}:80`],
        command: [
          'sh',
          '-c',
          'mkdir /www && echo awake > /www/index.html && httpd -p 80 -h /www; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done',
        ],
      });
      await call('containers.start', { machine: 'vm', container: 'ticker' });
      await expect.poll(answers, { timeout: 60_000, interval: 500 }).toBe(true);
      // A terminal session on the guest, and `logs -f` of the counter, both open across the pause.
      const session = await call<TerminalSession>('terminals.open', { machine: 'vm', cols: 100, rows: 30 });
      // Arithmetic in the commands: the echo of what was typed never matches what they print.
      await call('terminals.input', { id: session.id, data: 'echo "SHELL-$$-$((6*7))"\r' });
      await expect.poll(() => /SHELL-\d+-42/.test(terminalOutput), { timeout: 30_000, interval: 100 }).toBe(true);
      const shellPid = /SHELL-(\d+)-42/.exec(terminalOutput)?.[1];
      const followed: number[] = [];
      const following = followLogs(asHostApi(core), { machine: 'vm', container: 'ticker' }, { follow: true }, (entries) =>
        followed.push(...entries.map((entry) => Number(/^tick (\d+)/.exec(entry.log)?.[1]))),
      );
      await expect.poll(() => followed.length, { timeout: 30_000, interval: 100 }).toBeGreaterThan(3);
      const before = await call<MachineInfo>('machines.info', { machine: 'vm' });
      figures.clockOffsetBeforePauseMs = before.clock?.offsetMs ?? NaN;
      expect(Math.abs(before.clock?.offsetMs ?? Infinity)).toBeLessThan(1000);

      expect(await paused.monitor('stop')).toContain('(qemu) ');
      const stoppedAt = Date.now();
      // The pause is the experiment (a laptop asleep for a minute), not a wait for readiness.
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      expect(await paused.monitor('cont')).toContain('(qemu) ');
      const resumedAt = Date.now();
      // What the app does on a wake (powerMonitor 'resume'): check the links, and dial a lost
      // machine now rather than at its next backoff step.
      void core.checkLinks();
      figures.pausedMs = resumedAt - stoppedAt;

      // Ready, by the host core's own reconnecting (listing does not dial): a link that died in the
      // pause is redialled on the keeper's backoff; one that held answers again at once.
      await expect
        .poll(() => call<MachineSummary[]>('machines.list', {}).then((list) => list.find((m) => m.name === 'vm')?.state), {
          timeout: 60_000,
          interval: 100,
        })
        .toBe('ready');
      figures.readyAfterContMs = Date.now() - resumedAt;
      // Where the time after `cont` went: the SSH handshake (up to `deploying`), then the deploy
      // probe and the agent's handshake (up to `ready`). An attempt already in flight at `cont`
      // shows as connecting before it (negative).
      const attempt = states.filter((s) => s.at <= resumedAt && s.state === 'connecting').at(-1);
      if (attempt) figures.attemptStartedBeforeContMs = resumedAt - attempt.at;
      const deploying = states.find((s) => s.at > (attempt?.at ?? resumedAt) && s.state === 'deploying');
      if (deploying) figures.sshHandshakeDoneAfterContMs = deploying.at - resumedAt;
      const after = await call<MachineInfo>('machines.info', { machine: 'vm' });
      figures.linkLostDuringPause = states.some((s) => s.at > stoppedAt && s.state === 'lost') ? 1 : 0;
      // The goal is 5 s; under TCG on a loaded machine one SSH handshake alone takes seconds. The
      // bound still fails with the old 30 s backoff.
      expect(figures.readyAfterContMs).toBeLessThan(15_000);

      // The clock: it lagged by about the pause, and was stepped back to within a second.
      figures.clockOffsetBeforeStepMs = after.clock?.corrected?.offsetBeforeMs ?? NaN;
      figures.clockOffsetAfterStepMs = after.clock?.offsetMs ?? NaN;
      expect(after.clock?.error).toBeUndefined();
      expect(after.clock?.corrected?.offsetBeforeMs).toBeLessThan(-45_000);
      expect(Math.abs(after.clock?.offsetMs ?? Infinity)).toBeLessThan(1000);
      // …as the guest itself says (an SSH round trip away: its midpoint is the comparison).
      const sent = Date.now();
      const guestMs = Number(guest('date', '+%s%3N').trim());
      const received = Date.now();
      expect(Math.abs(guestMs - (sent + received) / 2)).toBeLessThan(1000 + (received - sent) / 2);
      // The step is in the guest's activity log as the command it equals.
      const activity = await call<Array<{ argv?: string[]; ok: boolean }>>('activity.list', { machine: 'vm', limit: 200 });
      expect(activity.some((entry) => entry.ok && (entry.argv?.[0] === 'date' || entry.argv?.[0] === 'chronyc'))).toBe(true);

      // The published port answers on this computer again.
      await expect.poll(answers, { timeout: 30_000, interval: 250 }).toBe(true);
      figures.portAnswersAfterContMs = Date.now() - resumedAt;

      // The terminal session is the same shell and takes input again.
      await call('terminals.input', { id: session.id, data: 'echo "BACK-$$-$((1+1))"\r' });
      await expect.poll(() => terminalOutput.includes(`BACK-${shellPid}-2`), { timeout: 30_000, interval: 100 }).toBe(true);
      figures.terminalAnswersAfterContMs = Date.now() - resumedAt;
      expect(terminalOutput.split(`SHELL-${shellPid}-42`).length - 1).toBe(1);

      // The container was paused with its VM: its counter, as `logs -f` followed it across the
      // pause and as the log holds it, shows no gap and no repeat.
      const afterCont = followed.length;
      await expect.poll(() => followed.length, { timeout: 30_000, interval: 100 }).toBeGreaterThan(afterCont + 3);
      await call('containers.stop', { machine: 'vm', container: 'ticker', timeoutSeconds: 1 });
      await following;
      const { entries } = await call<{ entries: Array<{ log: string }> }>('containers.logs', { machine: 'vm', container: 'ticker' });
      const ticks = entries.map((entry) => Number(/^tick (\d+)/.exec(entry.log)?.[1])).filter((n) => Number.isInteger(n));
      expect(ticks.length).toBeGreaterThan(10);
      expect(ticks).toEqual(ticks.map((_, i) => (ticks[0] ?? 0) + i));
      const counted = followed.filter((n) => Number.isInteger(n));
      expect(counted).toEqual(counted.map((_, i) => (counted[0] ?? 0) + i));
      expect(counted.at(-1)).toBe(ticks.at(-1));
      await call('terminals.close', { id: session.id });
    } finally {
      // The container goes with the guest; only the host core is ours to close here.
      await core.close();
    }
  }, 300_000);

  it('shares a desktop folder: read and written by a container, inotify in the container, links out and read-only refused, back after the link is cut', async () => {
    const started = Date.now();
    const desktop = join(root, 'desktop');
    await makeShareDesktop(desktop);
    // The shares are served by a long-lived host core (a one-shot CLI's SFTP server ends with it).
    const core = createHostCore({
      dataDir: join(root, 'data'),
      agentDir: AGENT_DIR,
      nodeRuntime: { command: process.execPath },
      ssh: { agentSocket: '', userKnownHosts: [], config: { home: join(root, 'home') } },
    });
    const call = <T>(method: string, params: unknown): Promise<T> => core.call(method, params) as Promise<T>;
    // The test's own SSH connection to the guest: it looks and cuts while the host core's is down.
    const observer = await connectSsh({
      target: { host: '127.0.0.1', port: vm?.sshPort ?? 0, user: 'root', identityFiles: [image.keyPath], identityFilesRequired: true },
      knownHosts: new KnownHosts({ own: join(root, 'observer_known_hosts'), readOnly: [] }),
      hostKeyPolicy: 'accept-new',
      askHostKey: () => Promise.resolve(false),
      askPassphrase: () => Promise.resolve(undefined),
      passphraseCache: new Map(),
    });
    try {
      await call('machines.share', { machine: 'vm', path: join(desktop, 'app') });
      await call('machines.share', { machine: 'vm', path: join(desktop, 'docs'), readOnly: true });
      expect(onggi('machine', 'shares', 'vm').stdout).toBe(`${join(desktop, 'app')}\n${join(desktop, 'docs')} (read-only)\n`);
      const app = await call<ShareResolution>('machines.resolveShare', { machine: 'vm', path: join(desktop, 'app', 'src') });
      const docs = await call<ShareResolution>('machines.resolveShare', { machine: 'vm', path: join(desktop, 'docs') });
      expect(app.machinePath).toMatch(/^\/run\/onggi\/shares\/[0-9a-f]{16}\/src$/);
      figures.shareMountMs = Date.now() - started;

      // One container holds the binds for every case (a container start is seconds under TCG). The
      // guest's /usr is bound read-only too: it brings inotifywait, run by its loader from there
      // (the loader's real file: /usr/lib64's link to it is absolute, into the /lib busybox lacks).
      const { id } = await call<{ id: string }>('containers.create', {
        machine: 'vm',
        image: 'busybox:vm',
        command: ['sleep', '600'],
        networks: ['none'],
        mounts: [
          { type: 'bind', source: app.machinePath, target: '/app' },
          { type: 'bind', source: docs.machinePath, target: '/docs', readonly: true },
          { type: 'bind', source: '/usr', target: '/usr', readonly: true },
        ],
      });
      await call('containers.start', { machine: 'vm', container: id });
      const inContainer = (script: string) => collect(core, id, ['sh', '-c', script]);

      await writeFile(join(desktop, 'app', 'src', 'edited.txt'), 'written on the desktop\n');
      expect(await inContainer('cat /app/hello.txt /app/edited.txt; echo made > /app/from-container')).toEqual({
        code: 0,
        stdout: 'hello from the desktop\nwritten on the desktop\n',
      });
      expect(await readFile(join(desktop, 'app', 'src', 'from-container'), 'utf8')).toBe('made\n');

      // A link out of the shared folder is refused by the desktop side.
      const escape = await inContainer('cat /app/escape; echo "exit=$?"');
      expect(escape.stdout).not.toContain('outside every share');
      expect(escape.stdout).toContain('exit=1');

      // A read-only share refuses writes (the share itself, not only the container's bind: the
      // machine's own root writes through the mount are refused too).
      const readOnly = await inContainer('cat /docs/readme; echo x > /docs/readme; echo "exit=$?"; echo y > /docs/new; echo "exit=$?"');
      expect(readOnly.stdout).toBe('read only\nexit=1\nexit=1\n');
      const machineWrite = await observer.exec(shellCommand(['sh', '-c', 'echo z > "$1/new"; echo "exit=$?"', 'sh', docs.machinePath]));
      expect(machineWrite.stdout).toMatch(/^exit=[1-9]\d*\n$/); // the shell's status for a failed redirection
      expect(await readFile(join(desktop, 'docs', 'readme'), 'utf8')).toBe('read only\n');
      await expect(readFile(join(desktop, 'docs', 'new'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });

      // inotifywait inside the container sees a desktop edit within 1 s (as its output reaches here).
      const watcher = await core.openTerminal('vm', {
        container: id,
        command: [
          '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
          '/usr/bin/inotifywait',
          '-m',
          '-e',
          'attrib,modify,create',
          '--format',
          '%e %f',
          '/app',
        ],
        tty: false,
      });
      let watched = '';
      let watchErrors = '';
      watcher.stream.on('data', (chunk: Buffer) => (watched += chunk.toString()));
      watcher.stderr?.on('data', (chunk: Buffer) => (watchErrors += chunk.toString()));
      await expect.poll(() => watchErrors, { timeout: 30_000, interval: 20 }).toContain('Watches established');
      const edited = performance.now();
      await writeFile(join(desktop, 'app', 'src', 'hello.txt'), 'edited on the desktop\n');
      await expect.poll(() => watched, { timeout: 10_000, interval: 5 }).toContain('hello.txt');
      figures.shareInotifyMs = Math.round(performance.now() - edited);
      watcher.close();
      expect(watched).toMatch(/ATTRIB hello\.txt/);
      expect(figures.shareInotifyMs).toBeLessThan(1000);
      expect((await inContainer('cat /app/hello.txt')).stdout).toBe('edited on the desktop\n');
      // Every kind of change, though the guest's kernel caches names and attributes long (share-mount.ts).
      const changes = await desktopChangesSeen(join(desktop, 'app', 'src'), app.machinePath, observer);
      for (const [change, ms] of Object.entries(changes)) figures[`shareSeen_${change}Ms`] = ms;
      for (const ms of Object.values(changes)) expect(ms).toBeLessThan(1000);

      // The link cut: the sshd process serving the host core's connection is the one listening on
      // the share's forwarded socket (only that connection asked for it); it is killed by its pid.
      const mountId = async () =>
        (
          await observer.exec(
            shellCommand([
              'sh',
              '-c',
              'grep " $1 " /proc/self/mountinfo | grep " - fuse.onggi-share " | cut -d" " -f1',
              'sh',
              app.machinePath.replace(/\/src$/, ''),
            ]),
          )
        ).stdout.trim();
      const mounted = await mountId();
      expect(mounted).not.toBe('');
      const listeners = await observer.exec(shellCommand(['ss', '-xlpn', 'src', shareSocket('/run/onggi', join(desktop, 'app'))]));
      const pids = [...new Set([...listeners.stdout.matchAll(/"sshd",pid=(\d+)/g)].map((match) => match[1]))];
      expect(pids).toHaveLength(1);
      const before = await sshMachine(core, 'vm').sshConnection();
      const closed = new Promise<void>((resolve) => before.onClose(() => resolve()));
      expect((await observer.exec(shellCommand(['kill', '-KILL', String(pids[0])]))).code).toBe(0);
      await closed;
      const cutAt = performance.now();
      await writeFile(join(desktop, 'app', 'src', 'after-cut.txt'), 'still live\n');
      // Meanwhile a read answers (an error, or the file once the host core has redialled): never a hang.
      const meanwhile = await observer.exec(shellCommand(['cat', `${app.machinePath}/after-cut.txt`]), { timeoutMs: 30_000 });
      figures.shareReadDuringCutMs = Math.round(performance.now() - cutAt);
      figures.shareReadDuringCutFailed = meanwhile.code === 0 ? 0 : 1;
      // The host core redials; the new connection serves the share again (resolveShare waits for that).
      await call('machines.resolveShare', { machine: 'vm', path: join(desktop, 'app') });
      expect(await sshMachine(core, 'vm').sshConnection()).not.toBe(before);
      expect(await inContainer('cat /app/after-cut.txt')).toEqual({ code: 0, stdout: 'still live\n' });
      figures.shareBackAfterCutMs = Math.round(performance.now() - cutAt);
      expect(await mountId()).toBe(mounted); // the same mount: the container's bind of it carried on
      await call('containers.remove', { machine: 'vm', container: id, force: true });
    } finally {
      observer.close();
      await core.close();
      figures.shareTestMs = Date.now() - started;
    }
  }, 600_000);
});

/** Runs a command in a container on the VM to its end (an exec over the machine's SSH link). */
async function collect(core: HostCore, container: string, command: string[]): Promise<{ code: number | null; stdout: string }> {
  const terminal: Terminal = await core.openTerminal('vm', { container, command, tty: false });
  let stdout = '';
  terminal.stream.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const { code } = await terminal.exit;
  return { code, stdout };
}
