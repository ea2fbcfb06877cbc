import { describe, expect, it } from 'vitest';
import { CAPABILITIES } from '../../../shared/capabilities.js';
import { sysctlPath } from '../../../shared/capabilities.js';
import { containerPolicy, containerSeccomp, effectiveCapabilities, helperPrivilegeOptions } from './privileges.js';
import { DEFAULT_CAPABILITIES, DEFAULT_SECURITY_POLICY } from './security-policy.js';

const base = DEFAULT_CAPABILITIES;

describe("the capability set Docker's rules give (moby oci/caps TweakCapabilities)", () => {
  it('default: Docker 14; drop then add', () => {
    expect(effectiveCapabilities({}, base)).toHaveLength(14);
    const tweaked = effectiveCapabilities({ capDrop: ['CAP_CHOWN'], capAdd: ['CAP_NET_ADMIN'] }, base);
    expect(tweaked).toContain('CAP_NET_ADMIN');
    expect(tweaked).not.toContain('CAP_CHOWN');
    expect(tweaked).toHaveLength(14);
  });

  it('--cap-drop ALL --cap-add X gives only X; --cap-add ALL --cap-drop Y gives all but Y; --privileged all', () => {
    expect(effectiveCapabilities({ capDrop: ['ALL'], capAdd: ['CAP_KILL'] }, base)).toEqual(['CAP_KILL']);
    expect(effectiveCapabilities({ capDrop: ['ALL'] }, base)).toEqual([]);
    const all = effectiveCapabilities({ capAdd: ['ALL'], capDrop: ['CAP_SYS_ADMIN'] }, base);
    expect(all).toHaveLength(CAPABILITIES.length - 1);
    expect(all).not.toContain('CAP_SYS_ADMIN');
    expect(effectiveCapabilities({ privileged: true, capDrop: ['ALL'] }, base)).toEqual([...CAPABILITIES]);
  });

  it('--privileged also drops the seccomp filter and the masked and read-only paths; the default keeps them', () => {
    expect(containerPolicy({ privileged: true }, DEFAULT_SECURITY_POLICY)).toMatchObject({ masked: [], readonly: [] });
    // No filter at all, whatever profile was asked for; the default profile otherwise.
    const privileged = containerSeccomp({ privileged: true, seccomp: { kind: 'default' } }, CAPABILITIES);
    expect(privileged.helper).not.toHaveProperty('seccomp');
    expect(privileged.summary).toMatchObject({ profile: 'unconfined', rules: 0 });
    expect(containerSeccomp({}, DEFAULT_SECURITY_POLICY.caps).summary.profile).toBe('default');
    expect(containerSeccomp({}, DEFAULT_SECURITY_POLICY.caps).helper.seccomp?.length).toBeGreaterThan(10);
    expect(containerPolicy({}, DEFAULT_SECURITY_POLICY)).toEqual({
      ...DEFAULT_SECURITY_POLICY,
      caps: [...DEFAULT_CAPABILITIES].sort((a, b) => CAPABILITIES.indexOf(a) - CAPABILITIES.indexOf(b)),
    });
  });

  it('sysctl keys become /proc/sys paths as sysctl(8) spells them', () => {
    expect(sysctlPath('net.ipv4.ip_forward')).toBe('net/ipv4/ip_forward');
    expect(sysctlPath('net.ipv4.conf.eth0/100.forwarding')).toBe('net/ipv4/conf/eth0.100/forwarding');
    expect(helperPrivilegeOptions({ sysctls: { 'kernel.sem': '250 32000 32 128' } }, [])).toEqual({
      sysctls: ['kernel/sem=250 32000 32 128'],
    });
    expect(helperPrivilegeOptions({}, [])).toEqual({});
  });
});
