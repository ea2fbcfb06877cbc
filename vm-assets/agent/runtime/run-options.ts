// How a container's run options become the runtime's decisions: what the helper mounts
// (--read-only, --shm-size), what stop sends and how long it waits (--stop-signal,
// --stop-timeout), and whether an ended container starts again (--restart, with Docker's rule
// that a container the user stopped is not restarted).
import { constants as osConstants } from 'node:os';
import type { ContainerSpec } from '../../../shared/containers.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { normalizeSignal } from './signals.js';

/** Docker's default grace between the stop signal and SIGKILL. */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 10;

/** Refuses at create what would only fail at stop: a stop signal this kernel does not have. */
export function checkRunOptions(spec: ContainerSpec): void {
  if (spec.stopSignal !== undefined && !(normalizeSignal(spec.stopSignal) in osConstants.signals))
    throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', `unknown signal "${spec.stopSignal}"`, 'params.stopSignal');
}

/** The helper's run options these settings become (nothing when they are the defaults). */
export function helperRunOptions(spec: ContainerSpec): { readOnlyRootfs?: boolean; shmSize?: number } {
  return { ...(spec.readOnly ? { readOnlyRootfs: true } : {}), ...(spec.shmSize !== undefined ? { shmSize: spec.shmSize } : {}) };
}

/** What `stop` sends first and how long it waits: the call's timeout, else the container's --stop-timeout, else 10 s. */
export function stopPlan(spec: ContainerSpec, timeoutSeconds: number | undefined): { signal: string; timeoutMs: number } {
  return {
    signal: spec.stopSignal === undefined ? 'SIGTERM' : normalizeSignal(spec.stopSignal),
    timeoutMs: (timeoutSeconds ?? spec.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS) * 1000,
  };
}

/**
 * Whether `kill` with this signal is the user ending the container (its restart policy then
 * stops applying), as Docker decides: SIGKILL, or the container's stop signal, or any signal when
 * it has none of its own.
 */
export function killEndsRestarts(spec: ContainerSpec, signal: string): boolean {
  const name = normalizeSignal(signal);
  return name === 'SIGKILL' || spec.stopSignal === undefined || normalizeSignal(spec.stopSignal) === name;
}

/** Whether an ended container starts again under its policy; never once the user stopped it. */
export function restartWanted(policy: ContainerSpec['restart'], exitCode: number | null, stoppedByUser: boolean): boolean {
  if (stoppedByUser) return false;
  return policy === 'always' || policy === 'unless-stopped' || (policy === 'on-failure' && exitCode !== 0);
}
