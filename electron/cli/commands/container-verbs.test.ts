import { describe, expect, it } from 'vitest';
import type { ContainerSummary } from '../../../shared/containers.js';
import { containerStatus } from '../../../shared/container-status.js';
import { containerPath, resourceRunSpec } from './container-verbs.js';

const running: ContainerSummary = {
  id: 'a'.repeat(64),
  name: 'web',
  image: 'busybox',
  imageId: `sha256:${'b'.repeat(64)}`,
  command: ['sh'],
  state: 'running',
  pid: 10,
  exitCode: null,
  oomKilled: false,
  error: null,
  createdAt: new Date().toISOString(),
  startedAt: new Date().toISOString(),
  finishedAt: null,
};

describe('container verbs in the CLI', () => {
  it("shows pause and health in ps's STATUS as Docker does", () => {
    expect(containerStatus({ ...running, paused: true })).toMatch(/^Up \d+ seconds \(Paused\)$/);
    expect(containerStatus({ ...running, health: { status: 'healthy', failingStreak: 0, log: [] } })).toMatch(/\(healthy\)$/);
    expect(containerStatus({ ...running, health: { status: 'starting', failingStreak: 0, log: [] } })).toMatch(/\(health: starting\)$/);
  });

  it('tells CONTAINER:PATH from a local path', () => {
    expect(containerPath('web:/etc/passwd')).toEqual({ container: 'web', path: '/etc/passwd' });
    expect(containerPath('web:')).toEqual({ container: 'web', path: '/' });
    expect(containerPath('./web:x')).toBeUndefined();
    expect(containerPath('/tmp/a:b')).toBeUndefined();
    expect(containerPath('file.txt')).toBeUndefined();
  });

  it('turns the run options into spec fields', () => {
    expect(
      resourceRunSpec({
        cpusetCpus: '0-1',
        cpuShares: 512,
        deviceReadBps: [{ path: '/dev/sda', rate: '1mb' }],
        healthCmd: 'true',
        healthRetries: 2,
      }),
    ).toEqual({
      limits: { cpusetCpus: '0-1', cpuShares: 512, deviceReadBps: [{ path: '/dev/sda', rate: '1mb' }] },
      healthcheck: { test: ['CMD-SHELL', 'true'], retries: 2 },
    });
    expect(resourceRunSpec({ healthcheck: false })).toEqual({ limits: {}, healthcheck: { test: ['NONE'] } });
    expect(() => resourceRunSpec({ healthcheck: false, healthCmd: 'true' })).toThrow(/conflicts/);
  });
});
