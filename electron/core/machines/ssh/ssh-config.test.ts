// ~/.ssh/config resolution, checked against what OpenSSH itself computes (`ssh -G`) for the same
// file: Host wildcards and negation, first value wins, Match, Include (plain and conditional),
// ProxyJump; then the parts ssh -G cannot show (relative Include, tokens, Match exec).
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSshConfigHosts, parseProxyJump, resolveSshConfig, tokenize } from './ssh-config.js';

let dir: string;
let config: string;
const HOME = '/root'; // what ssh -G expands ~ to (the passwd entry's home); nothing is read there

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-ssh-config-'));
  config = join(dir, 'config');
  await writeFile(join(dir, 'extra.conf'), 'Host included\n  HostName inc.example.org\n  Port 2022\n');
  await writeFile(join(dir, 'conditional.conf'), 'Host cond-a\n  User cond-user\nHost *\n  Port 2323\n');
  await writeFile(
    config,
    `# written like people write them
Include ${join(dir, 'extra.conf')}

Host bastion
  HostName bastion.example.com
  User jump
  Port 2201
  IdentityFile ~/.ssh/bastion_key

Host web-* !web-internal
  User deploy
  ProxyJump bastion

Host *.prod
  Port=2222
  IdentityFile "~/.ssh/prod_%r_%h"

Host web-1
  HostName 10.0.0.11

Host ?.short
  User shorty

Host two-hops
  HostName 10.1.2.3
  ProxyJump admin@bastion:2201,ssh://inner.example.com:2200

Host cond-*
  Include ${join(dir, 'conditional.conf')}

Match originalhost matched-*
  User matcher

Host *
  User fallback
  IdentityFile ~/.ssh/id_default
`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** OpenSSH's own answer. */
function sshG(alias: string): { hostname: string; user: string; port: number; identityfile: string[]; proxyjump?: string } {
  const run = spawnSync('ssh', ['-G', '-F', config, alias], { encoding: 'utf8' });
  expect(run.status).toBe(0);
  const out: { hostname: string; user: string; port: number; identityfile: string[]; proxyjump?: string } = {
    hostname: '',
    user: '',
    port: 0,
    identityfile: [],
  };
  for (const line of run.stdout.split('\n')) {
    const [key, ...rest] = line.split(' ');
    const value = rest.join(' ');
    if (key === 'hostname') out.hostname = value;
    if (key === 'user') out.user = value;
    if (key === 'port') out.port = Number(value);
    if (key === 'identityfile') out.identityfile.push(value);
    if (key === 'proxyjump') out.proxyjump = value;
  }
  return out;
}

describe('ssh_config resolution matches ssh -G', () => {
  const aliases = [
    'bastion',
    'web-1',
    'web-internal',
    'api.prod',
    'web-2.prod',
    'a.short',
    'ab.short',
    'included',
    'cond-a',
    'cond-b',
    'matched-x',
    'two-hops',
    'random',
  ];
  for (const alias of aliases) {
    it(alias, async () => {
      const ours = await resolveSshConfig(alias, { file: config, home: HOME, localUser: 'nobody-local' });
      const theirs = sshG(alias);
      expect(ours.hostName).toBe(theirs.hostname);
      expect(ours.user).toBe(theirs.user);
      expect(ours.port).toBe(theirs.port);
      const expand = (path: string): string => path.replace(/^~/, HOME).replace('%r', ours.user).replace('%h', ours.hostName);
      expect(ours.identityFiles).toEqual(theirs.identityfile.map(expand));
      expect(ours.proxyJump).toEqual(theirs.proxyjump === undefined ? [] : parseProxyJump(theirs.proxyjump));
    });
  }

  it('never runs Match exec (ssh -G would run it; we do not)', async () => {
    const withExec = join(dir, 'exec-config');
    await writeFile(withExec, `Match exec "touch ${join(dir, 'pwned')}" host *\n  User executed\nHost *\n  User fallback\n`);
    const ours = await resolveSshConfig('anything', { file: withExec, home: HOME });
    expect(ours.user).toBe('fallback');
    expect(spawnSync('test', ['-e', join(dir, 'pwned')]).status).not.toBe(0);
  });
});

describe('ssh_config details', () => {
  it('parses ProxyJump lists with users, ports, URIs and IPv6', () => {
    expect(parseProxyJump('admin@bastion:2201,ssh://inner.example.com:2200,[fe80::1]:22,plain')).toEqual([
      { host: 'bastion', port: 2201, user: 'admin' },
      { host: 'inner.example.com', port: 2200 },
      { host: 'fe80::1', port: 22 },
      { host: 'plain' },
    ]);
    expect(parseProxyJump('none')).toEqual([]);
    expect(() => parseProxyJump('host:99999')).toThrow(/not \[user@\]host\[:port\]/);
  });

  it('reads keyword=value, quotes and trailing comments', () => {
    expect(tokenize('  Port=2222')).toEqual(['Port', '2222']);
    expect(tokenize('Port = 2222')).toEqual(['Port', '2222']);
    expect(tokenize('IdentityFile "/path/with space/key" # mine')).toEqual(['IdentityFile', '/path/with space/key']);
    expect(tokenize('# only a comment')).toEqual([]);
  });

  it('follows relative Includes from ~/.ssh with globs, expands tokens, and lists concrete hosts', async () => {
    const home = join(dir, 'home');
    await mkdir(join(home, '.ssh/config.d'), { recursive: true });
    await writeFile(join(home, '.ssh/config.d/10-work.conf'), 'Host work\n  HostName work.example.com\n  IdentityFile %d/.ssh/work_%u\n');
    await writeFile(join(home, '.ssh/config.d/20-play.conf'), 'Host play game-*\n  User player\n');
    await writeFile(join(home, '.ssh/config'), 'Include config.d/*.conf\nHost *\n  IdentitiesOnly yes\n  IdentityAgent none\n');
    const work = await resolveSshConfig('work', { home, localUser: 'me' });
    expect(work).toMatchObject({
      hostName: 'work.example.com',
      user: 'me',
      port: 22,
      identityFiles: [join(home, '.ssh/work_me')],
      identityFilesExplicit: true,
      identitiesOnly: true,
      identityAgent: 'none',
    });
    expect((await resolveSshConfig('game-7', { home })).user).toBe('player');
    expect(await listSshConfigHosts({ home })).toEqual(['work', 'play']);
    // No config at all: OpenSSH's defaults.
    const bare = await resolveSshConfig('somewhere', { home: join(dir, 'nohome'), localUser: 'me' });
    expect(bare).toMatchObject({ hostName: 'somewhere', user: 'me', port: 22, identityFilesExplicit: false, proxyJump: [] });
  });
});
