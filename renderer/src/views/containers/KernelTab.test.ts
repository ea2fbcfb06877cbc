import { describe, expect, it } from 'vitest';
import { compareNamespace, INITIAL_NAMESPACE_INODES } from './KernelTab';

const reference = {
  machine: { net: 4026531840, mnt: 4026531841, uts: 4026531838 },
  machineFrom: 'init' as const,
  // A nested agent: its own network and mounts, the machine's uts.
  agent: { net: 4026532500, mnt: 4026532501, uts: 4026531838 },
};

describe('compareNamespace', () => {
  it('compares every kind, mnt and net included, with the machine’s namespaces the agent reports', () => {
    expect(compareNamespace('net', 4026531840, reference)).toBe('shared');
    expect(compareNamespace('mnt', 4026539999, reference)).toBe('own');
    expect(compareNamespace('uts', 4026531838, reference)).toBe('shared');
  });

  it('names the agent’s namespace where the container shares it and the agent is not in the machine’s', () => {
    expect(compareNamespace('net', 4026532500, reference)).toBe('agent');
  });

  it('a kind the agent did not report cannot be compared', () => {
    expect(compareNamespace('time', 4026531834, reference)).toBe('unknown');
  });

  it('an older agent (no report): the initial-namespace constants, and no answer for mnt and net', () => {
    expect(compareNamespace('uts', INITIAL_NAMESPACE_INODES.uts ?? 0)).toBe('shared');
    expect(compareNamespace('net', 4026531840)).toBe('unknown');
  });
});
