// Case 9: a container writing BENCH_LOG_BYTES (default 1 GB) of numbered log lines as fast as it
// can, through the default rotation (10 MiB × 3), without and with a follower: bytes kept on
// disk, the agent's CPU, the supervisor's CPU (each from its own /proc/PID/stat), and lines lost —
// in the kept window without a follower, after the follow started with one (both must be 0).
// Run alone: `npm run bench -- 9-log` (or `npx vitest run --config bench/vitest.config.ts 9-log`).
import { execFileSync } from 'node:child_process';
import { open, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LogEntry } from '../../shared/containers.js';
import { IMAGE, startReliabilityAgent, type ReliabilityAgent } from '../../build/testing/reliability-agent.js';
import { loadNote, record, round } from '../harness.js';

const BYTES = Number(process.env.BENCH_LOG_BYTES ?? 1e9);
/** `N 000…0` lines: the number, a space, 100 zeros, a newline. */
const lineBytes = (n: number) => String(n).length + 102;
const LINES = (() => {
  let lines = 0;
  for (let total = 0; total < BYTES; lines += 1) total += lineBytes(lines + 1);
  return lines;
})();
const AWK = `awk 'BEGIN { pad = sprintf("%0100d", 0); for (i = 1; i <= ${LINES}; i++) print i, pad }'`;
const SCRIPT = `${AWK}; echo flood-done; exec sleep 100000`;

let agent: ReliabilityAgent;

beforeAll(async () => {
  agent = await startReliabilityAgent();
});
afterAll(async () => {
  await agent?.cleanup();
});

/** CPU time (user + system) of one process, in ms (clock ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function parentOf(pid: number): Promise<number> {
  return Number(/^PPid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

async function tailText(path: string, bytes = 4096): Promise<string> {
  // no log yet (or rotated away this instant): nothing to show
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return '';
  try {
    const size = (await file.stat()).size;
    const buffer = Buffer.alloc(Math.min(bytes, size));
    await file.read(buffer, 0, buffer.length, size - buffer.length);
    return buffer.toString('utf8');
  } finally {
    await file.close();
  }
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** Numbers of flood lines (other lines skipped), checked in order as they come: counts and gaps. */
function counter() {
  let last = 0;
  let seen = 0;
  let gaps = 0;
  let lost = 0;
  return {
    add(entries: readonly LogEntry[]) {
      for (const entry of entries) {
        const n = Number.parseInt(entry.log, 10);
        if (!Number.isInteger(n)) continue;
        if (last !== 0 && n !== last + 1) {
          gaps += 1;
          lost += Math.max(0, n - last - 1);
        }
        last = n;
        seen += 1;
      }
    },
    get result() {
      return { last, seen, gaps, lost };
    },
  };
}

async function flood(follow: boolean) {
  const { client } = agent;
  const daemonPid = agent.daemon.pid ?? 0;
  const { id } = await client.call('containers.create', { image: IMAGE, command: ['sh', '-c', SCRIPT], networks: ['none'] });
  const logDir = join(agent.sandbox.stateDir, 'containers', id, 'logs');
  const follower = counter();
  const streamId = `flood-${Date.now()}`;
  const agentBefore = await cpuMs(daemonPid);
  const started = performance.now();
  const { pid } = await client.call('containers.start', { container: id });
  const supervisor = await parentOf(pid ?? 0);
  const supervisorBefore = await cpuMs(supervisor);
  let following: Promise<unknown> | undefined;
  const drain = () => {
    const batch = client.notifications.splice(0);
    for (const { params } of batch) {
      const event = params as { type?: string; streamId?: string; entries?: LogEntry[] };
      if (event.type === 'container.log' && event.streamId === streamId) follower.add(event.entries ?? []);
    }
  };
  if (follow) following = client.call('containers.logs', { container: id, follow: true, streamId, tail: 0 });
  const done = await until(async () => {
    drain();
    return (await tailText(join(logDir, 'log.jsonl'))).includes('flood-done');
  }, 1_800_000);
  const wallMs = performance.now() - started;
  const agentMs = (await cpuMs(daemonPid)) - agentBefore;
  const supervisorMs = (await cpuMs(supervisor)) - supervisorBefore;
  let catchUpMs = 0;
  if (follow) {
    const from = performance.now();
    await until(() => {
      drain();
      return follower.result.last >= LINES;
    }, 300_000);
    catchUpMs = performance.now() - from;
  }
  let kept = 0;
  for (const file of await readdir(logDir)) kept += (await stat(join(logDir, file))).size;
  // The kept window as `onggi logs` reads it: streamed in batches (one answer of ~30 MB is too big a frame).
  const window = counter();
  const windowId = `${streamId}-window`;
  await client.call('containers.logs', { container: id, streamId: windowId });
  for (const { params } of client.notifications.splice(0)) {
    const event = params as { type?: string; streamId?: string; entries?: LogEntry[] };
    if (event.type === 'container.log' && event.streamId === windowId) window.add(event.entries ?? []);
  }
  await client.call('containers.remove', { container: id, force: true });
  // the follower ends with an error when its container is removed under it: expected here
  await following?.catch(() => undefined);
  return {
    done,
    wallMs,
    agentMs,
    supervisorMs,
    kept,
    window: window.result,
    follower: follower.result,
    catchUpMs,
  };
}

/**
 * What only writing the bytes costs: `cat` copying the same lines from a pipe to a file on the same
 * filesystem, its CPU from bash's `times` in the subshell that runs it (awk is not counted).
 */
async function copyCpuMs(): Promise<number> {
  const file = join(agent.sandbox.stateDir, 'copy-reference');
  try {
    const out = execFileSync('bash', ['-c', `${AWK} | { cat > "$1"; times; }`, 'bash', file], { encoding: 'utf8' });
    const seconds = [...(out.trim().split('\n')[1] ?? '').matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
    return seconds.reduce((sum, value) => sum + value, 0) * 1000;
  } finally {
    await rm(file, { force: true });
  }
}

it(`case 9: a container writing ${round(BYTES / 1e9, 2)} GB of log lines, with and without a follower`, async () => {
  const alone = await flood(false);
  const followed = await flood(true);
  const copyMs = await copyCpuMs();
  const percent = (ms: number, wall: number) => round((ms / wall) * 100, 1);
  const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
  record('9-log-flood', {
    title: `A container writing ${round(BYTES / 1e9, 2)} GB of log lines as fast as it can (rotation 10 MiB × 3)`,
    variants: {},
    extra: {
      'lines written': LINES,
      'without a follower: wall (s)': round(alone.wallMs / 1000, 1),
      'without a follower: agent CPU (% of a core)': percent(alone.agentMs, alone.wallMs),
      'without a follower: supervisor CPU (% of a core)': percent(alone.supervisorMs, alone.wallMs),
      'without a follower: supervisor CPU per GB (s)': round(alone.supervisorMs / (BYTES / 1e9) / 1000, 2),
      'reference, cat copying the same bytes from a pipe to a file: CPU per GB (s)': round(copyMs / (BYTES / 1e9) / 1000, 2),
      'without a follower: bytes kept on disk (MiB)': mb(alone.kept),
      'without a follower: lines lost in the kept window': alone.window.lost,
      'with a follower: wall (s)': round(followed.wallMs / 1000, 1),
      'with a follower: agent CPU (% of a core)': percent(followed.agentMs, followed.wallMs),
      'with a follower: supervisor CPU (% of a core)': percent(followed.supervisorMs, followed.wallMs),
      'with a follower: bytes kept on disk (MiB)': mb(followed.kept),
      'with a follower: lines it received / lost': `${followed.follower.seen} / ${followed.follower.lost}`,
      'with a follower: catching up after the flood ended (s)': round(followed.catchUpMs / 1000, 1),
      'with a follower: lines lost in the kept window': followed.window.lost,
    },
    notes: [
      loadNote(),
      'CPU is each process’s own utime + stime from /proc/PID/stat over the flood’s wall time (the agent daemon; the container’s supervisor)',
    ],
  });
  expect(alone.done && followed.done).toBe(true);
  expect(alone.window.last).toBe(LINES);
  expect(alone.window.lost).toBe(0);
  expect(followed.window.lost).toBe(0);
  expect(followed.follower.lost).toBe(0);
  expect(alone.kept).toBeLessThanOrEqual(3 * 10 * 2 ** 20 + 200);
}, 3_600_000);
