import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../shared/containers.js';
import { ResumePoint } from './log-follow.js';

const entry = (time: string, log: string, stream: LogEntry['stream'] = 'stdout'): LogEntry => ({ time, stream, log });

describe('following a log again after a lost link', () => {
  it('skips exactly the lines already printed at the last time, keeps the new ones at that same time', () => {
    const point = new ResumePoint();
    expect(point.since).toBeUndefined();
    const first = [entry('t1', 'a\n'), entry('t2', 'b\n'), entry('t2', 'b\n', 'stderr'), entry('t2', 'c\n')];
    expect(point.take(first)).toEqual(first);
    expect(point.since).toBe('t2');
    point.resume();
    // The agent answers everything since t2 again: b, b (stderr), c were printed; a second c and d are new.
    const again = [entry('t2', 'b\n'), entry('t2', 'b\n', 'stderr'), entry('t2', 'c\n'), entry('t2', 'c\n'), entry('t3', 'd\n')];
    expect(point.take(again)).toEqual([entry('t2', 'c\n'), entry('t3', 'd\n')]);
    expect(point.since).toBe('t3');
  });

  it('without a resume nothing is skipped (identical lines in a row are real lines)', () => {
    const point = new ResumePoint();
    const same = [entry('t1', 'x\n'), entry('t1', 'x\n')];
    expect(point.take(same)).toEqual(same);
    expect(point.take([entry('t1', 'x\n')])).toEqual([entry('t1', 'x\n')]);
  });

  it('a resumed stream that starts with another line stops skipping', () => {
    const point = new ResumePoint();
    point.take([entry('t1', 'a\n'), entry('t1', 'b\n')]);
    point.resume();
    expect(point.take([entry('t1', 'z\n'), entry('t1', 'b\n')])).toEqual([entry('t1', 'z\n'), entry('t1', 'b\n')]);
  });
});
