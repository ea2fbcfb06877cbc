import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../../../build/testing/until.js';
import { ActivityLog } from './activity-log.js';

describe('the activity journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'onggi-activity-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds every entry, in the order recorded, once flushed — entries recorded in bursts and while a write is under way', async () => {
    const journal = join(dir, 'activity.jsonl');
    const log = new ActivityLog(journal);
    const recorded: number[] = [];
    for (let burst = 0; burst < 20; burst += 1) {
      for (let i = 0; i < 50; i += 1)
        recorded.push(log.record({ kind: 'write', path: `/sys/fs/cgroup/x${burst}`, value: String(i), ok: true, durationMs: 0 }).id);
      // Let the write of the previous burst get under way before the next one comes.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await log.flushed();
    const lines = (await readFile(journal, 'utf8')).trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { id: number }).id)).toEqual(recorded);
    expect(recorded).toHaveLength(1000);
  });

  it('lands entries in the journal in the order they were recorded, however many come at once', async () => {
    const journal = join(dir, 'activity.jsonl');
    const log = new ActivityLog(journal);
    const recorded = Array.from(
      { length: 2000 },
      (_, i) => log.record({ kind: 'command', argv: ['mkdir', '-p', `/x/${i}`], ok: true, durationMs: 0 }).id,
    );
    // Read as a reader after a crash would: whatever the file holds once all of it is there.
    const lines = await until(
      async () => (await readFile(journal, 'utf8').catch(() => '')).split('\n').filter(Boolean),
      (read) => read.length >= recorded.length,
      'every entry in the journal',
    );
    expect(lines.map((line) => (JSON.parse(line) as { id: number }).id)).toEqual(recorded);
  });
});

describe('the recent entries', () => {
  it('lists the newest 5,000 however many were recorded, and a container filter within them', () => {
    const log = new ActivityLog();
    for (let i = 1; i <= 7_321; i += 1)
      log.record({ kind: 'command', argv: ['true'], ok: true, durationMs: 0, container: i % 2 === 0 ? 'even' : undefined });
    const all = log.list({ limit: 10_000 });
    expect(all).toHaveLength(5_000);
    expect(all[0]?.id).toBe(2_322);
    expect(all.at(-1)?.id).toBe(7_321);
    expect(all[1]).not.toHaveProperty('container'); // 2,323: recorded with an undefined container, kept without one
    const even = log.list({ container: 'even', limit: 10_000 });
    expect(even).toHaveLength(2_500);
    expect(even[0]?.id).toBe(2_322);
    expect(log.list()).toHaveLength(500);
  });
});
