// Issue 14 items 3 and 5 end to end: the built `onggi` CLI against a real local agent (its own
// dirs and cgroup parent) and the real kernel. What a container may do is asked of the kernel from
// inside it (the operation works or is refused) and read back from /proc on the machine.
// --privileged is outside the escape suite on purpose: it gives the machine away by design.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessSecurity } from '../../shared/capabilities.js';
import { CLI, isolatedAgent, type IsolatedAgent } from '../../build/testing/isolated-agent.js';
import { useRegistryImages } from '../../build/testing/test-images.js';

let sandbox: IsolatedAgent;
const fixture = useRegistryImages();
let image = '';
/** A link type this kernel can make: dummy as the labs use, else bridge (this machine's kernel has no dummy driver). */
let linkType = 'dummy';

beforeAll(async () => {
  sandbox = await isolatedAgent();
  image = fixture.images.refs.busybox;
  const pull = onggi('image', 'pull', '--insecure', image);
  expect(pull.code, pull.err).toBe(0);
  const probe = spawnSync('unshare', ['--net', 'ip', 'link', 'add', 'd0', 'type', 'dummy'], { encoding: 'utf8' });
  if (probe.status !== 0) linkType = 'bridge';
}, 120_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

function onggi(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { env: sandbox.env, encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

/** `onggi run --rm [options] busybox sh -c script`. */
const runSh = (options: string[], script: string) => onggi('run', '--rm', ...options, image, 'sh', '-c', script);
const containerNames = () => (JSON.parse(onggi('ps', '-a', '--json').out) as Array<{ name: string }>).map((c) => c.name);

describe('capabilities, --privileged, --device and --sysctl', () => {
  it(`ip link add works with --cap-add NET_ADMIN and is refused without (link type from this kernel)`, () => {
    const script = `ip link add d0 type ${linkType} && ip link show d0`;
    const without = runSh([], script);
    expect(without.code).not.toBe(0);
    expect(without.err).toMatch(/Operation not permitted|permission denied/i);
    const withCap = runSh(['--cap-add', 'net_admin'], script);
    expect(withCap.err).toBe('');
    expect(withCap.code).toBe(0);
    expect(withCap.out).toContain('d0:');
  });

  it('mount -t tmpfs works with --privileged and is refused without', () => {
    const script = 'mkdir -p /mnt && mount -t tmpfs none /mnt && grep " /mnt tmpfs" /proc/mounts';
    const without = runSh([], script);
    expect(without.code).not.toBe(0);
    expect(without.err).toMatch(/permission denied|not permitted/i);
    const privileged = runSh(['--privileged'], script);
    expect(privileged.err).toBe('');
    expect(privileged.code).toBe(0);
    expect(privileged.out).toContain('none /mnt tmpfs');
  });

  it('--cap-drop ALL leaves CapEff 0; --cap-drop ALL --cap-add CHOWN leaves only CHOWN; Docker default otherwise', () => {
    const capEff = (...options: string[]) => {
      const run = runSh(options, 'grep -E "^Cap(Eff|Bnd):" /proc/self/status');
      expect(run.code, run.err).toBe(0);
      return run.out;
    };
    expect(capEff('--cap-drop', 'ALL')).toBe('CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n');
    expect(capEff('--cap-drop', 'all', '--cap-add', 'CAP_CHOWN')).toContain('CapEff:\t0000000000000001\n');
    expect(capEff()).toContain('CapEff:\t00000000a80425fb\n');
    // Docker's default less CHOWN plus NET_ADMIN (bit 12).
    // As Docker and runc set them for root: bounding = permitted = effective, inheritable and ambient empty.
    const sets = runSh(['--cap-add', 'NET_ADMIN'], 'grep -E "^Cap" /proc/self/status');
    const set = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(sets.out)?.[1];
    expect(set('CapInh')).toBe('0000000000000000');
    expect(set('CapAmb')).toBe('0000000000000000');
    expect(set('CapPrm')).toBe(set('CapEff'));
    expect(set('CapBnd')).toBe(set('CapEff'));
    expect(set('CapEff')).toBe((0xa80425fbn | (1n << 12n)).toString(16).padStart(16, '0'));
    expect(capEff('--cap-drop', 'chown', '--cap-add', 'NET_ADMIN')).toContain(
      `CapEff:\t${((0xa80425fbn & ~1n) | (1n << 12n)).toString(16).padStart(16, '0')}\n`,
    );
  });

  it('an unknown capability is refused by name and nothing is made', () => {
    const run = onggi('run', '--name', 'nocap', '--cap-add', 'NET_WIZARD', image, 'true');
    expect(run.code).not.toBe(0);
    expect(run.err).toContain('unknown capability "NET_WIZARD"');
    expect(containerNames()).not.toContain('nocap');
  });

  it("inspect's Security section is what /proc says of the container's process", () => {
    const started = onggi('run', '-d', '--name', 'sec', '--cap-add', 'SYS_PTRACE', image, 'sleep', '1000');
    expect(started.code, started.err).toBe(0);
    try {
      const detail = JSON.parse(onggi('inspect', 'sec').out) as { pid: number; security: ProcessSecurity };
      const status = readFileSync(`/proc/${detail.pid}/status`, 'utf8');
      const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1];
      const { security } = detail;
      expect(security.pid).toBe(detail.pid);
      expect(security.masks).toEqual({ effective: field('CapEff'), permitted: field('CapPrm'), bounding: field('CapBnd') });
      expect(security.effective).toContain('CAP_SYS_PTRACE');
      expect(security.effective).not.toContain('CAP_SYS_ADMIN');
      expect(security.bounding).toEqual(security.effective);
      expect(security.seccomp).toBe(['disabled', 'strict', 'filter'][Number(field('Seccomp'))]);
      expect(security.seccomp).toBe('filter');
      if (field('Seccomp_filters') !== undefined) expect(security.seccompFilters).toBe(Number(field('Seccomp_filters')));
      expect(security.noNewPrivs).toBe(field('NoNewPrivs') === '1');
      const map = (file: string) =>
        readFileSync(`/proc/${detail.pid}/${file}`, 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.trim().split(/\s+/).map(Number));
      expect(security.uidMap.map((m) => [m.inside, m.outside, m.count])).toEqual(map('uid_map'));
      expect(security.gidMap.map((m) => [m.inside, m.outside, m.count])).toEqual(map('gid_map'));
    } finally {
      onggi('rm', '-f', 'sec');
    }
  });

  it('--privileged: every capability, no seccomp, /sys writable, the machine devices, marked in ps', () => {
    const started = onggi('run', '-d', '--name', 'priv', '--privileged', image, 'sleep', '1000');
    expect(started.code, started.err).toBe(0);
    try {
      const detail = JSON.parse(onggi('inspect', 'priv').out) as { pid: number; security: ProcessSecurity };
      expect(detail.security.seccomp).toBe('disabled');
      expect(detail.security.effective).toContain('CAP_SYS_ADMIN');
      expect(detail.security.masks.bounding).toBe(readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s*(\S+)/m)?.[1]);
      const ps = JSON.parse(onggi('ps', '--json').out) as Array<{ name: string; privileged?: boolean }>;
      expect(ps.find((c) => c.name === 'priv')?.privileged).toBe(true);
      const inside = onggi(
        'exec',
        'priv',
        'sh',
        '-c',
        'grep " /sys " /proc/mounts; ls /dev; cat /proc/kcore >/dev/null 2>&1; echo kcore=$?',
      );
      expect(inside.code, inside.err).toBe(0);
      expect(inside.out).toMatch(/ \/sys sysfs rw,/);
      // A device of the machine the default set does not give (one /dev of this machine has).
      const machineOnly = ['loop-control', 'kmsg', 'fuse', 'mem'].find((name) => spawnSync('test', ['-c', `/dev/${name}`]).status === 0);
      if (machineOnly) expect(inside.out.split('\n')).toContain(machineOnly);
      // Its devices cgroup allows every device: one outside Docker's rules opens.
      if (machineOnly === 'loop-control') {
        const open = onggi('exec', 'priv', 'sh', '-c', ': < /dev/loop-control && echo opened');
        expect(open.out, open.err).toBe('opened\n');
      }
    } finally {
      onggi('rm', '-f', 'priv');
    }
  });

  it('--device /dev/null:/dev/mynull makes a working node; a device the machine lacks is refused clearly', () => {
    const run = runSh(['--device', '/dev/null:/dev/mynull'], 'echo x > /dev/mynull && ls -l /dev/mynull');
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/^crw-rw-rw-\s.*\s1,\s+3\s.*\/dev\/mynull$/m);
    // The devices cgroup: a node of a device outside Docker's defaults can be made (mknod is
    // allowed) but not opened, unless --device allowed it (loop-control: 10:237, on this machine).
    if (spawnSync('test', ['-c', '/dev/loop-control']).status === 0) {
      const denied = runSh([], 'mknod /dev/lc c 10 237 && : < /dev/lc');
      expect(denied.code).not.toBe(0);
      expect(denied.err).toMatch(/not permitted/i);
      const allowed = runSh(['--device', '/dev/loop-control:/dev/lc:r'], ': < /dev/lc');
      expect(allowed.code, allowed.err).toBe(0);
    }
    const missing = onggi('run', '--name', 'nodev', '--device', '/dev/onggi-no-such-device', image, 'true');
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain('there is no device /dev/onggi-no-such-device on this machine');
    expect(containerNames()).not.toContain('nodev');
  });

  it('--sysctl net.ipv4.ip_forward=1 is set in the container netns only; kernel.panic is refused by name', () => {
    const machine = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    const run = runSh(['--sysctl', 'net.ipv4.ip_forward=1'], 'cat /proc/sys/net/ipv4/ip_forward');
    expect(run.code, run.err).toBe(0);
    expect(run.out).toBe('1\n');
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(machine);
    const refused = onggi('run', '--name', 'panic', '--sysctl', 'kernel.panic=1', image, 'true');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('sysctl kernel.panic is not namespaced');
    expect(containerNames()).not.toContain('panic');
  });
});
