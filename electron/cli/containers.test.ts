// Issue 3 end to end, as a user drives it: the built `onggi` CLI, a real local agent daemon (its
// own dirs and cgroup parent), a real registry on 127.0.0.1 filled with images the setup builds.
import { spawn, spawnSync } from 'node:child_process';
import { watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldsOfErrors } from '../../build/testing/agent-client.js';
import { CLI, isAlive, isolatedAgent, type IsolatedAgent } from '../../build/testing/isolated-agent.js';
import { useRegistryImages } from '../../build/testing/test-images.js';

let sandbox: IsolatedAgent;
const fixture = useRegistryImages();

beforeAll(async () => {
  sandbox = await isolatedAgent();
});

afterAll(async () => {
  await sandbox?.cleanup();
});

function onggi(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { env: sandbox.env, encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

async function daemonPid(): Promise<number> {
  const pid = await sandbox.daemonPid();
  if (pid === undefined) throw new Error('no daemon');
  return pid;
}

async function killDaemonHard(): Promise<void> {
  const pid = await daemonPid();
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 500 && isAlive(pid); i += 1) await new Promise((r) => setTimeout(r, 10));
}

describe('onggi containers, end to end', () => {
  it('pulls from the registry and runs attached: output printed, exit code passed through, --rm removes it', () => {
    const pull = onggi('image', 'pull', '--insecure', fixture.images.refs.busybox);
    expect(pull.err).toContain('done');
    expect(pull.code).toBe(0);
    const run = onggi('run', '--rm', '--name', 'once', fixture.images.refs.busybox, 'sh', '-c', 'echo hello; echo oops >&2; exit 3');
    expect(run.out).toBe('hello\n');
    expect(run.err).toBe('oops\n');
    expect(run.code).toBe(3);
    expect(JSON.parse(onggi('ps', '-a', '--json').out)).toEqual([]);
  });

  it('runs detached; ps, logs, exec, stats and inspect show it as the kernel sees it', async () => {
    const run = onggi(
      'run',
      '-d',
      '--name',
      'web',
      '--hostname',
      'pot',
      '-e',
      'GREETING=annyeong',
      '--memory',
      '64m',
      '--cpus',
      '0.5',
      '--pids-limit',
      '50',
      fixture.images.refs.busybox,
      'sh',
      '-c',
      'echo $GREETING; exec sleep 1000',
    );
    expect(run.code).toBe(0);
    const id = run.out.trim();
    expect(id).toMatch(/^[a-f0-9]{64}$/);
    const ps = JSON.parse(onggi('ps', '--json').out) as Array<{ name: string; state: string }>;
    expect(ps).toMatchObject([{ name: 'web', state: 'running' }]);
    for (let i = 0; i < 100 && !onggi('logs', 'web').out; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(onggi('logs', 'web').out).toBe('annyeong\n');
    const exec = onggi('exec', 'web', 'sh', '-c', 'hostname; echo $GREETING; exit 4');
    expect(exec.out).toBe('pot\nannyeong\n');
    expect(exec.code).toBe(4);
    const stats = JSON.parse(onggi('stats', 'web', '--no-stream', '--json').out) as {
      memory: { limit: number };
      pids: { current: number; limit: number };
    };
    expect(stats.memory.limit).toBe(64 * 1024 * 1024);
    expect(stats.pids).toMatchObject({ current: 1, limit: 50 });
    const inspect = JSON.parse(onggi('inspect', 'web', '--json').out) as {
      id: string;
      state: string;
      pid: number;
      namespaces: Record<string, number>;
      cgroup: { version: number; paths: string[]; limits: Record<string, string> };
      rootfs: { lowerdirs: string[]; upperdir: string; workdir: string; merged: string };
    };
    expect(inspect).toMatchObject({ id, state: 'running' });
    // The namespace inodes are the kernel's own: compare with /proc/PID/ns as root reads it.
    const netLink = spawnSync('readlink', [`/proc/${inspect.pid}/ns/net`], { encoding: 'utf8' }).stdout.trim();
    expect(netLink).toBe(`net:[${inspect.namespaces.net}]`);
    expect(inspect.namespaces.pid).not.toBe(
      Number(/\[(\d+)\]/.exec(spawnSync('readlink', ['/proc/self/ns/pid'], { encoding: 'utf8' }).stdout)?.[1]),
    );
    for (const [file, value] of Object.entries(inspect.cgroup.limits)) expect((await readFile(file, 'utf8')).trim()).toBe(value);
    expect(await readFile('/proc/self/mountinfo', 'utf8')).toContain(inspect.rootfs.merged);
    expect(inspect.rootfs.lowerdirs.length).toBeGreaterThan(0);
    const activity = JSON.parse(onggi('activity', '--container', 'web', '--json').out) as Array<{
      kind: string;
      argv?: string[];
      path?: string;
    }>;
    expect(activity.some((e) => e.argv?.[0] === 'mount' && e.argv.includes('overlay'))).toBe(true);
    expect(activity.some((e) => e.kind === 'write' && e.path?.endsWith('memory.limit_in_bytes'))).toBe(true);
    expect(onggi('rm', 'web').code).toBe(1); // running: refused without -f
    expect(onggi('rm', '-f', 'web').code).toBe(0);
  });

  it("exec -it under a real terminal: the command gets a pty of the container's own, this terminal's size, and the terminal is restored", () => {
    expect(onggi('image', 'pull', '--insecure', '-q', fixture.images.refs.busybox).code).toBe(0);
    expect(onggi('run', '-d', '--name', 'term', fixture.images.refs.busybox, 'sleep', '1000').code).toBe(0);
    // script(1) gives the CLI a pseudo-terminal; its size is set first, and its modes compared after.
    const quote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`;
    const cli = [process.execPath, CLI, 'exec', '-it', 'term', 'sh', '-c', 'tty; stty size; test -t 0 && echo interactive; exit 6'];
    const shell = `stty rows 41 cols 131; before=$(stty -g); ${cli.map(quote).join(' ')}; echo "exit=$?"; [ "$before" = "$(stty -g)" ] && echo restored`;
    const run = spawnSync('script', ['-qec', shell, '/dev/null'], { env: sandbox.env, encoding: 'utf8', input: '', timeout: 60_000 });
    // (script echoes what it sends at the EOF of its own stdin, before the CLI makes the terminal raw: ^@)
    expect(run.stdout).toMatch(/^(\^@)?\/dev\/pts\/0\r+$/m); // not this host's pts: the container's own devpts
    expect(run.stdout).toMatch(/^41 131\r+$/m);
    expect(run.stdout).toMatch(/^interactive\r+$/m);
    expect(run.stdout).toMatch(/^exit=6\r*$/m);
    expect(run.stdout).toMatch(/^restored\r*$/m);
    expect(onggi('rm', '-f', 'term').code).toBe(0);
  });

  it('keeps containers running when the agent is killed, and finds them again', async () => {
    expect(onggi('run', '-d', '--name', 'survivor', fixture.images.refs.busybox, 'sleep', '1000').code).toBe(0);
    const before = JSON.parse(onggi('inspect', 'survivor').out) as { pid: number };
    await killDaemonHard();
    expect(isAlive(before.pid)).toBe(true);
    const after = JSON.parse(onggi('inspect', 'survivor').out) as { pid: number; state: string };
    expect(after).toMatchObject({ pid: before.pid, state: 'running' });
    // One that ends while the agent is down is reported with its exit code afterwards.
    await killDaemonHard();
    process.kill(before.pid, 'SIGKILL');
    const exitFile = join(
      sandbox.stateDir,
      'containers',
      (JSON.parse(onggi('ps', '-a', '--json').out) as Array<{ id: string }>)[0]?.id ?? '',
      'exit.json',
    );
    expect(exitFile).toContain('containers/');
    const ps = JSON.parse(onggi('ps', '-a', '--json').out) as Array<{ name: string; state: string; exitCode: number }>;
    expect(ps.find((c) => c.name === 'survivor')).toMatchObject({ state: 'exited', exitCode: 137 });
    expect(onggi('rm', 'survivor').code).toBe(0);
  });

  it('leaves nothing behind when the agent is killed in the middle of creating and starting containers', async () => {
    onggi('ps'); // the daemon is up, its containers dir made
    const containersDir = join(sandbox.stateDir, 'containers');
    const cliExits: unknown[] = [];
    for (const delayMs of [0, 1, 2, 4, 8, 16, 32, 64]) {
      const known = new Set(await readdir(containersDir));
      const child = spawn(process.execPath, [CLI, 'run', '-d', fixture.images.refs.busybox, 'sleep', '1000'], {
        env: sandbox.env,
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // Kill once the create has begun (its directory appeared), at a different point each round.
      const appeared = new Promise<void>((resolve) => {
        const watcher = watch(containersDir, () => {
          void readdir(containersDir).then((names) => {
            if (names.some((name) => !known.has(name))) {
              watcher.close();
              resolve();
            }
          });
        });
      });
      await Promise.race([appeared, exited]);
      await new Promise((r) => setTimeout(r, delayMs));
      await killDaemonHard();
      cliExits.push(await exited);
    }
    // Some runs were cut off by the kill (the CLI saw its agent vanish): the test hit the window.
    expect(cliExits.filter((code) => code !== 0).length).toBeGreaterThan(0);
    // A fresh daemon reconciles: every container left is whole (running or created), nothing half-made.
    const list = JSON.parse(onggi('ps', '-a', '--json').out) as Array<{ id: string; state: string }>;
    const dirs = await readdir(join(sandbox.stateDir, 'containers'));
    expect(dirs.sort()).toEqual(list.map((c) => c.id).sort());
    const running = list.filter((c) => c.state === 'running').map((c) => c.id);
    const merged = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .filter((line) => line.includes(join(sandbox.stateDir, 'containers')));
    expect(merged.length).toBe(running.length);
    for (const c of list) expect(onggi('rm', '-f', c.id).code).toBe(0);
    expect(await readdir(join(sandbox.stateDir, 'containers'))).toEqual([]);
  });

  it('machine config sets the default log rotation that new containers get; the writer keeps to it', async () => {
    expect(onggi('machine', 'config', 'local', '--log-max-size', '8k', '--log-max-files', '2')).toMatchObject({ code: 0 });
    expect(onggi('machine', 'config', 'local').out).toBe('log-max-size 8k\nlog-max-files 2\nuserns host\n');
    expect(onggi('machine', 'config', 'local', '--log-max-size', 'lots').err).toContain('maxSize');
    // 2,000 lines of 60 bytes (≈ 150 kB of log records): far more than 2 × 8 KiB.
    const run = onggi(
      'run',
      '--name',
      'chatty',
      fixture.images.refs.busybox,
      'sh',
      '-c',
      'i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo "line $i ................................................"; done',
    );
    expect(run.code).toBe(0);
    const id = (JSON.parse(onggi('inspect', 'chatty').out) as { id: string }).id;
    const logs = join(sandbox.stateDir, 'containers', id, 'logs');
    const files = (await readdir(logs)).sort();
    expect(files).toEqual(['log.jsonl', 'log.jsonl.1']);
    let total = 0;
    for (const file of files) total += (await readFile(join(logs, file))).length;
    expect(total).toBeLessThanOrEqual(2 * 8192 + 200);
    // The newest lines are kept, in order, ending with the last one written.
    expect(onggi('logs', '--tail', '2', 'chatty').out).toMatch(/line 1999 \.+\nline 2000 \.+\n$/);
    expect(onggi('rm', 'chatty').code).toBe(0);
    expect(onggi('machine', 'config', 'local', '--log-max-size', '10m', '--log-max-files', '3').code).toBe(0);
  });

  it('runs glibc (debian-style) and musl (alpine-style) images', () => {
    expect(onggi('image', 'pull', '--insecure', '-q', fixture.images.refs.glibc).code).toBe(0);
    const glibc = onggi('run', '--rm', fixture.images.refs.glibc, 'sh', '-c', 'id -u; uname -s');
    expect(glibc.out).toBe('0\nLinux\n');
    if (fixture.images.refs.musl) {
      expect(onggi('image', 'pull', '--insecure', '-q', fixture.images.refs.musl).code).toBe(0);
      const musl = onggi('run', '--rm', fixture.images.refs.musl, 'sh', '-c', 'ls /lib/ld-musl-*');
      expect(musl.code).toBe(0);
      expect(musl.out).toMatch(/ld-musl/);
    } else {
      console.log(`musl image skipped: ${fixture.images.muslSkipReason}`);
    }
  });

  it('answers a malformed request to every container method with an error naming the field', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['containers.create', { image: 'x', limits: { memory: 'lots' } }, 'params.limits.memory'],
      ['containers.create', { image: 'x', env: ['=bad'] }, 'params.env[0]'],
      ['containers.create', { image: 'x', name: '../evil' }, 'params.name'],
      ['containers.create', { image: 'x', user: 'root; rm -rf /' }, 'params.user'],
      ['containers.start', { container: 7 }, 'params.container'],
      ['containers.stop', { container: 'a', timeoutSeconds: -1 }, 'params.timeoutSeconds'],
      ['containers.kill', { container: 'a', signal: 'KILL ME' }, 'params.signal'],
      ['containers.remove', { container: 'a', force: 'yes' }, 'params.force'],
      ['containers.list', { all: 1 }, 'params.all'],
      ['containers.inspect', {}, 'params.container'],
      ['containers.logs', { container: 'a', tail: -5 }, 'params.tail'],
      ['containers.wait', { container: null }, 'params.container'],
      ['containers.stats', { container: 'a', extra: 1 }, 'params.extra'],
      ['containers.execSpec', { container: ['a'] }, 'params.container'],
      ['containers.inspect', { container: 'nope' }, 'params.container'],
    ];
    const fields = await fieldsOfErrors(
      sandbox.socketPath,
      cases.map(([method, params]) => [method, params]),
    );
    expect(cases.map(([method, , field]) => ({ method, field }))).toEqual(cases.map(([method], id) => ({ method, field: fields[id] })));
  });
});
