// How a container's run options become the runtime's decisions: what the helper mounts
// (--read-only, --shm-size), what stop sends and how long it waits (--stop-signal or the image's
// STOPSIGNAL, --stop-timeout), and whether an ended container starts again (--restart, with Docker's rule
// that a container the user stopped is not restarted).
import { constants as osConstants } from 'node:os';
import type { ContainerSpec } from '../../../shared/containers.js';
import type { ImageConfig } from '../../../shared/images.js';
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

/** What a container's record says about stopping it: its spec, and its image's STOPSIGNAL. */
interface StopSettings {
  spec: ContainerSpec;
  imageStopSignal?: string | undefined;
}

/** The image's STOPSIGNAL for the record, when this kernel has it (an image's odd value is ignored, not fatal). */
export function imageStopSignal(config: ImageConfig): { imageStopSignal?: string } {
  const signal = config.stopSignal === undefined ? undefined : normalizeSignal(config.stopSignal);
  return signal !== undefined && signal in osConstants.signals ? { imageStopSignal: signal } : {};
}

/** The container's stop signal: --stop-signal, else the image's STOPSIGNAL, else undefined (SIGTERM). */
function stopSignalOf({ spec, imageStopSignal }: StopSettings): string | undefined {
  return spec.stopSignal === undefined ? imageStopSignal : normalizeSignal(spec.stopSignal);
}

/** What `stop` sends first and how long it waits: the call's timeout, else the container's --stop-timeout, else 10 s. */
export function stopPlan(record: StopSettings, timeoutSeconds: number | undefined): { signal: string; timeoutMs: number } {
  return {
    signal: stopSignalOf(record) ?? 'SIGTERM',
    timeoutMs: (timeoutSeconds ?? record.spec.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS) * 1000,
  };
}

/**
 * Whether `kill` with this signal is the user ending the container (its restart policy then
 * stops applying), as Docker decides: SIGKILL, or the container's stop signal, or any signal when
 * it has none of its own.
 */
export function killEndsRestarts(record: StopSettings, signal: string): boolean {
  const name = normalizeSignal(signal);
  const own = stopSignalOf(record);
  return name === 'SIGKILL' || own === undefined || own === name;
}

/** Whether an ended container starts again under its policy; never once the user stopped it. */
export function restartWanted(policy: ContainerSpec['restart'], exitCode: number | null, stoppedByUser: boolean): boolean {
  if (stoppedByUser) return false;
  return policy === 'always' || policy === 'unless-stopped' || (policy === 'on-failure' && exitCode !== 0);
}
