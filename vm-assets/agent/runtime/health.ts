// Healthchecks: the agent runs the check as an exec into the container (its namespaces, cgroup,
// user and security settings, as `onggi exec` has them) on a timer, keeps the last results on the
// container's record and moves its status as Docker does: `starting` until the first pass
// (`healthy`), `unhealthy` after `retries` failures in a row; failures inside the start period do
// not count while it is still starting.
import { spawn } from 'node:child_process';
import { HEALTH_DEFAULTS, HEALTH_LOG_ENTRIES, type HealthConfig, type HealthResult, type HealthState } from '../../../shared/health.js';
import type { Logger } from '../daemon/logger.js';
import type { ContainerRecord } from './container-record.js';
import type { RuntimeAccess } from './container-runtime.js';

/** Docker cuts a check's output to this many bytes. */
const OUTPUT_LIMIT = 4096;

/** The check a container runs: the image's HEALTHCHECK with the run's `--health-*` over it; none for `NONE` or no test. */
export function effectiveHealthcheck(image: HealthConfig | undefined, run: HealthConfig | undefined): HealthConfig | undefined {
  const merged: HealthConfig = { ...image, ...run };
  if (!merged.test || merged.test[0] === 'NONE') return undefined;
  return merged;
}

export function healthArgv(test: readonly string[]): string[] {
  return test[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', test[1] ?? ''] : test.slice(1);
}

/** The next state after one result. */
export function nextHealth(state: HealthState, result: HealthResult, config: HealthConfig, startedAt: number): HealthState {
  const log = [...state.log, result].slice(-HEALTH_LOG_ENTRIES);
  if (result.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  const inStartPeriod = Date.parse(result.start) - startedAt < (config.startPeriodMs ?? HEALTH_DEFAULTS.startPeriodMs);
  if (inStartPeriod && state.status === 'starting') return { ...state, log };
  const failingStreak = state.failingStreak + 1;
  const unhealthy = failingStreak >= (config.retries ?? HEALTH_DEFAULTS.retries);
  return { status: unhealthy ? 'unhealthy' : state.status, failingStreak, log };
}

export interface HealthHost {
  access(): RuntimeAccess;
  /** The helper's arguments to enter the running container (up to the command). */
  execSpec(selector: string): string[];
}

export class HealthMonitor {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly host: HealthHost,
    private readonly log: Logger,
  ) {}

  /** Starts checking a container that just started (fresh: `starting`) or was adopted after an agent restart (kept). */
  start(record: ContainerRecord, { fresh }: { fresh: boolean }): void {
    this.stop(record.id);
    const config = record.healthcheck;
    if (!config) {
      delete record.health;
      return;
    }
    if (fresh || !record.health) record.health = { status: 'starting', failingStreak: 0, log: [] };
    this.schedule(record, config);
  }

  stop(id: string): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  close(): void {
    for (const id of [...this.timers.keys()]) this.stop(id);
  }

  private schedule(record: ContainerRecord, config: HealthConfig): void {
    const timer = setTimeout(() => {
      void this.check(record, config).finally(() => {
        if (this.timers.get(record.id) === timer && record.state === 'running') this.schedule(record, config);
      });
    }, config.intervalMs ?? HEALTH_DEFAULTS.intervalMs);
    // A check due does not keep the agent (or a test) alive.
    timer.unref();
    this.timers.set(record.id, timer);
  }

  private async check(record: ContainerRecord, config: HealthConfig): Promise<void> {
    // A paused container cannot answer; Docker skips its checks too.
    if (record.state !== 'running' || record.paused || !record.health) return;
    const access = this.host.access();
    let result: HealthResult;
    try {
      result = await this.runCheck(record, config, access.helper);
    } catch (error) {
      this.log.debug(`container ${record.name}: its healthcheck could not run`, error);
      return;
    }
    // The container may have ended (or been removed) while the check ran.
    if (record.state !== 'running' || !this.timers.has(record.id)) return;
    const before = record.health.status;
    record.health = nextHealth(record.health, result, config, Date.parse(record.startedAt ?? result.start));
    await access.save(record).catch((error: unknown) => this.log.error(`container ${record.name}: its health cannot be saved`, error));
    if (record.health.status !== before) access.changed(record);
  }

  private runCheck(record: ContainerRecord, config: HealthConfig, helper: string): Promise<HealthResult> {
    const args = [...this.host.execSpec(record.id), '--', ...healthArgv(config.test ?? [])];
    const start = new Date().toISOString();
    return new Promise((resolve, reject) => {
      const child = spawn(helper, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const take = (chunk: Buffer) => {
        if (output.length < OUTPUT_LIMIT) output = (output + chunk.toString('utf8')).slice(0, OUTPUT_LIMIT);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      let settled = false;
      const settle = (result: HealthResult) => {
        clearTimeout(timeout);
        if (!settled) resolve(result);
        settled = true;
      };
      const timeout = setTimeout(() => {
        child.kill('SIGKILL');
        // A process the check left in the container may hold the pipes open: the result does not wait for it.
        child.stdout.destroy();
        child.stderr.destroy();
        // Docker reports a check that ran out of time as exit -1 with this message.
        const ms = config.timeoutMs ?? HEALTH_DEFAULTS.timeoutMs;
        settle({ start, end: new Date().toISOString(), exitCode: -1, output: `Health check exceeded timeout (${ms} ms)` });
      }, config.timeoutMs ?? HEALTH_DEFAULTS.timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timeout);
        settled = true;
        reject(error);
      });
      child.once('close', (code) => settle({ start, end: new Date().toISOString(), exitCode: code ?? -1, output }));
    });
  }
}
