// A machine without iptables or nft (a fresh Debian): `onggi run` that wants a network (the default
// bridge included) is refused with the reason and the package to install, `--network none` still
// runs, and once iptables is there the agent finds it at the next run, without a restart.
//
// The agent runs in the lab's netns (bridges and rules never touch this machine's) and in a mount
// namespace of its own whose /usr/sbin (= /sbin) is a tmpfs holding only `ip`: its PATH then has no
// iptables or nft, whatever directories it adds. "Installing" iptables is copying the binary into
// that tmpfs through /proc/PID/root.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerDetail } from '../../shared/containers.js';
import { spawnDaemon, terminate } from '../../build/testing/isolated-agent.js';
import { IMAGE, createLab, type NetnsLab } from '../../build/testing/netns-lab.js';

const isRoot = process.getuid?.() === 0;

/** Hides the machine's /usr/sbin behind a tmpfs with the tools in $1, then execs the rest. */
const HIDE_SBIN = 'set -e; tools=$1; shift; mount -t tmpfs -o mode=755 onggi-test-sbin /usr/sbin; cp "$tools"/* /usr/sbin/; exec "$@"';

describe.skipIf(!isRoot)('networks unavailable (no iptables, no nft)', { timeout: 120_000 }, () => {
  let lab: NetnsLab;
  let daemon: ChildProcess | undefined;

  beforeAll(async () => {
    lab = await createLab();
    // The lab's CLI started an agent with the machine's tools: ours replaces it.
    const started = await lab.sandbox.daemonPid();
    if (started !== undefined) await terminate(started);
    const tools = join(lab.sandbox.root, 'sbin-tools');
    await mkdir(tools);
    await copyFile('/usr/sbin/ip', join(tools, 'ip'));
    daemon = await spawnDaemon(
      { socketPath: lab.sandbox.socketPath, stateDir: lab.sandbox.stateDir, env: lab.env },
      {
        entry: lab.agentEntry,
        wrapper: ['nsenter', `--net=/run/netns/${lab.machine}`, 'unshare', '--mount', '--', 'sh', '-c', HIDE_SBIN, 'sh', tools],
      },
    );
  }, 120_000);
  afterAll(async () => {
    if (daemon?.pid !== undefined) await terminate(daemon.pid);
    await lab?.cleanup();
  });

  it('refuses a run that wants a network, saying why and what to install; --network none runs', () => {
    const sbin = `/proc/${daemon?.pid}/root/usr/sbin`;
    expect(spawnSync('ls', [sbin], { encoding: 'utf8' }).stdout.trim()).toBe('ip');

    const refused = lab.onggi('run', '-d', '--name', 'wants-default', IMAGE, 'sleep', '60');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('networks are unavailable');
    expect(refused.err).toContain('neither iptables nor nft');
    expect(refused.err).toContain('apt-get install iptables');
    expect(refused.err).toContain('--network none');
    // Refused before anything was made: no container left behind.
    expect(lab.onggi('ps', '-a').out).not.toContain('wants-default');
    const published = lab.onggi('run', '-d', '--network', 'none', '-p', '18081:80', IMAGE, 'true');
    expect(published.code).not.toBe(0);
    expect(published.err).toContain('networks are unavailable');

    const none = lab.onggi('run', '-d', '--name', 'no-network', '--network', 'none', IMAGE, 'sleep', '60');
    expect(none.code, none.err).toBe(0);
  });

  it('finds iptables once it is installed, at the next run, without a restart', async () => {
    const pid = daemon?.pid ?? -1;
    // Debian's iptables package: xtables-nft-multi under the names it acts by.
    for (const name of ['iptables', 'iptables-save', 'iptables-restore']) {
      await copyFile('/usr/sbin/xtables-nft-multi', `/proc/${pid}/root/usr/sbin/${name}`);
    }
    const run = lab.onggi('run', '-d', '--name', 'on-default', IMAGE, 'sleep', '60');
    expect(run.code, run.err).toBe(0);
    const detail = JSON.parse(lab.onggi('inspect', 'on-default').out) as ContainerDetail;
    expect(detail.networks?.[0]).toMatchObject({ network: 'onggi', interface: 'eth0' });
    // The same agent: not restarted to get there.
    expect(await lab.sandbox.daemonPid()).toBe(pid);
    const rules = lab.inMachine(['iptables', '-w', '-t', 'nat', '-S']).out;
    expect(rules).toContain('onggi');
  });
});
