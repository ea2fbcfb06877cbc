// Which machines the agent can run on, decided from what their tools print (outputs as the real
// distributions print them), plus the probe script itself run by this machine's sh.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { OnggiError } from '../../../shared/errors.js';
import { PROBE_SCRIPT, checkTarget, detectLibc, parseProbe, privilegePrefix, type TargetFacts } from './targets.js';

function probeOutput(lines: Record<string, string | string[] | undefined>): string {
  return [
    ...Object.entries(lines).flatMap(([key, value]) =>
      value === undefined ? [] : (Array.isArray(value) ? value : [value]).map((item) => `${key}=${item}`),
    ),
    'end=1',
    '',
  ].join('\n');
}

const base = { uid: '0', sudo: 'root', init: 'systemd', systemd: 'yes', xz: 'yes', sha256sum: 'yes' };

function refusal(facts: TargetFacts): string {
  try {
    checkTarget(facts, 'ec2-user@host', '2.28', '24.21.0');
  } catch (error) {
    if (error instanceof OnggiError && error.kind === 'unsupported_target') return error.message;
    throw error;
  }
  throw new Error('accepted');
}

describe('supported targets', () => {
  it('refuses Amazon Linux 2, CentOS 7 and Ubuntu 18.04 for their old glibc, naming the versions', () => {
    const amazon2 = parseProbe(
      probeOutput({ ...base, uname: 'x86_64', getconf: 'glibc 2.26', ldd: 'ldd (GNU libc) 2.26', os: 'Amazon Linux 2' }),
    );
    expect(refusal(amazon2)).toBe(
      'ec2-user@host cannot run the Onggi agent: glibc 2.26 is older than the 2.28 the bundled Node 24.21.0 needs (Amazon Linux 2). Amazon Linux 2 (glibc 2.26), CentOS/RHEL 7 (2.17) and Ubuntu 18.04 (2.27) are too old; Amazon Linux 2023, RHEL/Alma/Rocky 8+, Ubuntu 20.04+ and Debian 10+ work',
    );
    const centos7 = parseProbe(
      probeOutput({ ...base, uname: 'x86_64', getconf: 'glibc 2.17', ldd: 'ldd (GNU libc) 2.17', os: 'CentOS Linux 7 (Core)' }),
    );
    expect(refusal(centos7)).toContain('glibc 2.17 is older than the 2.28');
    const bionic = parseProbe(
      probeOutput({ ...base, uname: 'aarch64', getconf: '', ldd: 'ldd (Ubuntu GLIBC 2.27-3ubuntu1.6) 2.27', os: 'Ubuntu 18.04.6 LTS' }),
    );
    expect(refusal(bionic)).toContain('glibc 2.27 is older than the 2.28');
  });

  it('refuses musl hosts (Alpine) and architectures other than x86_64/aarch64', () => {
    const alpine = parseProbe(
      probeOutput({
        ...base,
        uname: 'x86_64',
        getconf: '',
        ldd: 'musl libc (x86_64)',
        musl: '/lib/ld-musl-x86_64.so.1',
        os: 'Alpine Linux v3.20',
      }),
    );
    expect(detectLibc(alpine)).toEqual({ kind: 'musl' });
    expect(refusal(alpine)).toContain('it uses musl libc (Alpine Linux v3.20)');
    // Alpine without ldd installed: the loader alone gives it away.
    const bare = parseProbe(
      probeOutput({
        ...base,
        uname: 'aarch64',
        getconf: '',
        ldd: 'sh: ldd: not found',
        musl: '/lib/ld-musl-aarch64.so.1',
        os: 'Alpine Linux v3.19',
      }),
    );
    expect(refusal(bare)).toContain('musl libc');
    const pi = parseProbe(probeOutput({ ...base, uname: 'armv7l', getconf: 'glibc 2.36', os: 'Raspbian GNU/Linux 12 (bookworm)' }));
    expect(refusal(pi)).toBe(
      'ec2-user@host cannot run the Onggi agent: its architecture is armv7l (Raspbian GNU/Linux 12 (bookworm)); the agent runs on x86_64 and aarch64 Linux',
    );
    const nothing = parseProbe(probeOutput({ ...base, uname: 'x86_64', getconf: '', ldd: 'sh: ldd: not found' }));
    expect(refusal(nothing)).toContain('no GNU C library found');
  });

  it('accepts glibc ≥ 2.28 on x86_64 and aarch64, from getconf or from ldd', () => {
    const debian = parseProbe(
      probeOutput({ ...base, uname: 'aarch64', getconf: 'glibc 2.36', ldd: 'ldd (Debian GLIBC 2.36-9+deb12u4) 2.36' }),
    );
    expect(checkTarget(debian, 'h', '2.28', '24')).toBe('arm64');
    const jammy = parseProbe(probeOutput({ ...base, uname: 'x86_64', getconf: '', ldd: 'ldd (Ubuntu GLIBC 2.35-0ubuntu3.8) 2.35' }));
    expect(checkTarget(jammy, 'h', '2.28', '24')).toBe('x64');
    const rhel8 = parseProbe(probeOutput({ ...base, uname: 'x86_64', getconf: 'glibc 2.28' }));
    expect(checkTarget(rhel8, 'h', '2.28', '24')).toBe('x64');
    // 2.100 is newer than 2.28: versions compare as numbers.
    expect(checkTarget(parseProbe(probeOutput({ ...base, uname: 'x86_64', getconf: 'glibc 2.100' })), 'h', '2.28', '24')).toBe('x64');
  });

  it('runs root commands directly as root, through sudo -n with passwordless sudo or sudo -S with a password, and explains the rest', () => {
    const facts = (sudo: string) => parseProbe(probeOutput({ ...base, uid: '1000', sudo, uname: 'x86_64', getconf: 'glibc 2.36' }));
    expect(privilegePrefix(facts('root'), 'root@h')).toEqual([]);
    expect(privilegePrefix(facts('nopasswd'), 'ubuntu@h')).toEqual(['sudo', '-n', '--']);
    // The password is the first line of stdin (never argv); -k: always read, even with a cached timestamp.
    expect(privilegePrefix(facts('password'), 'alice@h')).toEqual(['sudo', '-k', '-S', '-p', '', '--']);
    expect(() => privilegePrefix(facts('absent'), 'bob@h')).toThrow('bob@h is not root and sudo is not installed');
  });

  it('rejects a probe that did not finish', () => {
    expect(() => parseProbe('uname=x86_64\n')).toThrow(/did not finish/);
  });
});

describe('the probe script', () => {
  it("runs under this machine's sh and describes it; dials only for this machine's uname with parts that exist", () => {
    const run = spawnSync(
      'sh',
      ['-c', PROBE_SCRIPT, 'onggi-probe', '2', '/bin/sh', '/nonexistent', '/run/none.sock', 'sparc64', '/etc/hostname', '/bin/true'],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(''); // stdout is the agent link's; the facts go to stderr
    const facts = parseProbe(run.stderr);
    expect(facts.machine).toBe(spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim());
    expect(facts.uid).toBe(process.getuid?.());
    expect(facts.existing).toEqual(['/bin/sh']);
    expect(facts.dialed).toBe(false);
    expect(detectLibc(facts)).toMatchObject({ kind: 'glibc' });
  });
});
