// The seccomp policy on its own: Docker's default profile reduced for a container's capabilities
// and the machine's architecture into the helper's lines, the rules moby applies (includes and
// excludes, archMap, runc's split of repeated arguments) and the errors a user's profile gets.
// The filter's effect in the kernel is tested in vm-assets/init/init.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnggiError } from '../../../shared/errors.js';
import { SeccompProfile } from '../../../shared/seccomp-profile.js';
import { DOCKER_DEFAULT_PROFILE } from './seccomp-default-profile.js';
import { compileSeccomp, seccompSettings } from './seccomp-policy.js';
import { CAPABILITIES, DEFAULT_CAPABILITIES } from './security-policy.js';

const allowed = (lines: readonly string[]): string[] =>
  lines.filter((line) => line.startsWith('allow ') && line.split(' ').length === 2).flatMap((line) => line.split(' ')[1]?.split(',') ?? []);

describe("Docker's default profile", () => {
  it('is a valid profile in Docker format, without io_uring', () => {
    expect(SeccompProfile.safeParse(DOCKER_DEFAULT_PROFILE).success).toBe(true);
    const names = (DOCKER_DEFAULT_PROFILE.syscalls ?? []).flatMap((rule) => rule.names ?? []);
    expect(names.filter((name) => name.startsWith('io_uring'))).toEqual([]);
    expect(names).not.toContain('keyctl');
    expect(names).not.toContain('userfaultfd');
  });

  it('names only syscalls the helper knows on x86_64/i386/aarch64, or of the architectures its rules are for', () => {
    const table = readFileSync(join(__dirname, '../../init/syscall-table.h'), 'utf8');
    const known = new Set([...table.matchAll(/\{"([a-z0-9_]+)", /g)].map((m) => m[1]));
    const forOtherArches = (DOCKER_DEFAULT_PROFILE.syscalls ?? [])
      .filter((rule) => rule.includes?.arches?.some((arch) => !['amd64', 'arm64', 'x86', 'x32'].includes(arch)))
      .flatMap((rule) => rule.names ?? []);
    const unknown = (DOCKER_DEFAULT_PROFILE.syscalls ?? [])
      .flatMap((rule) => rule.names ?? [])
      .filter((name) => !known.has(name) && !forOtherArches.includes(name));
    // Names of ABIs the helper has no table for (arm, ppc, s390…): skipped, as libseccomp skips them
    expect(unknown.sort()).toEqual(['recv', 'send']);
  });

  it("for Docker's 14 capabilities on x86_64: EPERM by default, i386 and x32 filtered, the argument rules", () => {
    const { lines, rules } = compileSeccomp(DOCKER_DEFAULT_PROFILE, DEFAULT_CAPABILITIES, 'x64');
    expect(lines.slice(0, 3)).toEqual(['default errno:1', 'arch x86', 'arch x32']);
    expect(lines).toContain('allow socket 0:ne:40');
    for (const value of [0, 8, 0x20000, 0x20008, 0xffffffff]) expect(lines).toContain(`allow personality 0:eq:${value}`);
    expect(lines).toContain(`allow clone 0:me:${0x7e020000}:0`);
    expect(lines).toContain('errno:38 clone3');
    expect(lines).toContain('allow arch_prctl');
    expect(lines).toContain('allow modify_ldt');
    expect(lines).toContain('allow process_vm_readv,process_vm_writev,ptrace');
    const names = allowed(lines);
    for (const name of ['read', 'write', 'openat', 'execve', 'mkdir', 'rt_sigreturn', 'futex']) expect(names).toContain(name);
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'bpf', 'keyctl', 'userfaultfd', 'kexec_load', 'reboot', 'clone', 'clone3'])
      expect(names).not.toContain(name);
    // arm and s390 rules are not for this machine
    expect(lines.some((line) => line.includes('arm_fadvise64_64') || line.includes('s390_pci_mmio_read'))).toBe(false);
    expect(rules).toBeGreaterThan(340);
  });

  it('follows the capabilities: CAP_SYS_ADMIN allows mount and namespaces, CAP_SYS_CHROOT chroot, CAP_SYS_PTRACE kcmp', () => {
    const admin = compileSeccomp(DOCKER_DEFAULT_PROFILE, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], 'x64').lines;
    const names = allowed(admin);
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'clone', 'clone3', 'bpf', 'sethostname']) expect(names).toContain(name);
    expect(admin).not.toContain('errno:38 clone3');
    expect(admin.some((line) => line.startsWith('allow clone 0:me'))).toBe(false);
    expect(allowed(compileSeccomp(DOCKER_DEFAULT_PROFILE, DEFAULT_CAPABILITIES, 'x64').lines)).toContain('chroot'); // CAP_SYS_CHROOT is one of the 14
    expect(allowed(compileSeccomp(DOCKER_DEFAULT_PROFILE, ['CAP_SYS_PTRACE'], 'x64').lines)).toContain('kcmp');
    expect(allowed(compileSeccomp(DOCKER_DEFAULT_PROFILE, CAPABILITIES, 'x64').lines)).toContain('init_module');
  });

  it('on arm64: no x86 sub-ABIs, the arm rules instead of arch_prctl', () => {
    const lines = compileSeccomp(DOCKER_DEFAULT_PROFILE, DEFAULT_CAPABILITIES, 'arm64').lines;
    expect(lines[0]).toBe('default errno:1');
    expect(lines.some((line) => line.startsWith('arch '))).toBe(false);
    expect(lines).toContain('allow arm_fadvise64_64,arm_sync_file_range,sync_file_range2,breakpoint,cacheflush,set_tls');
    expect(lines).not.toContain('allow arch_prctl');
  });
});

it("a container's settings carry the default filter of its capabilities and arch, whatever their order, compiled once", () => {
  const reversed = [...DEFAULT_CAPABILITIES].reverse();
  const first = seccompSettings({}, DEFAULT_CAPABILITIES, 'x64').helper.seccomp;
  expect(first).toEqual(compileSeccomp(DOCKER_DEFAULT_PROFILE, DEFAULT_CAPABILITIES, 'x64').lines);
  expect(seccompSettings({}, reversed, 'x64').helper.seccomp).toBe(first);
  expect(Object.isFrozen(first)).toBe(true);
  const admin = seccompSettings({}, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], 'x64').helper.seccomp;
  expect(admin).toEqual(compileSeccomp(DOCKER_DEFAULT_PROFILE, [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], 'x64').lines);
  expect(seccompSettings({}, DEFAULT_CAPABILITIES, 'arm64').helper.seccomp).toEqual(
    compileSeccomp(DOCKER_DEFAULT_PROFILE, DEFAULT_CAPABILITIES, 'arm64').lines,
  );
});

describe('a profile of the user', () => {
  it('takes architectures, splits comparisons of one argument into alternatives (as runc), skips rules that repeat the default', () => {
    const { lines, rules } = compileSeccomp(
      {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_PPC64'],
        syscalls: [
          { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' },
          {
            name: 'kill',
            action: 'SCMP_ACT_ERRNO',
            errnoRet: 13,
            args: [
              { index: 1, value: 9, op: 'SCMP_CMP_EQ' },
              { index: 1, value: 15, op: 'SCMP_CMP_EQ' },
            ],
          },
          {
            names: ['write'],
            action: 'SCMP_ACT_KILL_PROCESS',
            args: [
              { index: 0, value: 2, op: 'SCMP_CMP_GT' },
              { index: 2, value: 0xff, valueTwo: 1, op: 'SCMP_CMP_MASKED_EQ' },
            ],
          },
          { names: ['read'], action: 'SCMP_ACT_ALLOW' },
          { names: ['sethostname'], action: 'SCMP_ACT_LOG', includes: { caps: ['CAP_SYS_ADMIN'] } },
        ],
      },
      DEFAULT_CAPABILITIES,
      'x64',
    );
    expect(lines).toEqual([
      'default allow',
      'arch x86',
      'errno:1 mkdir,mkdirat',
      'errno:13 kill 1:eq:9',
      'errno:13 kill 1:eq:15',
      'kill-process write 0:gt:2 2:me:255:1',
    ]);
    expect(rules).toBe(4);
  });

  it('refuses two different actions for one syscall, naming the rule', () => {
    const profile: SeccompProfile = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['read', 'mkdir'], action: 'SCMP_ACT_ALLOW' },
        { names: ['mkdir'], action: 'SCMP_ACT_TRAP' },
      ],
    };
    expect(() => seccompSettings({ seccomp: { kind: 'profile', name: 'p.json', profile } }, DEFAULT_CAPABILITIES, 'x64')).toThrow(
      expect.objectContaining({
        field: 'params.seccomp.profile.syscalls[1].names',
        message: expect.stringContaining('mkdir already has another action'),
      }) as OnggiError,
    );
  });

  it('summarises what inspect shows: profile name, rules, no_new_privs', () => {
    expect(seccompSettings({}, DEFAULT_CAPABILITIES, 'x64').summary).toMatchObject({ profile: 'default', noNewPrivileges: true });
    expect(seccompSettings({ seccomp: { kind: 'unconfined' }, noNewPrivileges: false }, DEFAULT_CAPABILITIES, 'x64')).toEqual({
      helper: { allowNewPrivileges: true },
      summary: { profile: 'unconfined', rules: 0, noNewPrivileges: false },
    });
  });
});
