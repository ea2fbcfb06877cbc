import { describe, expect, it } from 'vitest';
import { CapabilityArg, capabilityName, capabilityNames, parseDeviceMapping, sysctlRefusal, Sysctls } from './capabilities.js';
import { ContainerSpec } from './containers.js';

describe('capability names, --device and --sysctl as the CLI, the window and the agent take them', () => {
  it('takes names with or without CAP_, in any case, and ALL; refuses an unknown one by name', () => {
    expect(['net_admin', 'CAP_NET_ADMIN', 'Net_Admin', ' cap_net_admin '].map(capabilityName)).toEqual(Array(4).fill('CAP_NET_ADMIN'));
    expect(capabilityName('all')).toBe('ALL');
    expect(capabilityName('NET_WIZARD')).toBeUndefined();
    const bad = CapabilityArg.safeParse('NET_WIZARD');
    expect(bad.success || bad.error.issues[0]?.message).toContain('unknown capability "NET_WIZARD"');
    const spec = ContainerSpec.safeParse({ image: 'x', capAdd: ['sys_admin', 'nope'] });
    expect(spec.success || spec.error.issues.map((i) => i.path.join('.'))).toEqual(['capAdd.1']);
  });

  it('decodes /proc masks into names (Docker default: 14 of them)', () => {
    const names = capabilityNames('00000000a80425fb');
    expect(names).toHaveLength(14);
    expect(names).toContain('CAP_NET_BIND_SERVICE');
    expect(capabilityNames('0000000000000000')).toEqual([]);
    expect(capabilityNames('8000000000000000')).toEqual(['cap_63']);
  });

  it('splits --device as Docker does', () => {
    expect(parseDeviceMapping('/dev/null')).toEqual({ host: '/dev/null', container: '/dev/null', permissions: 'rwm' });
    expect(parseDeviceMapping('/dev/null:/dev/mynull')).toEqual({ host: '/dev/null', container: '/dev/mynull', permissions: 'rwm' });
    expect(parseDeviceMapping('/dev/fuse:r')).toEqual({ host: '/dev/fuse', container: '/dev/fuse', permissions: 'r' });
    expect(parseDeviceMapping('/dev/sda:/dev/xvda:rw')).toEqual({ host: '/dev/sda', container: '/dev/xvda', permissions: 'rw' });
    for (const bad of ['null', '/dev/a:/dev/b:rwx', '/dev/a:/dev/../etc/x', '/dev/a:/dev/b:rr', '/a:/b:r:x'])
      expect(typeof parseDeviceMapping(bad), bad).toBe('string');
  });

  it('allows namespaced sysctls only, naming a refused key', () => {
    for (const ok of [
      'net.ipv4.ip_forward',
      'net.ipv4.conf.eth0/100.forwarding',
      'kernel.shmmax',
      'kernel.msgmax',
      'kernel.sem',
      'fs.mqueue.msg_max',
      'kernel.domainname',
    ])
      expect(sysctlRefusal(ok), ok).toBeUndefined();
    expect(sysctlRefusal('kernel.panic')).toContain('sysctl kernel.panic is not namespaced');
    expect(sysctlRefusal('vm.swappiness')).toContain('not namespaced');
    expect(sysctlRefusal('kernel.hostname')).toContain('--hostname');
    expect(sysctlRefusal('net..x')).toContain('not a sysctl name');
    expect(sysctlRefusal('net.ipv4/../../x')).toContain('not a sysctl name');
    // `/` stands for a dot: `.//.` would become `/../` in the path under /proc/sys.
    expect(sysctlRefusal('net.//.x')).toContain('not a sysctl name');
    expect(sysctlRefusal('net./.x')).toContain('not a sysctl name');
    const parsed = Sysctls.safeParse({ 'net.core.somaxconn': '1024', 'kernel.panic': '1' });
    expect(parsed.success || parsed.error.issues.map((i) => i.path.join('.'))).toEqual(['kernel.panic']);
  });
});
