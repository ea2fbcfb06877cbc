// Case 15: a shared desktop folder on the loopback SSH machine (reverse SFTP into sshfs, see
// electron/core/shares/) against the machine's own disk, side by side in one run: sequential
// write and read of 256 MiB, creating 5,000 small files and reading them back, `stat` of a
// 20,000-file tree (a `git status`-like storm); and the raw SSH link (256 MiB through an exec
// channel each way), the ceiling sequential transfers are measured against.
//
// Every operation runs on the machine, timed from the desktop around one exec (a few ms of
// round trip, the same for both sides). The native reads come from the machine's page cache (the
// bench does not drop a shared machine's caches); the share's cannot (FUSE drops them on open).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sshMachine } from '../../build/testing/host-machines.js';
import { startLoopbackMachine, type LoopbackMachine } from '../../build/testing/loopback-machine.js';
import type { HostCore } from '../../electron/core/host-core.js';
import { shellCommand } from '../../electron/core/machines/ssh/quote.js';
import type { ShareResolution } from '../../shared/shares.js';
import { loadNote, record, round, stats, type Stats } from '../harness.js';

const RUNS = Number(process.env.BENCH_SHARE_RUNS ?? 3);
const MIB = 256;
let machine: LoopbackMachine | undefined;
let core: HostCore | undefined;
let root = '';

beforeAll(async () => {
  machine = await startLoopbackMachine({ prefix: 'onggi-bench-share-' });
  ({ core, root } = machine);
}, 600_000);

afterAll(async () => {
  const runDir = machine?.remote.runDir;
  await machine?.stop(() =>
    run(['sh', '-c', 'for m in "$1"/shares/*; do fusermount3 -u -z "$m" 2>/dev/null; done; true', 'sh', runDir ?? '/nonexistent']),
  );
}, 120_000);

async function run(argv: string[]): Promise<string> {
  if (!core) throw new Error('no host core');
  const connection = await sshMachine(core, 'box').sshConnection();
  const result = await connection.exec(shellCommand(argv), { timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function timed(argv: string[]): Promise<number> {
  const started = performance.now();
  await run(argv);
  return performance.now() - started;
}

const ops = {
  write: (dir: string) => ['dd', 'if=/dev/zero', `of=${dir}/big`, 'bs=1M', `count=${MIB}`, 'conv=fsync', 'status=none'],
  read: (dir: string) => ['dd', `if=${dir}/big`, 'of=/dev/null', 'bs=1M', 'status=none'],
  create: (dir: string) => [
    'sh',
    '-c',
    'mkdir -p "$1/small" && cd "$1/small" && i=0; while [ $i -lt 5000 ]; do echo x > f$i; i=$((i+1)); done',
    'sh',
    dir,
  ],
  readBack: (dir: string) => ['sh', '-c', 'cat "$1"/small/* > /dev/null', 'sh', dir],
  stat: (dir: string) => ['find', `${dir}/tree`, '-printf', '%s\\n'],
  clean: (dir: string) => ['rm', '-rf', `${dir}/big`, `${dir}/small`],
};

/** The 20,000-file tree (200 folders of 100), made directly on the side it is read from. */
async function makeTree(desktopDir: string, machineDir: string): Promise<void> {
  for (let d = 0; d < 200; d += 1) {
    await mkdir(join(desktopDir, 'tree', `d${d}`), { recursive: true });
    await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(desktopDir, 'tree', `d${d}`, `f${f}`), 'x')));
  }
  await run([
    'sh',
    '-c',
    'cd "$1" && mkdir tree && cd tree && for d in $(seq 0 199); do mkdir d$d; (cd d$d && touch $(seq -f f%g 0 99)); done',
    'sh',
    machineDir,
  ]);
}

it('case 15: a shared desktop folder vs the machine’s own disk, and the raw SSH link', async () => {
  if (!core) throw new Error('no host core');
  const desktop = join(root, 'desktop');
  await mkdir(desktop, { recursive: true });
  await core.call('machines.share', { machine: 'box', path: desktop });
  const share = (await core.call('machines.resolveShare', { machine: 'box', path: desktop })) as ShareResolution;
  const native = join(root, 'machine-disk');
  await run(['mkdir', '-p', native]);
  await makeTree(desktop, native);

  // The raw link: 256 MiB through one exec channel, desktop → machine and back.
  const connection = await sshMachine(core, 'box').sshConnection();
  const linkUp = async (): Promise<number> => {
    const channel = await connection.execChannel(shellCommand(['sh', '-c', 'cat > /dev/null']));
    const chunk = Buffer.alloc(1 << 20);
    const started = performance.now();
    for (let i = 0; i < MIB; i += 1) if (!channel.write(chunk)) await new Promise((resolve) => channel.once('drain', resolve));
    channel.end();
    await new Promise((resolve) => channel.once('close', resolve));
    return performance.now() - started;
  };
  const linkDown = async (): Promise<number> => {
    const channel = await connection.execChannel(shellCommand(['head', '-c', `${MIB}M`, '/dev/zero']));
    const started = performance.now();
    let bytes = 0;
    channel.on('data', (data: Buffer) => (bytes += data.length));
    channel.end();
    await new Promise((resolve) => channel.once('close', resolve));
    expect(bytes).toBe(MIB << 20);
    return performance.now() - started;
  };

  const samples: Record<string, number[]> = {};
  const add = (name: string, ms: number) => (samples[name] ??= []).push(ms);
  for (let i = 0; i < RUNS; i += 1) {
    add('link desktop→machine', await linkUp());
    add('link machine→desktop', await linkDown());
    // Alternate which side goes first, round by round.
    const sides: Array<[string, string]> =
      i % 2 === 0
        ? [
            ['share', share.machinePath],
            ['native', native],
          ]
        : [
            ['native', native],
            ['share', share.machinePath],
          ];
    for (const [side, dir] of sides) {
      add(`${side}: write 256 MiB`, await timed(ops.write(dir)));
      add(`${side}: read 256 MiB`, await timed(ops.read(dir)));
      add(`${side}: create 5,000 files`, await timed(ops.create(dir)));
      add(`${side}: read 5,000 files`, await timed(ops.readBack(dir)));
      add(`${side}: stat 20,000 files`, await timed(ops.stat(dir)));
      await run(ops.clean(dir));
    }
  }
  const variants: Record<string, Stats> = Object.fromEntries(Object.entries(samples).map(([name, ms]) => [name, stats(ms)]));
  const median = (name: string) => variants[name]?.median ?? NaN;
  const mbps = (name: string) => round(MIB / (median(name) / 1000), 1);
  record('15-shares', {
    title: 'A shared desktop folder (reverse SFTP → sshfs) vs the machine’s own disk, loopback SSH machine',
    variants,
    extra: {
      'link desktop→machine MB/s': mbps('link desktop→machine'),
      'link machine→desktop MB/s': mbps('link machine→desktop'),
      'share write MB/s': mbps('share: write 256 MiB'),
      'share read MB/s': mbps('share: read 256 MiB'),
      // A write on the share carries data machine → desktop; a read, desktop → machine.
      'share write / link': round(median('link machine→desktop') / median('share: write 256 MiB')),
      'share read / link': round(median('link desktop→machine') / median('share: read 256 MiB')),
      'stat storm share / native': round(median('share: stat 20,000 files') / median('native: stat 20,000 files')),
      'create share / native': round(median('share: create 5,000 files') / median('native: create 5,000 files')),
    },
    notes: [loadNote(), 'native reads come from the machine’s page cache; the share’s go over SFTP every time'],
  });
}, 1_800_000);
