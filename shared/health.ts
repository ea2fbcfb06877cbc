// Healthchecks as Docker has them: a test command run in the container on a timer, its results
// kept (the last five), and a status that starts as `starting`, becomes `healthy` on a pass and
// `unhealthy` after `retries` failures in a row (failures inside the start period do not count).
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';

/** Docker's defaults (`docker run` and the Dockerfile HEALTHCHECK agree). */
export const HEALTH_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0 } as const;
/** How many results a container keeps (Docker's number). */
export const HEALTH_LOG_ENTRIES = 5;

const Duration = (what: string) =>
  z
    .number()
    .int()
    .min(1, `${what} must be at least 1 ms`)
    .max(24 * 3600 * 1000, `${what} must be at most 24h`);

/**
 * `test` as in Docker's config: `["CMD", argv…]`, `["CMD-SHELL", "command"]`, or `["NONE"]` (no
 * healthcheck, not even the image's). Absent fields take the image's, then Docker's defaults.
 */
export const HealthConfig = lazySchema(() =>
  z.strictObject({
    test: z
      .array(z.string().max(65536))
      .min(1)
      .max(4096)
      .refine((test) => ['CMD', 'CMD-SHELL', 'NONE'].includes(test[0] ?? ''), { message: 'must start with CMD, CMD-SHELL or NONE' })
      .refine((test) => test[0] === 'NONE' || test.length > 1, { message: 'needs a command after CMD or CMD-SHELL' })
      .optional(),
    intervalMs: Duration('interval').optional(),
    timeoutMs: Duration('timeout').optional(),
    retries: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000').optional(),
    startPeriodMs: z
      .number()
      .int()
      .min(0)
      .max(24 * 3600 * 1000, 'must be at most 24h')
      .optional(),
  }),
);
export type HealthConfig = z.infer<typeof HealthConfig>;

export const HealthStatus = lazySchema(() => z.enum(['starting', 'healthy', 'unhealthy']));
export type HealthStatus = z.infer<typeof HealthStatus>;

export const HealthResult = lazySchema(() =>
  z.strictObject({
    start: z.string().max(64),
    end: z.string().max(64),
    exitCode: z.number().int(),
    /** The check's output (stdout and stderr), cut to 4 KiB as Docker does. */
    output: z.string().max(4096),
  }),
);
export type HealthResult = z.infer<typeof HealthResult>;

export const HealthState = lazySchema(() =>
  z.strictObject({
    status: HealthStatus,
    failingStreak: z.number().int().nonnegative(),
    log: z.array(HealthResult).max(HEALTH_LOG_ENTRIES),
  }),
);
export type HealthState = z.infer<typeof HealthState>;

/** `30s`, `1m30s`, `500ms`, `2h` (Go's duration syntax, as Docker's health options take). */
export function parseDuration(text: string): number {
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(text.trim()) ? text.trim().match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g) : null;
  if (!parts) throw new Error(`"${text}" is not a duration: use e.g. 30s, 1m30s or 500ms`);
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return Math.round(parts.reduce((sum, part) => sum + Number(/[\d.]+/.exec(part)?.[0]) * (unit[/[a-z]+$/.exec(part)?.[0] ?? 's'] ?? 0), 0));
}

/** The healthcheck fields as `run --health-*` and the run dialog take them (durations in ms). */
export interface HealthOptions {
  /** Run through `/bin/sh -c` (Docker's `--health-cmd`: CMD-SHELL). */
  cmd?: string;
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
  /** `--no-healthcheck`: none, not even the image's. */
  disabled?: boolean;
}

/**
 * Those options as the spec's `healthcheck` (undefined when none is given: the image's applies).
 * Not validated here: HealthConfig does that with the whole spec, naming the field.
 */
export function healthFromOptions(options: HealthOptions): HealthConfig | undefined {
  const health = {
    ...(options.cmd !== undefined ? { test: ['CMD-SHELL', options.cmd] } : {}),
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.startPeriodMs !== undefined ? { startPeriodMs: options.startPeriodMs } : {}),
  };
  if (options.disabled) {
    if (Object.keys(health).length > 0) throw new Error('--no-healthcheck conflicts with the --health-* options');
    return { test: ['NONE'] };
  }
  return Object.keys(health).length > 0 ? health : undefined;
}
