// The container verbs end to end, as a user types them: the built `onggi` CLI, a real local agent
// daemon (its own dirs and cgroup parent), busybox from a registry on 127.0.0.1.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerSummary } from '../../shared/containers.js';
import { fieldsOfErrors } from '../../build/testing/agent-client.js';
import { CLI, isolatedAgent, type IsolatedAgent } from '../../build/testing/isolated-agent.js';
import { useRegistryImages } from '../../build/testing/test-images.js';
import { until } from '../../build/testing/until.js';

let sandbox: IsolatedAgent;
let work: string;
const fixture = useRegistryImages();

beforeAll(async () => {
  sandbox = await isolatedAgent();
  work = await mkdtemp(join(tmpdir(), 'onggi-cli-verbs-'));
});

afterAll(async () => {
  await sandbox?.cleanup();
  await rm(work, { recursive: true, force: true });
});

function onggi(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { env: sandbox.env, encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

const summary = (name: string) => (JSON.parse(onggi('ps', '-a', '--json').out) as ContainerSummary[]).find((c) => c.name === name);

describe('onggi container verbs, end to end', () => {
  it('pause, update, top, diff, cp, export, health and rename on a running container', async () => {
    expect(onggi('image', 'pull', '--insecure', fixture.images.refs.busybox).code).toBe(0);
    const run = onggi(
      'run',
      '-d',
      '--name',
      'verbs',
      '--cpu-shares',
      '512',
      '--health-cmd',
      'test -f /made',
      '--health-interval',
      '100ms',
      fixture.images.refs.busybox,
      'sh',
      '-c',
      'echo made > /made; exec sleep 1000',
    );
    expect(run.err).toBe('');
    await until(
      () => summary('verbs')?.health?.status,
      (status) => status === 'healthy',
      'healthy',
    );
    expect(onggi('ps').out).toMatch(/Up .* \(healthy\)/);

    expect(onggi('pause', 'verbs').code).toBe(0);
    expect(onggi('ps').out).toMatch(/Up .* \(Paused\)/);
    expect(onggi('stop', 'verbs').err).toMatch(/paused; unpause it first/);
    expect(onggi('unpause', 'verbs').code).toBe(0);

    expect(onggi('update', '--memory', '96m', '--pids-limit', '40', 'verbs').code).toBe(0);
    const inspect = JSON.parse(onggi('inspect', 'verbs').out) as { cgroup: { limits: Record<string, string> } };
    const limit = (suffix: string) => Object.entries(inspect.cgroup.limits).find(([file]) => file.endsWith(suffix))?.[1];
    expect(limit('memory.limit_in_bytes')).toBe(String(96 * 1024 * 1024));
    expect(limit('pids.max')).toBe('40');
    expect(limit('cpu.shares')).toBe('512');

    const top = onggi('top', 'verbs');
    expect(top.out.split('\n')[0]).toMatch(/^PID\s+HOST PID\s+PPID\s+USER\s+COMMAND/);
    expect(top.out).toMatch(/^1\s+\d+\s+0\s+root\s+sleep 1000/m);

    expect(onggi('diff', 'verbs').out).toContain('A /made\n');

    await writeFile(join(work, 'in.txt'), 'from the desktop');
    expect(onggi('cp', join(work, 'in.txt'), 'verbs:/tmp/').code).toBe(0);
    expect(onggi('cp', 'verbs:/tmp/in.txt', join(work, 'back.txt')).code).toBe(0);
    expect(await readFile(join(work, 'back.txt'), 'utf8')).toBe('from the desktop');

    const exported = join(work, 'rootfs.tar');
    expect(onggi('export', 'verbs', '-o', exported).code).toBe(0);
    const names = new Set<string>();
    await tar.t({ file: exported, onReadEntry: (entry) => void names.add(entry.path.replace(/^\.\//, '')) });
    expect(names.has('made')).toBe(true);
    expect(names.has('tmp/in.txt')).toBe(true);

    expect(onggi('rename', 'verbs', 'verbs2').code).toBe(0);
    expect(summary('verbs')).toBeUndefined();
    expect(summary('verbs2')?.state).toBe('running');
    expect(onggi('rm', '-f', 'verbs2').code).toBe(0);
    // Some 25 CLI runs: over 30 s on the 2-core machine beside other suites.
  }, 90_000);

  it('commit, save and import round-trip; wait prints the exit code', () => {
    expect(onggi('run', '--name', 'tocommit', fixture.images.refs.busybox, 'sh', '-c', 'echo kept > /kept; rm /etc/group').code).toBe(0);
    expect(
      onggi('commit', '-c', 'CMD ["sh","-c","cat /kept; ls /etc/group 2>&1 | grep -c No"]', 'tocommit', 'onggi-test/committed:v1').code,
    ).toBe(0);
    expect(onggi('run', '--rm', 'onggi-test/committed:v1').out).toBe('kept\n1\n');
    const archive = join(work, 'saved.tar');
    expect(onggi('image', 'save', '-o', archive, 'onggi-test/committed:v1').code).toBe(0);
    expect(onggi('rm', 'tocommit').code).toBe(0);
    expect(onggi('image', 'rm', 'onggi-test/committed:v1').code).toBe(0);
    expect(onggi('image', 'import', archive).code).toBe(0);
    expect(onggi('run', '--rm', 'onggi-test/committed:v1').out).toBe('kept\n1\n');
    expect(onggi('run', '-d', '--name', 'ends', fixture.images.refs.busybox, 'sh', '-c', 'exit 7').code).toBe(0);
    expect(onggi('wait', 'ends').out).toBe('7\n');
    expect(onggi('rm', 'ends').code).toBe(0);
  });

  it('create makes a container without starting it; start runs it; --rm and bad input', async () => {
    expect(onggi('image', 'pull', '--insecure', fixture.images.refs.busybox).code).toBe(0);
    const created = onggi(
      'create',
      '--name',
      'later',
      '-e',
      'WHO=later',
      fixture.images.refs.busybox,
      'sh',
      '-c',
      'echo "$WHO ran"; exit 4',
    );
    expect(created.err).toBe('');
    const id = created.out.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    // Created, not running: listed with -a only, no process, no log.
    expect(summary('later')).toMatchObject({ id, state: 'created', pid: null, startedAt: null });
    expect((JSON.parse(onggi('ps', '--json').out) as ContainerSummary[]).map((c) => c.name)).not.toContain('later');
    expect(onggi('logs', 'later').out).toBe('');
    expect(onggi('start', 'later').out).toBe('later\n');
    expect(onggi('wait', 'later').out).toBe('4\n');
    expect(onggi('logs', 'later').out).toBe('later ran\n');
    expect(onggi('rm', 'later').code).toBe(0);

    // --rm on create: removed when it ends after its start, as Docker's.
    expect(onggi('create', '--rm', '--name', 'once', fixture.images.refs.busybox, 'true').code).toBe(0);
    expect(summary('once')?.state).toBe('created');
    expect(onggi('start', 'once').code).toBe(0);
    await until(
      () => summary('once'),
      (found) => found === undefined,
      'the --rm container to go',
    );

    // Bad input: refused naming the field, nothing made; create has no -d.
    const ids = () => (JSON.parse(onggi('ps', '-a', '--json').out) as ContainerSummary[]).map((c) => c.id).sort();
    const before = ids();
    expect(onggi('create', '--memory', 'lots', fixture.images.refs.busybox).err).toMatch(/limits\.memory/);
    expect(onggi('create', '-d', fixture.images.refs.busybox).err).toMatch(/unknown option '-d'/);
    expect(ids()).toEqual(before);
  });

  it('bad input for each option gives an error naming the field', async () => {
    const bad = (...args: string[]) => onggi('run', '-d', ...args, fixture.images.refs.busybox, 'true').err;
    expect(bad('--cpuset-cpus', 'x')).toMatch(/limits\.cpusetCpus/);
    expect(bad('--cpu-shares', '1')).toMatch(/limits\.cpuShares/);
    expect(bad('--memory-swap', '64m')).toMatch(/limits\.memorySwap/);
    expect(bad('--blkio-weight', '5')).toMatch(/limits\.blkioWeight/);
    expect(bad('--device-read-bps', '/dev/null:1mb')).toMatch(/deviceReadBps\.0\.path/);
    expect(bad('--device-write-bps', 'nonsense')).toMatch(/DEVICE:RATE/);
    expect(bad('--health-retries', '0')).toMatch(/healthcheck\.retries/);
    expect(bad('--health-interval', 'soon')).toMatch(/not a duration/);
    expect(JSON.parse(onggi('ps', '-a', '--json').out)).toEqual([]);
    const cases: Array<[string, unknown, string]> = [
      ['containers.pause', { container: 7 }, 'params.container'],
      ['containers.update', { container: 'a', cpuShares: 1 }, 'params.cpuShares'],
      ['containers.update', { container: 'a', memory: 'lots' }, 'params.memory'],
      ['containers.top', {}, 'params.container'],
      ['containers.diff', { container: 'nope' }, 'params.container'],
      ['containers.rename', { container: 'a', name: '../x' }, 'params.name'],
      ['containers.copyTo', { container: 'a', source: 'relative', path: '/x' }, 'params.source'],
      ['containers.copyFrom', { container: 'a', path: '', dest: '/tmp/x' }, 'params.path'],
      ['containers.export', { container: 'a', dest: 'x.tar' }, 'params.dest'],
      ['images.commit', { container: 'a', reference: 'UPPER:case' }, 'params.reference'],
      ['images.save', { images: [], dest: '/tmp/x.tar' }, 'params.images'],
    ];
    const fields = await fieldsOfErrors(
      sandbox.socketPath,
      cases.map(([method, params]) => [method, params]),
    );
    expect(cases.map(([method, , field]) => ({ method, field }))).toEqual(cases.map(([method], id) => ({ method, field: fields[id] })));
  });
});
