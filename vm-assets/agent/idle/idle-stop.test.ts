// The idle decision of auto-stop: what counts as activity, when the warning and the shutdown come.
// The shutdown argv is handed to a recorder here; the real one is never run in tests.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdleStop, SHUTDOWN_ARGV, countLoopbackConnections, idleDecision, type IdleSample } from './idle-stop.js';

const MINUTE = 60_000;
const sample = (at: number, cpu: Record<string, number> = {}, terminals = 0, forwards = 0): IdleSample => ({
  at,
  containerCpuNs: new Map(Object.entries(cpu)),
  terminals,
  forwards,
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-idle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('idle decision', () => {
  it('counts terminals, forwards, a container starting or using CPU as activity; a container idling is not', () => {
    const start = sample(0, { a: 1_000 });
    expect(idleDecision(undefined, sample(MINUTE, {}, 1), 0, 30 * MINUTE)).toMatchObject({ lastActiveAt: MINUTE, action: 'none' });
    expect(idleDecision(undefined, sample(MINUTE, {}, 0, 2), 0, 30 * MINUTE).busy).toMatch(/2 forwarded/);
    expect(idleDecision(start, sample(MINUTE, { a: 1_000, b: 5 }), 0, 30 * MINUTE).busy).toMatch(/container b started/);
    // 10 % of a CPU for a minute: working.
    expect(idleDecision(start, sample(MINUTE, { a: 1_000 + 6e9 }), 0, 30 * MINUTE).busy).toMatch(/container a is working/);
    // 0.1 % of a CPU: idle.
    expect(idleDecision(start, sample(MINUTE, { a: 1_000 + 6e7 }), 0, 30 * MINUTE)).toEqual({
      lastActiveAt: 0,
      action: 'none',
      remainingMs: 29 * MINUTE,
    });
  });

  it('warns in the last five minutes, shuts down at the timeout, never with 0 minutes', () => {
    expect(idleDecision(sample(0), sample(24 * MINUTE), 0, 30 * MINUTE).action).toBe('none');
    expect(idleDecision(sample(0), sample(26 * MINUTE), 0, 30 * MINUTE)).toMatchObject({ action: 'warn', remainingMs: 4 * MINUTE });
    expect(idleDecision(sample(0), sample(30 * MINUTE), 0, 30 * MINUTE)).toMatchObject({ action: 'shutdown', remainingMs: 0 });
    expect(idleDecision(sample(0), sample(31 * MINUTE, {}, 1), 0, 30 * MINUTE).action).toBe('none');
    expect(idleDecision(sample(0), sample(999 * MINUTE), 0, 0).action).toBe('none');
  });

  it('counts established loopback connections once per connection', () => {
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
    const v4 = [
      header,
      '   0: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 1 1',
      '   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2 1',
      '   2: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1',
      '   3: 0A00020F:0016 0A000202:C350 01 00000000:00000000 00:00000000 00000000     0        0 4 1',
    ].join('\n');
    expect(countLoopbackConnections([v4, header])).toBe(1);
  });

  it('keeps the setting in the state dir and hands the shutdown argv over once', async () => {
    let now = 0;
    const ran: (readonly string[])[] = [];
    const warnings: number[] = [];
    const options = {
      stateDir: dir,
      containerCpu: () => Promise.resolve(new Map<string, number>()),
      onWarn: (minutes: number) => warnings.push(minutes),
      log: () => undefined,
      run: (argv: readonly string[]) => ran.push(argv),
      now: () => now,
      probeTerminals: () => Promise.resolve(0),
      probeForwards: () => Promise.resolve(0),
    };
    const idle = new IdleStop(options);
    await idle.configure(10);
    expect(JSON.parse(await readFile(join(dir, 'idle-stop.json'), 'utf8'))).toEqual({ minutes: 10 });
    now = 7 * MINUTE;
    await idle.tick();
    expect(warnings).toEqual([3]);
    now = 10 * MINUTE;
    await idle.tick();
    now = 11 * MINUTE;
    await idle.tick();
    expect(ran).toEqual([SHUTDOWN_ARGV]);
    expect(SHUTDOWN_ARGV).toEqual(['shutdown', '-h', 'now']);
    // A new agent reads the stored setting back.
    const again = new IdleStop(options);
    await again.start(3_600_000);
    again.stop();
    expect(again.minutes).toBe(10);
    await expect(idle.configure(-1)).rejects.toThrow();
  });
});
