// A network lab for the network tests: a netns standing for the machine (the agent daemon and the
// CLI run inside it, so bridges, veths, NAT and packet filter rules are made there and never in
// the machine's own netns) and a second netns standing for the outside world, joined by a veth
// pair: machine 198.18.0.1/24 — outside 198.18.0.2/24 (RFC 2544's benchmark range, routed nowhere).
//
// The CLI and agent run from a copy of the build taken at set-up: a rebuild by someone else during
// the run would otherwise make the CLI replace our daemon (another build id) with a new one.
// Everything is removed in cleanup(), which is safe to call after any failure.
import { spawn, spawnSync } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { makeBusyboxLayer } from './busybox-layer.js';
import { AGENT_DIR, REPO_ROOT, isolatedAgent, type IsolatedAgent } from './isolated-agent.js';

export const MACHINE_IP = '198.18.0.1';
export const OUTSIDE_IP = '198.18.0.2';
export const OUTSIDE_SUBNET = '198.18.0.0/24';
export const IMAGE = 'netbox:latest';

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

export interface NetnsLab {
  machine: string;
  outside: string;
  sandbox: IsolatedAgent;
  /** The agent bundle's entry in the lab's copy of the build (what the CLI starts). */
  agentEntry: string;
  /** The CLI's environment (the sandbox's, with the default bridge). */
  env: NodeJS.ProcessEnv;
  /** Runs the CLI inside the machine netns. */
  onggi(...args: string[]): CliResult;
  /** The same, talking to (and starting) another agent: the one whose environment this is. */
  onggiWith(env: NodeJS.ProcessEnv, ...args: string[]): CliResult;
  onggiAsync(...args: string[]): Promise<CliResult>;
  /** Runs a command inside the machine (or outside) netns. */
  inMachine(argv: string[], input?: string): CliResult;
  inOutside(argv: string[]): CliResult;
  /** One HTTP GET from the machine (or outside) netns by the test's own Node: exit 0 and the body on a 200. */
  httpGet(where: 'machine' | 'outside', url: string): CliResult;
  cleanup(): Promise<void>;
}

/** A bounded HTTP GET (2 s) that prints the body and exits 0 only on a 200; the URL is its argv. */
const HTTP_GET = `
const request = require('node:http').get(process.argv[1], { timeout: 2000 }, (response) => {
  let body = '';
  response.setEncoding('utf8').on('data', (chunk) => (body += chunk));
  response.on('end', () => { process.stdout.write(body); process.exit(response.statusCode === 200 ? 0 : 1); });
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', (error) => { process.stderr.write(error.message); process.exit(1); });
`;

function run(argv: string[], env?: NodeJS.ProcessEnv, input?: string): CliResult {
  const [command, ...args] = argv;
  const result = spawnSync(command ?? 'false', args, { env: env ?? process.env, encoding: 'utf8', timeout: 60_000, input });
  return { code: result.status, out: result.stdout ?? '', err: result.stderr ?? '' };
}

function must(argv: string[]): void {
  const result = run(argv);
  if (result.code !== 0) throw new Error(`${argv.join(' ')} failed: ${result.err}`);
}

export async function createLab(
  options: { firewall?: 'iptables' | 'nftables'; forwardPolicyDrop?: boolean; agentEnv?: NodeJS.ProcessEnv } = {},
): Promise<NetnsLab> {
  const tag = `${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  const machine = `onggi-t-${tag}`;
  const outside = `onggi-t-${tag}-out`;
  const work = await mkdtemp(join(tmpdir(), 'onggi-netlab-'));
  let sandbox: IsolatedAgent | undefined;
  const cleanup = async (): Promise<void> => {
    await sandbox?.cleanup();
    for (const ns of [machine, outside]) spawnSync('ip', ['netns', 'del', ns]);
    await rm(work, { recursive: true, force: true });
  };
  try {
    must(['ip', 'netns', 'add', machine]);
    must(['ip', 'netns', 'add', outside]);
    for (const ns of [machine, outside]) must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    must(['ip', '-n', machine, 'link', 'add', 'vm0', 'type', 'veth', 'peer', 'name', 'vo0', 'netns', outside]);
    must(['ip', '-n', machine, 'addr', 'add', `${MACHINE_IP}/24`, 'dev', 'vm0']);
    must(['ip', '-n', outside, 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'vo0']);
    must(['ip', '-n', machine, 'link', 'set', 'vm0', 'up']);
    must(['ip', '-n', outside, 'link', 'set', 'vo0', 'up']);
    // The trap Docker leaves on machines: a FORWARD policy of DROP. Our rules must work despite it.
    if (options.forwardPolicyDrop) must(['ip', 'netns', 'exec', machine, 'iptables', '-w', '-P', 'FORWARD', 'DROP']);

    const snapshot = join(work, 'build');
    await mkdir(join(snapshot, 'dist/electron'), { recursive: true });
    await copyFile(join(REPO_ROOT, 'dist/electron/cli.cjs'), join(snapshot, 'dist/electron/cli.cjs'));
    await cp(AGENT_DIR, join(snapshot, 'vm-assets/dist/agent'), { recursive: true });
    const cli = join(snapshot, 'dist/electron/cli.cjs');

    sandbox = await isolatedAgent();
    // agentEnv: for the daemon the CLI starts (it inherits the CLI's environment).
    const env: NodeJS.ProcessEnv = {
      ...sandbox.env,
      ...(options.firewall ? { ONGGI_FIREWALL: options.firewall } : {}),
      ...options.agentEnv,
    };
    // This daemon runs in a netns of its own: the default bridge is wanted.
    delete env.ONGGI_DEFAULT_NETWORK;
    const nsenter = (ns: string) => ['nsenter', `--net=/run/netns/${ns}`];
    const onggiArgv = (args: string[]) => [...nsenter(machine), process.execPath, cli, ...args];
    const lab: NetnsLab = {
      machine,
      outside,
      sandbox,
      agentEntry: join(snapshot, 'vm-assets/dist/agent/agent.cjs'),
      env,
      onggi: (...args) => run(onggiArgv(args), env),
      onggiWith: (other, ...args) => run(onggiArgv(args), other),
      onggiAsync: (...args) =>
        new Promise((resolve) => {
          const [command, ...rest] = onggiArgv(args);
          const child = spawn(command ?? 'false', rest, { env, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
          child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
          child.once('close', (code) => resolve({ code, out, err }));
        }),
      inMachine: (argv, input) => run([...nsenter(machine), ...argv], undefined, input),
      inOutside: (argv) => run([...nsenter(outside), ...argv]),
      httpGet: (where, url) => run([...nsenter(where === 'machine' ? machine : outside), process.execPath, '-e', HTTP_GET, url]),
      cleanup,
    };

    // The image: a busybox rootfs with every applet (httpd, nc, ping) and a page to serve.
    const rootfs = await makeBusyboxLayer(join(work, 'rootfs'));
    await mkdir(join(rootfs, 'www'));
    await writeFile(join(rootfs, 'www/index.html'), 'hello from onggi\n');
    const tarball = join(work, 'netbox.tar');
    await tar.c({ cwd: rootfs, file: tarball }, ['.']);
    const imported = lab.onggi('image', 'import', '--kind', 'rootfs', '--name', IMAGE, tarball);
    if (imported.code !== 0) throw new Error(`image import failed: ${imported.err}`);
    return lab;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Links, addresses and our packet filter rules in a netns: what "nothing left behind" is counted on. */
export function countKernel(lab: NetnsLab): { veths: number; bridges: number; rules: number } {
  const links = JSON.parse(lab.inMachine(['ip', '-j', '-d', 'link', 'show']).out || '[]') as Array<{ linkinfo?: { info_kind?: string } }>;
  const iptables = ['filter', 'nat'].map((table) => lab.inMachine(['iptables', '-w', '-t', table, '-S']).out).join('\n');
  const nft = lab.inMachine(['nft', 'list', 'ruleset']).out;
  return {
    veths: links.filter((l) => l.linkinfo?.info_kind === 'veth').length,
    bridges: links.filter((l) => l.linkinfo?.info_kind === 'bridge').length,
    rules: (iptables.match(/^-A /gm) ?? []).length + (nft.match(/comment "onggi/g) ?? []).length,
  };
}
