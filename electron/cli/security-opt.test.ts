// `onggi run --security-opt` end to end, as a user types it: the built CLI reads the profile file
// on the desktop and sends it parsed; a real local agent daemon (its own dirs and cgroup parent)
// runs busybox from a registry on 127.0.0.1 under it; inspect names the profile.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isolatedAgent, type IsolatedAgent } from '../../build/testing/isolated-agent.js';
import { useRegistryImages } from '../../build/testing/test-images.js';

let sandbox: IsolatedAgent;
let work: string;
const fixture = useRegistryImages();

beforeAll(async () => {
  sandbox = await isolatedAgent();
  work = await mkdtemp(join(tmpdir(), 'onggi-cli-secopt-'));
});

afterAll(async () => {
  await sandbox?.cleanup();
  await rm(work, { recursive: true, force: true });
});

function onggi(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { env: sandbox.env, encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe('onggi run --security-opt, end to end', () => {
  it('a profile refusing mkdir: mkdir fails with EPERM, ls works, inspect names the file; malformed profiles are refused by path', async () => {
    expect(onggi('image', 'pull', '--insecure', fixture.images.refs.busybox).code).toBe(0);
    const file = join(work, 'no-mkdir.json');
    await writeFile(
      file,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
      }),
    );
    const script = 'mkdir /tmp/d; echo "mkdir=$?"; ls / >/dev/null; echo "ls=$?"';
    const run = onggi('run', '--name', 'nomkdir', '--security-opt', `seccomp=${file}`, fixture.images.refs.busybox, 'sh', '-c', script);
    expect(run.out).toBe('mkdir=1\nls=0\n');
    expect(run.err).toContain('Operation not permitted');
    const detail = JSON.parse(onggi('inspect', 'nomkdir').out) as { seccomp?: unknown };
    expect(detail.seccomp).toEqual({ profile: 'no-mkdir.json', rules: 2, noNewPrivileges: true });

    const free = onggi(
      'run',
      '--rm',
      '--security-opt',
      'seccomp=unconfined',
      '--security-opt',
      'no-new-privileges=false',
      fixture.images.refs.busybox,
      'sh',
      '-c',
      'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status',
    );
    expect(free.out).toBe('NoNewPrivs:\t0\nSeccomp:\t0\n');

    const bad = join(work, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_SORTA' }] }],
      }),
    );
    const refused = onggi('run', '--rm', '--security-opt', `seccomp=${bad}`, fixture.images.refs.busybox, 'true');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/bad\.json is not a seccomp profile: syscalls\[0\]\.args\[0\]\.op: /);
    expect(onggi('rm', 'nomkdir').code).toBe(0);
  });
});
