// `ip -force -batch` runs independent lines in one process: a line that fails fails for its own
// scope alone, named with what iproute2 said about it, and every line is in the activity log as
// the command it equals. The lines only read (link show), so the machine is not changed.
import { describe, expect, it } from 'vitest';
import { ActivityLog } from '../activity/activity-log.js';
import { runIpBatchEach } from './commands.js';

describe('runIpBatchEach', () => {
  it('fails a failing line alone, saying why, and records every line', async () => {
    const activity = new ActivityLog();
    const missing = `onggi-nx${process.pid}`;
    const errors = await runIpBatchEach(activity, [
      { line: ['link', 'show', 'dev', 'lo'], scope: { container: 'a' } },
      { line: ['link', 'show', 'dev', missing], scope: { container: 'b' } },
      { line: ['link', 'show', 'dev', 'lo'], scope: { container: 'c' } },
    ]);
    expect(errors[0]).toBeUndefined();
    expect(errors[1]?.message).toMatch(new RegExp(`ip link show dev ${missing}.*does not exist`, 's'));
    expect(errors[2]).toBeUndefined();
    expect(activity.list().map((entry) => [entry.argv?.join(' '), entry.container, entry.ok])).toEqual([
      ['ip link show dev lo', 'a', true],
      [`ip link show dev ${missing}`, 'b', false],
      ['ip link show dev lo', 'c', true],
    ]);
  });
});
