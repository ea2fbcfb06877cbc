// Docker-format seccomp profiles as the CLI reads them: what is refused, with the JSON path named.
import { describe, expect, it } from 'vitest';
import { ContainerSpec } from './containers.js';
import { parseSeccompProfile } from './seccomp-profile.js';

const rule = (extra: object) => ({ names: ['read'], action: 'SCMP_ACT_ALLOW', ...extra });

describe('parseSeccompProfile', () => {
  it("reads Docker's format: names or name, args, errnoRet, includes/excludes, archMap", () => {
    const profile = parseSeccompProfile(
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 1,
        archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
        syscalls: [
          rule({ comment: 'reads', args: null }),
          { name: 'personality', action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
          {
            names: ['clone3'],
            action: 'SCMP_ACT_ERRNO',
            errnoRet: 38,
            excludes: { caps: ['CAP_SYS_ADMIN'] },
            includes: { minKernel: '4.8' },
          },
        ],
      }),
      'p.json',
    );
    expect(profile.syscalls).toHaveLength(3);
  });

  it('names the JSON path of what is wrong', () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [rule({}), rule({}), rule({}), rule({ args: [{ index: 0, value: 1, op: 'SCMP_CMP_LIKE' }] })],
        },
        /syscalls\[3\]\.args\[0\]\.op: /,
      ],
      [
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [rule({ args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] })] },
        /syscalls\[0\]\.args\[0\]\.index: /,
      ],
      [
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [rule({ args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] })] },
        /syscalls\[0\]\.args\[0\]\.value: /,
      ],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [rule({ errnoRet: 70000 })] }, /syscalls\[0\]\.errnoRet: /],
      [
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], name: 'read', action: 'SCMP_ACT_ALLOW' }] },
        /syscalls\[0\]\.names: needs either/,
      ],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [rule({ names: ['Read;'] })] }, /syscalls\[0\]\.names\[0\]: must be a syscall name/],
      [{ defaultAction: 'SCMP_ACT_NOTIFY' }, /defaultAction: SCMP_ACT_NOTIFY needs a listener/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscals: [] }, /syscals: /],
      [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] }, /architectures\[0\]: /],
      [{ syscalls: [] }, /defaultAction: /],
      [[], /: /],
    ];
    for (const [profile, message] of cases)
      expect(() => parseSeccompProfile(JSON.stringify(profile), 'p.json'), JSON.stringify(profile)).toThrow(message);
    expect(() => parseSeccompProfile('{"defaultAction": ', 'p.json')).toThrow(/^p\.json is not JSON: /);
  });

  it('travels in ContainerSpec as the parsed profile with its name; checked there too', () => {
    const profile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
    expect(
      ContainerSpec.safeParse({ image: 'busybox', seccomp: { kind: 'profile', name: 'no-mkdir.json', profile }, noNewPrivileges: false })
        .success,
    ).toBe(true);
    const bad = ContainerSpec.safeParse({
      image: 'busybox',
      seccomp: { kind: 'profile', name: 'x.json', profile: { defaultAction: 'ALLOW' } },
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['seccomp', 'profile', 'defaultAction']);
  });
});
