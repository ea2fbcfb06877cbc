import { describe, expect, it } from 'vitest';
import { choosePlatform, formatPlatform, machinePlatform, parsePlatform } from './platform.js';

const entries = [
  { platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
  { platform: { os: 'linux', architecture: 'arm64' } }, // Docker Hub often omits arm64's v8
  { platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
  { platform: { os: 'linux', architecture: 'amd64' } },
  { platform: { os: 'linux', architecture: 'amd64', variant: 'v3' } },
  {}, // no platform at all
];

describe('platforms', () => {
  it("maps Node's arch names to OCI's", () => {
    expect(machinePlatform('x64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(machinePlatform('arm64')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(formatPlatform(parsePlatform('linux/arm64/v8'))).toBe('linux/arm64/v8');
    expect(() => parsePlatform('linux')).toThrow();
  });

  it('picks the machine platform, accepts arm64 without a variant as v8, skips attestations', () => {
    expect(choosePlatform(entries, machinePlatform('x64'))).toBe(3);
    expect(choosePlatform(entries, machinePlatform('arm64'))).toBe(1);
    expect(choosePlatform(entries, parsePlatform('linux/arm64'))).toBe(1);
    expect(choosePlatform(entries, parsePlatform('linux/amd64/v3'))).toBe(4);
    expect(choosePlatform(entries, parsePlatform('linux/arm/v7'))).toBe(0);
    expect(choosePlatform(entries, parsePlatform('linux/arm/v6'))).toBe(-1);
    expect(choosePlatform(entries, parsePlatform('linux/s390x'))).toBe(-1);
    expect(choosePlatform(entries, parsePlatform('unknown/unknown'))).toBe(-1);
    // Only a v3 amd64 on offer: taken when no variant was asked for.
    expect(choosePlatform([entries[4] ?? {}], machinePlatform('x64'))).toBe(0);
  });
});
