import { describe, expect, it } from 'vitest';
import { byCodeUnits } from './code-unit-order.js';

describe('byCodeUnits', () => {
  it('orders as a sort without a comparator does: by UTF-16 code units, upper case before lower', () => {
    const names = ['b', 'a-b', 'B', 'a_b', 'a', 'a.b', '10', '9', 'a'];
    expect([...names].sort(byCodeUnits)).toEqual([...names].sort());
    expect(byCodeUnits('a', 'a')).toBe(0);
  });

  it('orders ISO timestamps by time, newest first when reversed (containers.list, images.list)', () => {
    const times = ['2026-12-07T11:00:00.000Z', '2026-12-07T09:59:59.999Z', '2027-01-01T00:00:00.000Z'];
    expect([...times].sort((a, b) => byCodeUnits(b, a))).toEqual([times[2], times[0], times[1]]);
  });
});
