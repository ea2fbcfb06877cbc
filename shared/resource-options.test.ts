import { describe, expect, it } from 'vitest';
import { ContainerSpec } from './containers.js';
import { cpusetList, parseDeviceRate } from './resource-options.js';

const issuePath = (limits: Record<string, unknown>) =>
  ContainerSpec.safeParse({ image: 'busybox', limits }).error?.issues.map((issue) => issue.path.join('.'));

describe('resource options', () => {
  it('parse what Docker takes', () => {
    const spec = ContainerSpec.parse({
      image: 'busybox',
      limits: {
        cpusetCpus: '0-1,3',
        cpuShares: 512,
        memory: '64m',
        memorySwap: '1g',
        blkioWeight: 300,
        deviceReadBps: [{ path: '/dev/sda', rate: '1mb' }],
      },
    });
    expect(spec.limits).toMatchObject({ memorySwap: 1024 ** 3, deviceReadBps: [{ path: '/dev/sda', rate: 1024 ** 2 }] });
    expect(ContainerSpec.parse({ image: 'busybox', limits: { memorySwap: -1 } }).limits?.memorySwap).toBe(-1);
    expect(cpusetList('0-2,5,1')).toEqual([0, 1, 2, 5]);
    expect(parseDeviceRate('/dev/sda:10mb')).toEqual({ path: '/dev/sda', rate: '10mb' });
    expect(() => parseDeviceRate('/dev/sda')).toThrow(/DEVICE:RATE/);
  });

  it('refuse bad input naming the field', () => {
    expect(issuePath({ cpusetCpus: 'a-b' })).toEqual(['limits.cpusetCpus']);
    expect(issuePath({ cpusetCpus: '3-1' })).toEqual(['limits.cpusetCpus']);
    expect(issuePath({ cpuShares: 1 })).toEqual(['limits.cpuShares']);
    expect(issuePath({ blkioWeight: 5 })).toEqual(['limits.blkioWeight']);
    expect(issuePath({ blkioWeight: 1001 })).toEqual(['limits.blkioWeight']);
    expect(issuePath({ memorySwap: '128m' })).toEqual(['limits.memorySwap']);
    expect(issuePath({ memory: '128m', memorySwap: '64m' })).toEqual(['limits.memorySwap']);
    expect(issuePath({ memorySwap: 'lots' })).toEqual(['limits.memorySwap']);
    expect(issuePath({ deviceReadBps: [{ path: 'sda', rate: '1m' }] })).toEqual(['limits.deviceReadBps.0.path']);
    expect(issuePath({ deviceWriteBps: [{ path: '/dev/sda', rate: 'fast' }] })).toEqual(['limits.deviceWriteBps.0.rate']);
  });
});
