// known_hosts matching as OpenSSH does it: patterns, negation, ports, hashed names, @revoked.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KnownHosts, formatKnownHostsLine, hostFieldMatches, keyTypeOf, knownHostName, wildcardMatch } from './known-hosts.js';

function blob(type: string, body: Buffer): Buffer {
  const name = Buffer.from(type);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(name.length);
  return Buffer.concat([header, name, body]);
}

describe('known_hosts', () => {
  it('matches patterns, negations, bracketed ports and hashed names', () => {
    expect(knownHostName('Example.COM', 22)).toBe('example.com');
    expect(knownHostName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
    expect(hostFieldMatches('example.com,10.0.0.1', 'example.com')).toBe(true);
    expect(hostFieldMatches('*.example.com,!bad.example.com', 'good.example.com')).toBe(true);
    expect(hostFieldMatches('*.example.com,!bad.example.com', 'bad.example.com')).toBe(false);
    expect(hostFieldMatches('[10.0.0.?]:2222', '[10.0.0.7]:2222')).toBe(true);
    expect(hostFieldMatches('[10.0.0.?]:2222', '[10.0.0.17]:2222')).toBe(false);
    expect(wildcardMatch('a.(b)+c', 'a.(b)+c')).toBe(true);
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[host]:2200').digest('base64')}`;
    expect(hostFieldMatches(hashed, '[host]:2200')).toBe(true);
    expect(hostFieldMatches(hashed, 'host')).toBe(false);
  });

  it('tells known, changed (same type), unknown (other type) and revoked keys apart, and appends to its own file only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onggi-kh-'));
    try {
      const ed = blob('ssh-ed25519', randomBytes(32));
      const ed2 = blob('ssh-ed25519', randomBytes(32));
      const rsa = blob('ssh-rsa', randomBytes(64));
      const bad = blob('ssh-ed25519', randomBytes(32));
      expect(keyTypeOf(ed)).toBe('ssh-ed25519');
      const user = join(dir, 'user');
      await writeFile(
        user,
        `${formatKnownHostsLine('h', 22, ed)}\n@revoked * ${keyTypeOf(bad)} ${bad.toString('base64')}\n@cert-authority *.x ssh-rsa AAAA\n`,
      );
      const known = new KnownHosts({ own: join(dir, 'own'), readOnly: [user] });
      expect((await known.check('h', 22, ed)).status).toBe('known');
      expect(await known.check('h', 22, ed2)).toMatchObject({ status: 'changed', entries: [{ file: user, line: 1 }] });
      expect(await known.check('h', 22, rsa)).toEqual({ status: 'unknown', otherTypes: ['ssh-ed25519'] });
      expect((await known.check('elsewhere', 22, bad)).status).toBe('revoked');
      expect(await known.knownTypes('h', 22)).toEqual(['ssh-ed25519']);
      await known.add('h', 22, rsa);
      expect((await known.check('h', 22, rsa)).status).toBe('known');
      expect(await readFile(join(dir, 'own'), 'utf8')).toBe(`h ssh-rsa ${rsa.toString('base64')}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
