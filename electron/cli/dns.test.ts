// Name resolution and the run options around it, end to end: the `onggi` CLI and a real agent in a
// network namespace of the test's own (netns-lab.ts), and a real DNS server — Debian's dnsmasq —
// in the lab's "outside" netns, answering a name only it knows. The agent reads a machine
// resolv.conf of the test's (ONGGI_RESOLV_CONF) that names systemd-resolved's stub, and a
// resolved upstream file (ONGGI_RESOLVED_RESOLV_CONF) naming the dnsmasq: containers must get the
// upstream server, reach it through the bridge's NAT and resolve the name.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerSummary } from '../../shared/containers.js';
import { IMAGE, OUTSIDE_IP, createLab, type CliResult, type NetnsLab } from '../../build/testing/netns-lab.js';
import { isAlive } from '../../build/testing/isolated-agent.js';

const isRoot = process.getuid?.() === 0;
const hasDnsmasq = spawnSync('dnsmasq', ['--version']).status === 0;
const NAME = 'onggi-test.internal';
const ANSWER = '10.123.45.67';

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

function out(result: CliResult): string {
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.err}`);
  return result.out;
}

/**
 * A dnsmasq of the test's own in netns `ns` on `address`:53 that knows one name: its own
 * configuration only (no /etc/dnsmasq.conf, no resolv.conf, no hosts file), in the foreground so
 * it is ours to end by pid. Returned once it answers, asked from the machine netns.
 */
async function startDnsmasq(lab: NetnsLab, ns: string, address: string, name: string, answer: string): Promise<ChildProcess> {
  const dnsmasq = spawn(
    'nsenter',
    [
      `--net=/run/netns/${ns}`,
      'dnsmasq',
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--pid-file',
      `--listen-address=${address}`,
      '--bind-interfaces',
      '--port=53',
      `--address=/${name}/${answer}`,
      // Its own domain: other record types (AAAA) get "no data" instead of REFUSED for want of an upstream.
      `--local=/${name}/`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  dnsmasq.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  for (let i = 0; ; i += 1) {
    const asked = lab.inMachine(['busybox', 'nslookup', name, address]);
    if (asked.code === 0 && asked.out.includes(answer)) return dnsmasq;
    if (i > 100 || dnsmasq.exitCode !== null) {
      dnsmasq.kill('SIGKILL');
      throw new Error(`dnsmasq did not answer: ${log}${asked.err}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!isRoot || !hasDnsmasq)('DNS and run options (dnsmasq, real netns)', () => {
  let lab: NetnsLab;
  let work: string;
  const dnsmasqs: ChildProcess[] = [];
  const onggi = (...args: string[]) => lab.onggi(...args);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'onggi-dns-'));
    await writeFile(join(work, 'machine-resolv.conf'), '# as systemd-resolved leaves it\nnameserver 127.0.0.53\noptions edns0 trust-ad\n');
    await writeFile(join(work, 'upstream-resolv.conf'), `nameserver ${OUTSIDE_IP}\nsearch lab.internal\n`);
    lab = await createLab({
      agentEnv: {
        ONGGI_RESOLV_CONF: join(work, 'machine-resolv.conf'),
        ONGGI_RESOLVED_RESOLV_CONF: join(work, 'upstream-resolv.conf'),
        ONGGI_NM_RESOLV_CONF: join(work, 'absent'),
      },
    });
    dnsmasqs.push(await startDnsmasq(lab, lab.outside, OUTSIDE_IP, NAME, ANSWER));
  }, 180_000);

  afterAll(async () => {
    for (const dnsmasq of dnsmasqs) {
      if (dnsmasq.exitCode !== null || dnsmasq.signalCode !== null) continue;
      const ended = new Promise((resolve) => dnsmasq.once('exit', resolve));
      dnsmasq.kill('SIGTERM');
      await ended;
    }
    await lab?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("a container on the default bridge gets resolved's upstream server and resolves a name only the dnsmasq knows", () => {
    const resolv = out(onggi('run', '--rm', IMAGE, 'cat', '/etc/resolv.conf'));
    expect(resolv).toContain(`nameserver ${OUTSIDE_IP}\n`);
    expect(resolv).toContain('search lab.internal\n');
    expect(resolv).not.toContain('127.0.0.53');
    const looked = out(onggi('run', '--rm', IMAGE, 'nslookup', NAME));
    expect(looked).toContain(ANSWER);
  });

  it('a container on a user network resolves it too, and still finds its peers by name', () => {
    out(onggi('network', 'create', 'dnsnet', '--subnet', '10.96.0.0/24'));
    out(onggi('run', '-d', '--name', 'peer', '--network', 'dnsnet', IMAGE, 'sleep', '1000'));
    const looked = out(onggi('run', '--rm', '--network', 'dnsnet', IMAGE, 'sh', '-c', `nslookup ${NAME}; ping -c 1 -W 2 peer`));
    expect(looked).toContain(ANSWER);
    expect(looked).toMatch(/PING peer \(10\.96\.0\.\d+\)/);
    expect(looked).toContain('1 packets received');
    out(onggi('rm', '-f', 'peer'));
  });

  it('--dns, --dns-search, --dns-option replace the machine’s; --add-host lands in /etc/hosts', () => {
    const own = out(
      onggi(
        'run',
        '--rm',
        '--dns',
        '192.0.2.1',
        '--dns-search',
        'a.example',
        '--dns-option',
        'ndots:3',
        '--add-host',
        'db.local:10.1.2.3',
        IMAGE,
        'sh',
        '-c',
        'cat /etc/resolv.conf /etc/hosts',
      ),
    );
    expect(own).toContain('nameserver 192.0.2.1\nsearch a.example\noptions ndots:3\n');
    expect(own).not.toContain(OUTSIDE_IP);
    expect(own).toMatch(/^10\.1\.2\.3\tdb\.local$/m);
    // --dns at the dnsmasq resolves through it even with the machine pointing elsewhere.
    expect(out(onggi('run', '--rm', '--dns', OUTSIDE_IP, IMAGE, 'nslookup', NAME))).toContain(ANSWER);
  });

  it('refuses bad DNS and host options naming the field, before anything is made', () => {
    const before = out(onggi('ps', '-a', '--json'));
    for (const [args, field] of [
      [['--dns', 'nope'], 'dns'],
      [['--add-host', 'db'], 'addHosts'],
      [['--dns-search', 'bad domain'], 'dnsSearch'],
      [['--shm-size', '1'], 'shmSize'],
      [['--stop-signal', 'SIGNOPE'], 'stopSignal'],
      [['-u', 'nosuch'], 'params.user'],
    ] as const) {
      const result = onggi('run', '--rm', ...args, IMAGE, 'true');
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.err).toContain(field);
    }
    expect(out(onggi('ps', '-a', '--json'))).toBe(before);
  });

  it('labels, ps --filter and the PORTS column; --env-file; image import FILE REF and image tag', async () => {
    out(onggi('run', '-d', '--name', 'web', '-l', 'tier=web', '-l', 'team', '-p', '18081:80', IMAGE, 'sleep', '1000'));
    out(onggi('run', '-d', '--name', 'db', '-l', 'tier=db', IMAGE, 'sleep', '1000'));
    const web = out(onggi('ps', '--filter', 'label=tier=web'));
    expect(web.split('\n')[0]).toMatch(/STATUS +PORTS +NAMES/);
    expect(web).toContain('0.0.0.0:18081->80/tcp');
    expect(web).not.toMatch(/\bdb\b/);
    const names = (args: string[]) => (JSON.parse(out(onggi('ps', '--json', ...args))) as ContainerSummary[]).map((c) => c.name).sort();
    expect(names(['--filter', 'label=tier'])).toEqual(['db', 'web']);
    expect(names(['--filter', 'label=team', '--filter', 'label=tier'])).toEqual(['web']);
    expect(names(['--filter', 'name=we'])).toEqual(['web']);
    out(onggi('stop', 'db'));
    expect(names(['--filter', 'status=exited'])).toEqual(['db']);
    expect(JSON.parse(out(onggi('inspect', 'web'))).labels).toEqual({ tier: 'web', team: '' });
    expect(onggi('ps', '--filter', 'colour=red').err).toContain('--filter');
    out(onggi('rm', '-f', 'web', 'db'));

    await writeFile(join(work, 'app.env'), '# settings\nGREETING=hello "world"\n\nFROM_CLI\nUNSET_HERE\nOVERRIDDEN=file\n');
    const env = out(
      lab.onggiWith(
        { ...lab.env, FROM_CLI: 'yes' },
        'run',
        '--rm',
        '--env-file',
        join(work, 'app.env'),
        '-e',
        'OVERRIDDEN=flag',
        IMAGE,
        'env',
      ),
    );
    expect(env).toContain('GREETING=hello "world"\n');
    expect(env).toContain('FROM_CLI=yes\n');
    expect(env).toContain('OVERRIDDEN=flag\n');
    expect(env).not.toContain('UNSET_HERE');
    expect(onggi('run', '--rm', '--env-file', join(work, 'absent.env'), IMAGE, 'true').err).toContain('absent.env');

    const tiny = join(work, 'tiny');
    await mkdir(tiny);
    await writeFile(join(tiny, 'hello.txt'), 'hi\n');
    await tar.c({ cwd: tiny, file: join(work, 'tiny.tar') }, ['.']);
    out(onggi('image', 'import', '--kind', 'rootfs', join(work, 'tiny.tar'), 'tiny:1'));
    out(onggi('image', 'tag', 'tiny:1', 'tiny:stable'));
    const images = out(onggi('image', 'ls'));
    expect(images).toMatch(/tiny:1 /);
    expect(images).toMatch(/tiny:stable /);
    expect(onggi('image', 'import', '--kind', 'rootfs', join(work, 'tiny.tar'), 'tiny:2', '--name', 'tiny:3').err).toContain('two names');
    expect(onggi('image', 'tag', 'nosuch:1', 'x:1').code).toBe(1);
  });

  it("relays to a machine name server on loopback through the agent's forwarder on the gateway (default bridge and user network)", async () => {
    // The machine now resolves through a local server on its own loopback only (a Pi-hole, unbound, dnsmasq).
    await writeFile(join(work, 'machine-resolv.conf'), 'nameserver 127.0.0.1\n');
    dnsmasqs.push(await startDnsmasq(lab, lab.machine, '127.0.0.1', 'onggi-local.internal', '10.55.0.1'));
    try {
      const onBridge = out(onggi('run', '--rm', IMAGE, 'sh', '-c', 'cat /etc/resolv.conf; nslookup onggi-local.internal'));
      expect(onBridge).toMatch(/^nameserver 10\.77\.0\.1$/m);
      expect(onBridge).toContain('10.55.0.1');
      out(onggi('network', 'create', 'fwdnet', '--subnet', '10.97.0.0/24'));
      const onUserNetwork = out(
        onggi('run', '--rm', '--network', 'fwdnet', IMAGE, 'sh', '-c', 'cat /etc/resolv.conf; nslookup onggi-local.internal'),
      );
      expect(onUserNetwork).toMatch(/^nameserver 10\.97\.0\.1$/m);
      expect(onUserNetwork).toContain('10.55.0.1');
      // Over TCP too (what a resolver falls back to for a long answer).
      expect(out(onggi('run', '--rm', IMAGE, 'sh', '-c', 'echo | nc -w 2 10.77.0.1 53 && echo connected'))).toContain('connected');
      // Not an open resolver: a client outside the bridge's subnet that can route to the gateway gets nothing.
      expect(lab.inOutside(['ip', 'route', 'add', '10.77.0.0/16', 'via', '198.18.0.1']).code).toBe(0);
      const fromOutside = lab.inOutside(['timeout', '3', 'busybox', 'nslookup', 'onggi-local.internal', '10.77.0.1']);
      expect(fromOutside.out).not.toContain('10.55.0.1');
      // An agent that restarts listens again for the containers it finds running.
      out(onggi('run', '-d', '--name', 'asker', IMAGE, 'sleep', '1000'));
      const pid = await lab.sandbox.daemonPid();
      expect(pid).toBeDefined();
      process.kill(pid ?? 0, 'SIGKILL');
      await until(() => !isAlive(pid ?? 0), 'the agent to die');
      out(onggi('ps')); // starts it again
      expect(out(onggi('exec', 'asker', 'nslookup', 'onggi-local.internal'))).toContain('10.55.0.1');
      out(onggi('rm', '-f', 'asker'));
      // Without a network there is no gateway to relay through: Docker's defaults, said so.
      expect(out(onggi('run', '--rm', '--network', 'none', IMAGE, 'cat', '/etc/resolv.conf'))).toContain('nameserver 8.8.8.8');
    } finally {
      await writeFile(
        join(work, 'machine-resolv.conf'),
        '# as systemd-resolved leaves it\nnameserver 127.0.0.53\noptions edns0 trust-ad\n',
      );
    }
  });
});
