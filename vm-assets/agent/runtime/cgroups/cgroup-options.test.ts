// The finer options, update and freeze on cgroup v2, against a directory tree shaped like cgroupfs
// (this host cannot mount a pure cgroup2 with cpu/memory/pids; the QEMU guest runs them for real).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ActivityLog } from '../../activity/activity-log.js';
import { CgroupV2Driver, cpuWeight, ioWeight } from './cgroup-v2.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fakeTree(controllers = 'cpuset cpu io memory pids'): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'onggi-cg2-opts-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  await writeFile(join(root, 'cgroup.controllers'), `${controllers}\n`);
  await writeFile(join(root, 'cgroup.subtree_control'), '');
  await writeFile(join(root, 'cpuset.cpus.effective'), '0-3\n');
  return root;
}

/** The files the kernel makes with a cgroup directory, as the fake tree must be given them. */
async function kernelFiles(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, value] of Object.entries(files)) await writeFile(join(dir, name), value);
}

describe('cgroup v2 options (fake tree)', () => {
  it('maps cpuset, cpu-shares, memory-swap, blkio-weight and device rates onto the v2 files', async () => {
    const root = await fakeTree();
    const activity = new ActivityLog();
    const driver = new CgroupV2Driver(root, 'onggi', activity);
    const dir = join(root, 'onggi', 'a');
    await kernelFiles(dir, { 'memory.swap.max': 'max' });
    await driver.create(
      'a',
      {
        memory: 64 * 1024 * 1024,
        memorySwap: 96 * 1024 * 1024,
        cpuShares: 512,
        cpusetCpus: '1-2',
        blkioWeight: 500,
        deviceReadBps: [{ device: '254:0', rate: 1048576 }],
        deviceWriteBps: [{ device: '254:0', rate: 2048 }],
      },
      {},
    );
    const read = (file: string) => readFile(join(dir, file), 'utf8');
    expect(await read('memory.max')).toBe(String(64 * 1024 * 1024));
    expect(await read('memory.swap.max')).toBe(String(32 * 1024 * 1024));
    expect(await read('cpu.weight')).toBe(String(cpuWeight(512)));
    expect(cpuWeight(1024)).toBe(39);
    expect(await read('cpuset.cpus')).toBe('1-2');
    expect(await read('io.weight')).toBe(`default ${ioWeight(500)}`);
    expect(ioWeight(10)).toBe(1);
    expect(ioWeight(1000)).toBe(10000);
    // io.max takes one device setting per write: both reached the file, one write each.
    const ioWrites = activity.list().filter((e) => e.kind === 'write' && e.path === join(dir, 'io.max'));
    expect(ioWrites.map((e) => e.value)).toEqual(['254:0 rbps=1048576', '254:0 wbps=2048']);
    // cpuset and io were offered by the root, so they are enabled down the tree.
    const enabled = activity.list().filter((e) => e.kind === 'write' && e.path === join(root, 'onggi', 'cgroup.subtree_control'));
    expect(enabled.map((e) => e.value)).toEqual(['+cpu', '+memory', '+pids', '+cpuset', '+io']);
  });

  it('uses io.bfq.weight where BFQ offers it; -1 memory-swap is unlimited swap', async () => {
    const root = await fakeTree();
    const driver = new CgroupV2Driver(root, 'onggi', new ActivityLog());
    const dir = join(root, 'onggi', 'b');
    await kernelFiles(dir, { 'memory.swap.max': 'max', 'io.bfq.weight': 'default 100' });
    await driver.create('b', { memory: 1 << 26, memorySwap: -1, blkioWeight: 300 }, {});
    expect(await readFile(join(dir, 'io.bfq.weight'), 'utf8')).toBe('300');
    expect(await readFile(join(dir, 'memory.swap.max'), 'utf8')).toBe('max');
  });

  it('refuses options the machine does not offer, naming them', async () => {
    const root = await fakeTree('cpu memory pids');
    const driver = new CgroupV2Driver(root, 'onggi', new ActivityLog());
    expect(driver.unsupported({ cpusetCpus: '0' })?.field).toBe('cpusetCpus');
    expect(driver.unsupported({ blkioWeight: 100 })?.field).toBe('blkioWeight');
    expect(driver.unsupported({ deviceWriteBps: [{ device: '8:0', rate: 1 }] })?.field).toBe('deviceWriteBps');
    const full = new CgroupV2Driver(await fakeTree(), 'onggi', new ActivityLog());
    expect(full.unsupported({ cpusetCpus: '0-3', blkioWeight: 100 })).toBeUndefined();
    expect(full.unsupported({ cpusetCpus: '2-5' })).toMatchObject({ field: 'cpusetCpus', message: expect.stringContaining('CPU 4, 5') });
  });

  it('update rewrites cpu.max, memory.max (with swap) and pids.max', async () => {
    const root = await fakeTree();
    const driver = new CgroupV2Driver(root, 'onggi', new ActivityLog());
    const dir = join(root, 'onggi', 'c');
    await kernelFiles(dir, { 'memory.swap.max': 'max' });
    await driver.create('c', { cpus: 0.5, memory: 1 << 26, pids: 10 }, {});
    const written = await driver.update('c', { cpus: 2, memory: 1 << 27, pids: 50 }, { cpus: 0.5, memory: 1 << 26, pids: 10 }, {});
    expect(await readFile(join(dir, 'cpu.max'), 'utf8')).toBe('200000 100000');
    expect(await readFile(join(dir, 'memory.max'), 'utf8')).toBe(String(1 << 27));
    expect(await readFile(join(dir, 'memory.swap.max'), 'utf8')).toBe('0');
    expect(await readFile(join(dir, 'pids.max'), 'utf8')).toBe('50');
    expect(Object.keys(written).map((file) => file.slice(dir.length + 1))).toEqual([
      'cpu.max',
      'memory.max',
      'memory.swap.max',
      'pids.max',
    ]);
  });

  it('freeze writes cgroup.freeze and waits for cgroup.events to say frozen', async () => {
    const root = await fakeTree();
    const driver = new CgroupV2Driver(root, 'onggi', new ActivityLog());
    const dir = join(root, 'onggi', 'd');
    await kernelFiles(dir, { 'cgroup.events': 'populated 1\nfrozen 0\n' });
    const freezing = driver.freeze('d', true, {});
    let settled = false;
    void freezing.then(() => (settled = true));
    // The kernel flips cgroup.events once every task has stopped; the fake tree does it by hand.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    expect(await readFile(join(dir, 'cgroup.freeze'), 'utf8')).toBe('1');
    await writeFile(join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n');
    await freezing;
    await writeFile(join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    await driver.freeze('d', false, {});
    expect(await readFile(join(dir, 'cgroup.freeze'), 'utf8')).toBe('0');
  });
});
