import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../../shared/networks.js';
import { parseJsonSequence } from './commands.js';
import { renderHosts } from './hosts-file.js';
import { planNetworks } from './plan.js';
import type { NetworkRecord } from './state.js';
import {
  AddressInUseError,
  OUR_BRIDGE,
  OUR_VETH,
  allocateAddress,
  bridgeName,
  chooseSubnet,
  hostVethName,
  macFor,
  peerTempName,
} from './ipam.js';

const ID = 'c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789';

describe('addresses', () => {
  it('hands out the lowest free host address, never the network, gateway or broadcast address', () => {
    const cidr = parseCidr('10.90.0.0/29');
    const used = new Set(['10.90.0.1']);
    const got: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const ip = allocateAddress(cidr, used);
      used.add(ip);
      got.push(ip);
    }
    expect(got).toEqual(['10.90.0.2', '10.90.0.3', '10.90.0.4', '10.90.0.5', '10.90.0.6']);
    expect(() => allocateAddress(cidr, used)).toThrow(AddressInUseError);
    used.delete('10.90.0.4');
    expect(allocateAddress(cidr, used)).toBe('10.90.0.4');
  });

  it('checks a requested address', () => {
    const cidr = parseCidr('10.90.0.0/24');
    const used = new Set(['10.90.0.1', '10.90.0.7']);
    expect(allocateAddress(cidr, used, '10.90.0.9')).toBe('10.90.0.9');
    expect(() => allocateAddress(cidr, used, '10.90.0.7')).toThrow(AddressInUseError);
    expect(() => allocateAddress(cidr, used, '10.90.0.255')).toThrow(/not a usable address/);
    expect(() => allocateAddress(cidr, used, '10.91.0.5')).toThrow(/not a usable address/);
  });

  it('picks a free /24 from the pools, around what is taken', () => {
    const taken = [parseCidr('10.78.0.0/24'), parseCidr('10.78.1.0/25')];
    expect(chooseSubnet(['10.78.0.0/16'], 24, taken)).toEqual(parseCidr('10.78.2.0/24'));
    expect(chooseSubnet(['10.78.0.0/23'], 24, taken)).toBeUndefined();
  });

  it('derives MACs from addresses (locally administered)', () => {
    expect(macFor('10.77.0.2')).toBe('0a:58:0a:4d:00:02');
  });
});

describe('device names', () => {
  it('fit in 15 characters, are readable, and are recognized as ours', () => {
    for (const name of [bridgeName(ID), hostVethName(ID, 0), hostVethName(ID, 15), peerTempName(ID, 3)])
      expect(name.length).toBeLessThanOrEqual(15);
    expect(hostVethName(ID, 0)).toBe('ogvc0ffee012340');
    expect(hostVethName(ID, 1)).toBe('ogvc0ffee012341');
    expect(peerTempName(ID, 0)).toBe('ogcc0ffee012340');
    expect(OUR_VETH.test(hostVethName(ID, 2))).toBe(true);
    expect(OUR_BRIDGE.test(bridgeName(ID))).toBe(true);
    expect(OUR_BRIDGE.test('onggi0')).toBe(true);
    expect(OUR_BRIDGE.test('docker0')).toBe(false);
    expect(OUR_VETH.test('veth1234')).toBe(false);
  });
});

describe('helpers', () => {
  it('splits the JSON documents `ip -j -batch` prints back to back', () => {
    expect(parseJsonSequence('[{"a":"]["}]\n[]\n[{"b":[1,2]}]\n')).toEqual([[{ a: '][' }], [], [{ b: [1, 2] }]]);
  });

  it('writes hosts files with the container itself first, then its peers', () => {
    expect(renderHosts([{ ip: '10.90.0.2', names: ['c0ffee012345', 'a'] }], [{ ip: '10.90.0.3', names: ['b', 'b'] }])).toBe(
      '# managed by onggi: rewritten when containers join or leave its networks\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.90.0.2\tc0ffee012345 a\n10.90.0.3\tb\n',
    );
  });
});

describe('network aliases in a plan', () => {
  const network = (name: string, isDefault = false): NetworkRecord => ({
    id: `${name}-id`,
    name,
    bridge: `og-${name}`,
    subnet: '10.90.0.0/24',
    gateway: '10.90.0.1',
    isDefault,
    createdAt: '2026-12-07T00:00:00Z',
    materialized: true,
  });
  const networks = [network('onggi', true), network('back'), network('side')];

  it('gives each network its own aliases, in the order the spec names the networks, once each', () => {
    const plan = planNetworks({ networks: ['back', 'side'], networkAliases: { side: ['cache', 'cache', 'redis'] } }, networks);
    expect(plan.aliases).toEqual([[], ['cache', 'redis']]);
  });

  it('refuses aliases for a network the container does not join, or for the default network, naming the field', () => {
    expect(() => planNetworks({ networks: ['back'], networkAliases: { side: ['x'] } }, networks)).toThrow(
      expect.objectContaining({ field: 'params.networkAliases.side' }),
    );
    expect(() => planNetworks({ networkAliases: { onggi: ['x'] } }, networks)).toThrow(/user networks only/);
  });
});
