// The container's resolv.conf builder against resolver files as machines have them (testdata/resolv).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESOLVED_STUB, buildResolvConf, loopbackNameserver, parseResolvConf, writeContainerResolvConf } from './resolv-conf.js';

const fixture = (name: string) => readFile(join(__dirname, 'testdata/resolv', name), 'utf8');
const lines = (text: string) => text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

describe('the container resolv.conf', () => {
  it("replaces systemd-resolved's stub with the upstream servers resolved uses (their search list too)", async () => {
    const text = buildResolvConf(
      { machine: await fixture('stub-resolv.conf'), resolvedUpstream: await fixture('resolved-upstream.conf') },
      {},
    );
    expect(lines(text)).toEqual(['nameserver 192.0.2.10', 'nameserver 192.0.2.11', 'search corp.example lab.example']);
    expect(text).not.toContain('127.0.0.53');
  });

  it('drops loopback servers a container cannot reach, and falls back to Docker’s defaults saying so', async () => {
    const text = buildResolvConf({ machine: await fixture('local-dnsmasq.conf') }, {});
    expect(lines(text)).toEqual(['nameserver 8.8.8.8', 'nameserver 8.8.4.4']);
    expect(text).toMatch(/^# .*no name server a container can reach/);
    // The stub without resolved's upstream file (resolved not running) is loopback like any other.
    expect(lines(buildResolvConf({ machine: await fixture('stub-resolv.conf') }, {}))).toEqual([
      'nameserver 8.8.8.8',
      'nameserver 8.8.4.4',
      'search corp.example',
      'options edns0 trust-ad',
    ]);
  });

  it('replaces a local resolver on loopback by the servers behind it that NetworkManager lists, when it lists any', async () => {
    const machine = await fixture('local-dnsmasq.conf');
    const text = buildResolvConf({ machine, networkManagerUpstream: await fixture('nm-no-stub.conf') }, {});
    expect(lines(text)).toEqual(['nameserver 10.20.30.40', 'nameserver 10.20.30.41', 'search vpn.example']);
    expect(text).toMatch(/^# .*NetworkManager's upstream servers/);
    // NetworkManager's list is only for a machine whose own servers a container cannot reach.
    expect(
      lines(buildResolvConf({ machine: await fixture('messy.conf'), networkManagerUpstream: await fixture('nm-no-stub.conf') }, {}))[0],
    ).toBe('nameserver 198.51.100.7');
  });

  it('names the forwarder at the gateway when the machine has only a loopback server, and says which one it relays to', async () => {
    const machine = await fixture('local-dnsmasq.conf');
    expect(loopbackNameserver({ machine })).toBe('127.0.0.1');
    const text = buildResolvConf({ machine }, {}, '10.77.0.1');
    expect(lines(text)).toEqual(['nameserver 10.77.0.1']);
    expect(text).toMatch(/^# .*resolver on 127\.0\.0\.1, relayed by the agent/);
    // The stub without resolved's list: relayed to the stub itself.
    expect(loopbackNameserver({ machine: await fixture('stub-resolv.conf') })).toBe(RESOLVED_STUB);
    // A machine with a server containers reach needs no forwarder, offered or not.
    const upstream = { machine: await fixture('stub-resolv.conf'), resolvedUpstream: await fixture('resolved-upstream.conf') };
    expect(loopbackNameserver(upstream)).toBeUndefined();
    expect(lines(buildResolvConf(upstream, {}, '10.77.0.1'))[0]).toBe('nameserver 192.0.2.10');
    expect(loopbackNameserver({ machine, networkManagerUpstream: await fixture('nm-no-stub.conf') })).toBeUndefined();
    expect(loopbackNameserver({})).toBeUndefined();
  });

  it('reads the file as glibc does: comments, bad servers and unknown lines ignored, the last search/domain wins', async () => {
    expect(parseResolvConf(await fixture('messy.conf'))).toEqual({
      nameservers: ['198.51.100.7', '198.51.100.8'],
      search: ['second.example', 'third.example'],
      options: ['ndots:2', 'timeout:1'],
    });
    // Inline, not a fixture: git would turn a fixture's CRLF into LF on checkout.
    expect(parseResolvConf('nameserver 203.0.113.5\r\nsearch crlf.example\r\n')).toEqual({
      nameservers: ['203.0.113.5'],
      search: ['crlf.example'],
      options: [],
    });
    expect(parseResolvConf('\0\0binary\xff')).toEqual({ nameservers: [], search: [], options: [] });
  });

  it('--dns, --dns-search and --dns-option replace what the machine says; --dns-search . clears the search list', async () => {
    const machine = await fixture('messy.conf');
    expect(
      lines(buildResolvConf({ machine }, { dns: ['10.1.2.3', '127.0.0.1'], dnsSearch: ['a.example'], dnsOptions: ['use-vc'] })),
    ).toEqual(['nameserver 10.1.2.3', 'nameserver 127.0.0.1', 'search a.example', 'options use-vc']);
    expect(lines(buildResolvConf({ machine }, { dnsSearch: ['.'] }))).toEqual([
      'nameserver 198.51.100.7',
      'nameserver 198.51.100.8',
      'options ndots:2 timeout:1',
    ]);
  });

  it('writes the file from the source paths it is given; absent sources mean the defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onggi-resolv-'));
    try {
      const fixtures = join(__dirname, 'testdata/resolv');
      const path = writeContainerResolvConf(
        dir,
        {
          machine: join(fixtures, 'stub-resolv.conf'),
          resolvedUpstream: join(fixtures, 'resolved-upstream.conf'),
          networkManagerUpstream: join(dir, 'absent'),
        },
        {},
      );
      expect(lines(await readFile(path, 'utf8'))).toContain('nameserver 192.0.2.10');
      await writeContainerResolvConf(
        dir,
        { machine: join(dir, 'absent'), resolvedUpstream: fixtures /* a directory */, networkManagerUpstream: join(dir, 'absent') },
        {},
      );
      expect(lines(await readFile(path, 'utf8'))).toEqual(['nameserver 8.8.8.8', 'nameserver 8.8.4.4']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
