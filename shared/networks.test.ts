import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContainerSpec } from './containers.js';
import { cidrsOverlap, formatCidr, formatIpv4, networkMethods, parseCidr, parseIpv4 } from './networks.js';

describe('IPv4 and CIDR parsing', () => {
  it('round-trips every address', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => parseIpv4(formatIpv4(n)) === n));
  });

  it('refuses what is not a dotted quad, with leading zeros included', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.4 ', 'a.b.c.d', '-1.2.3.4'])
      expect(() => parseIpv4(bad), bad).toThrow(/not an IPv4 address/);
  });

  it('parses subnets and says what is wrong with the others', () => {
    expect(formatCidr(parseCidr('10.90.0.0/24'))).toBe('10.90.0.0/24');
    expect(() => parseCidr('10.90.0.1/24')).toThrow('host bits set: the network is 10.90.0.0/24');
    expect(() => parseCidr('10.90.0.0')).toThrow(/ADDRESS\/PREFIX/);
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/ADDRESS\/PREFIX|prefix/);
    expect(() => parseCidr('10.0.0.0/30')).toThrow(/outside \/8 to \/29/);
    expect(() => parseCidr('10.0.0.0/7')).toThrow(/outside \/8 to \/29/);
    expect(() => parseCidr('127.0.0.0/8')).toThrow(/loopback/);
    expect(() => parseCidr('169.254.0.0/16')).toThrow(/link-local/);
    expect(() => parseCidr('224.0.0.0/8')).toThrow(/multicast/);
  });

  it('knows when two subnets overlap', () => {
    const overlap = (a: string, b: string) => cidrsOverlap(parseCidr(a), parseCidr(b));
    expect(overlap('10.0.0.0/16', '10.0.5.0/24')).toBe(true);
    expect(overlap('10.0.5.0/24', '10.0.0.0/16')).toBe(true);
    expect(overlap('10.0.0.0/24', '10.0.1.0/24')).toBe(false);
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 29 }), fc.integer({ min: 0, max: 2 ** 24 - 1 }), (prefix, seed) => {
        const network = (seed << 8) >>> 0;
        const cidr = { network: network - (network % 2 ** (32 - prefix)), prefix };
        return cidrsOverlap(cidr, cidr);
      }),
    );
  });
});

describe('network schemas', () => {
  it('name the field at fault', () => {
    const create = networkMethods['networks.create'].params;
    expect(create.safeParse({ name: 'web', subnet: '10.1.0.0/16', gateway: '10.1.0.1' }).success).toBe(true);
    for (const [params, path] of [
      [{ name: 'none' }, 'name'],
      [{ name: 'x/y' }, 'name'],
      [{ name: 'web', subnet: '10.1.0.1/16' }, 'subnet'],
      [{ name: 'web', gateway: '10.1.0.300' }, 'gateway'],
    ] as const) {
      const parsed = create.safeParse(params);
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual([path]);
    }
    const probe = networkMethods['networks.probe'].params.safeParse({ from: 'a', to: 'b', kind: 'tcp' });
    expect(probe.error?.issues[0]?.path).toEqual(['port']);
  });

  it('check the network fields of a container spec', () => {
    const ok = ContainerSpec.safeParse({ image: 'x', networks: ['web', 'db'], ports: ['8080:80', '127.0.0.1:53:53/udp'], ip: '10.1.0.5' });
    expect(ok.success).toBe(true);
    const bad = (spec: Record<string, unknown>) => ContainerSpec.safeParse({ image: 'x', ...spec }).error?.issues[0];
    expect(bad({ networks: ['none', 'web'] })?.message).toContain('"none" cannot be combined');
    expect(bad({ networks: ['web', 'web'] })?.message).toContain('twice');
    expect(bad({ networks: ['host'] })?.path).toEqual(['networks', 0]);
    expect(bad({ ports: ['80'] })?.path).toEqual(['ports', 0]);
    expect(bad({ ports: ['8080:80/sctp'] })?.message).toContain('tcp or udp');
    expect(bad({ ip: '10.1.0' })?.path).toEqual(['ip']);
  });
});
