// `--security-opt` as `onggi run` reads it: the profile file is read here and sent parsed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { securityOptionsSpec } from './security-options.js';

const dir = mkdtempSync(join(tmpdir(), 'onggi-secopt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--security-opt', () => {
  it('reads seccomp=FILE into the spec with the file name, and takes unconfined and no-new-privileges', () => {
    const file = join(dir, 'no-mkdir.json');
    writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }));
    expect(securityOptionsSpec({ securityOpt: [`seccomp=${file}`, 'no-new-privileges=false'] })).toEqual({
      seccomp: {
        kind: 'profile',
        name: 'no-mkdir.json',
        profile: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] },
      },
      noNewPrivileges: false,
    });
    expect(securityOptionsSpec({ securityOpt: ['seccomp=unconfined', 'no-new-privileges'] })).toEqual({
      seccomp: { kind: 'unconfined' },
      noNewPrivileges: true,
    });
    expect(securityOptionsSpec({ securityOpt: ['no-new-privileges:true'] })).toEqual({ noNewPrivileges: true });
    expect(securityOptionsSpec({})).toEqual({});
  });

  it('refuses what it does not support, a missing file and a malformed profile, naming the JSON path', () => {
    expect(() => securityOptionsSpec({ securityOpt: ['apparmor=unconfined'] })).toThrow(/"apparmor=unconfined": supported are/);
    expect(() => securityOptionsSpec({ securityOpt: ['no-new-privileges=maybe'] })).toThrow(/supported are/);
    expect(() => securityOptionsSpec({ securityOpt: [`seccomp=${join(dir, 'missing.json')}`] })).toThrow(/missing\.json: ENOENT/);
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'EQ' }] }],
      }),
    );
    expect(() => securityOptionsSpec({ securityOpt: [`seccomp=${bad}`] })).toThrow(
      /bad\.json is not a seccomp profile: syscalls\[0\]\.args\[0\]\.op: /,
    );
  });
});
