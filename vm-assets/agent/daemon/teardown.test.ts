// A teardown's failed steps are logged, once, and do not stop the steps after them.
import { describe, expect, it } from 'vitest';
import type { Logger } from './logger.js';
import { Teardown } from './teardown.js';

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, info: () => {}, debug: () => {}, error: (message) => errors.push(message) };
}

describe('Teardown', () => {
  it('runs every step, returns the fallback for a failed one, and logs the failures in one line', async () => {
    const log = recordingLogger();
    const teardown = new Teardown(log, 'container web: releasing its resources');
    const ran: string[] = [];
    expect(await teardown.step('network teardown', () => Promise.reject(new Error('veth busy')), 'fallback')).toBe('fallback');
    expect(await teardown.step('cgroup removal', () => (ran.push('cgroup'), 'ok'), 'fallback')).toBe('ok');
    await teardown.step('record', () => Promise.reject(new Error('EIO')), undefined);
    teardown.report();
    expect(ran).toEqual(['cgroup']);
    expect(log.errors).toEqual(['container web: releasing its resources: 2 step(s) failed: network teardown: veth busy; record: EIO']);
  });

  it('logs nothing when every step succeeded', async () => {
    const log = recordingLogger();
    const teardown = new Teardown(log, 'x');
    await teardown.step('a', async () => 1, 0);
    teardown.report();
    expect(log.errors).toEqual([]);
  });
});
