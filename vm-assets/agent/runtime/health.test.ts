// Healthchecks run for real: an exec into a busybox container on a timer, its status moving
// starting → healthy → unhealthy; the image's HEALTHCHECK and --no-healthcheck.
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerSpec, type ContainerSpecInput } from '../../../shared/containers.js';
import { HealthConfig } from '../../../shared/health.js';
import { inProcessRuntime } from '../../../build/testing/in-process-runtime.js';
import { makeBusyboxLayer } from '../../../build/testing/busybox-layer.js';
import { removeCgroupParent, testCgroupParent } from '../../../build/testing/cgroup-sandbox.js';
import { unmountUnder } from '../../../build/testing/mounts.js';
import { toImageConfig } from '../images/manifest.js';
import type { ContainerRuntime } from './container-runtime.js';
import { effectiveHealthcheck, nextHealth } from './health.js';
import { until } from '../../../build/testing/until.js';

const IMAGE_ID = `sha256:${'d'.repeat(64)}`;
let root: string;
let layer: string;
let parent: string;
let runtime: ContainerRuntime;
/** Runs with an image whose HEALTHCHECK is `CMD true` every 50 ms. */
let imageRuntime: ContainerRuntime;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-health-'));
  layer = await makeBusyboxLayer(join(root, 'layer'));
  parent = testCgroupParent();
  runtime = await inProcessRuntime({ root: join(root, 'a'), layer, cgroupParent: parent, imageName: 'busybox:test', imageId: IMAGE_ID });
  imageRuntime = await inProcessRuntime({
    root: join(root, 'b'),
    layer,
    cgroupParent: parent,
    imageName: 'busybox:health',
    imageId: IMAGE_ID,
    extra: {
      images: {
        resolve: async () => ({
          id: IMAGE_ID,
          names: ['busybox:health'],
          config: {
            env: [],
            entrypoint: null,
            cmd: ['sleep', '1000'],
            workingDir: '',
            user: '',
            labels: {},
            exposedPorts: [],
            healthcheck: { test: ['CMD', 'true'], intervalMs: 50 },
          },
          layerDirs: [layer],
        }),
      },
    },
  });
});

afterAll(async () => {
  await runtime.close();
  await imageRuntime.close();
  await removeCgroupParent(parent);
  unmountUnder(root);
  await rm(root, { recursive: true, force: true });
});

async function started(on: ContainerRuntime, spec: Partial<ContainerSpecInput>): Promise<string> {
  const { id } = await on.create(ContainerSpec.parse({ image: 'busybox:test', ...spec }));
  await on.start(id);
  return id;
}

describe('healthchecks (real kernel)', () => {
  it('goes starting → healthy, and unhealthy after retries once the check fails', async () => {
    const id = await started(runtime, {
      command: ['sh', '-c', 'touch /tmp/ready; exec sleep 1000'],
      healthcheck: { test: ['CMD-SHELL', 'test -f /tmp/ready && echo ok'], intervalMs: 50, retries: 2, timeoutMs: 5000 },
    });
    const summary = () => runtime.list(true).find((c) => c.id === id);
    expect(summary()?.health?.status).toBe('starting');
    const healthy = await until(summary, (c) => c?.health?.status === 'healthy', 'healthy', { attempts: 1000 });
    expect(healthy?.health?.log.at(-1)).toMatchObject({ exitCode: 0, output: 'ok\n' });
    // Remove the file the check looks for, from the machine's side of the overlay.
    const ready = join((await runtime.inspect(id)).rootfs.merged, 'tmp/ready');
    expect(existsSync(ready)).toBe(true);
    rmSync(ready);
    const unhealthy = await until(summary, (c) => c?.health?.status === 'unhealthy', 'unhealthy', { attempts: 1000 });
    expect(unhealthy?.health?.failingStreak).toBeGreaterThanOrEqual(2);
    expect(unhealthy?.health?.log.length).toBeLessThanOrEqual(5);
    expect(unhealthy?.health?.log.at(-1)?.exitCode).toBe(1);
    expect((await runtime.inspect(id)).health?.status).toBe('unhealthy');
    await runtime.remove(id, true);
  });

  it("runs the image's HEALTHCHECK; --no-healthcheck turns it off; a check past its timeout fails", async () => {
    const withImage = await started(imageRuntime, {});
    await until(
      () => imageRuntime.find(withImage).health?.status,
      (s) => s === 'healthy',
      "the image's check to pass",
    );
    const off = await started(imageRuntime, { healthcheck: { test: ['NONE'] } });
    expect(imageRuntime.find(off).healthcheck).toBeUndefined();
    expect(imageRuntime.list(true).find((c) => c.id === off)?.health).toBeUndefined();
    const slow = await started(imageRuntime, { healthcheck: { test: ['CMD', 'sleep', '5'], timeoutMs: 50, retries: 1 } });
    const state = await until(
      () => imageRuntime.find(slow).health,
      (h) => h?.status === 'unhealthy',
      'the slow check to time out',
    );
    expect(state?.log.at(-1)).toMatchObject({ exitCode: -1, output: expect.stringContaining('exceeded timeout') });
    for (const id of [withImage, off, slow]) await imageRuntime.remove(id, true);
  });
});

describe('healthcheck rules', () => {
  it("merges the run's options over the image's, field by field", () => {
    expect(effectiveHealthcheck({ test: ['CMD', 'true'], retries: 5 }, { intervalMs: 1000 })).toEqual({
      test: ['CMD', 'true'],
      retries: 5,
      intervalMs: 1000,
    });
    expect(effectiveHealthcheck({ test: ['CMD', 'true'] }, { test: ['NONE'] })).toBeUndefined();
    expect(effectiveHealthcheck(undefined, { intervalMs: 1000 })).toBeUndefined();
  });

  it('does not count failures inside the start period while starting', () => {
    const config = { test: ['CMD', 'false'], retries: 1, startPeriodMs: 10_000 };
    const started = Date.parse('2026-01-01T00:00:00Z');
    const fail = (at: string) => ({ start: at, end: at, exitCode: 1, output: '' });
    const early = nextHealth({ status: 'starting', failingStreak: 0, log: [] }, fail('2026-01-01T00:00:05Z'), config, started);
    expect(early).toMatchObject({ status: 'starting', failingStreak: 0 });
    const late = nextHealth(early, fail('2026-01-01T00:00:11Z'), config, started);
    expect(late).toMatchObject({ status: 'unhealthy', failingStreak: 1 });
  });

  it("reads Docker's config.Healthcheck (ns durations) from an image config, and refuses bad options naming the field", () => {
    const config = toImageConfig({
      rootfs: { type: 'layers', diff_ids: [] },
      config: { Healthcheck: { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 5e9, Timeout: 2e9, Retries: 4, StartPeriod: 0 } },
    });
    expect(config.healthcheck).toEqual({ test: ['CMD-SHELL', 'curl -f localhost'], intervalMs: 5000, timeoutMs: 2000, retries: 4 });
    const path = (input: unknown) => HealthConfig.safeParse(input).error?.issues[0]?.path.join('.');
    expect(path({ test: ['RUN', 'x'] })).toBe('test');
    expect(path({ test: ['CMD'] })).toBe('test');
    expect(path({ retries: 0 })).toBe('retries');
    expect(path({ intervalMs: 0 })).toBe('intervalMs');
    expect(path({ timeoutMs: -5 })).toBe('timeoutMs');
  });
});
