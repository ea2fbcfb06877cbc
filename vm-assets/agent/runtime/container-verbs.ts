// pause/unpause, update and rename: changes to a container that is already there, each under the
// container's lock, its record saved and subscribers told.
import type { ContainerSummary } from '../../../shared/containers.js';
import type { ContainerUpdate } from '../../../shared/container-verbs.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { CgroupLimits } from './cgroups/index.js';
import type { ContainerRecord } from './container-record.js';
import type { ContainerRuntime } from './container-runtime.js';
import { checkSupported } from './resource-limits.js';

function notRunning(record: ContainerRecord): OnggiError {
  return new OnggiError(ErrorCode.Conflict, 'not_running', `container ${record.name} is not running`, 'params.container');
}

/** `pause` (frozen = true) and `unpause`: the freezer on v1, cgroup.freeze on v2. */
export function setPaused(runtime: ContainerRuntime, selector: string, frozen: boolean): Promise<ContainerSummary> {
  return runtime.withContainer(selector, async (record, access) => {
    if (record.state !== 'running') throw notRunning(record);
    if (record.paused === frozen)
      throw new OnggiError(
        ErrorCode.Conflict,
        frozen ? 'paused' : 'not_paused',
        `container ${record.name} is ${frozen ? 'already paused' : 'not paused'}`,
        'params.container',
      );
    await access.cgroups.freeze(record.id, frozen, access.scope(record));
    record.paused = frozen;
    await access.save(record);
    access.changed(record);
    return access.summarize(record);
  });
}

/** `update`: new limits written into the running container's cgroup and kept in its record for later starts. */
export function updateLimits(runtime: ContainerRuntime, update: ContainerUpdate) {
  const { container, ...change } = update;
  return runtime.withContainer(container, async (record, access) => {
    const next: CgroupLimits = { ...record.limits, ...change };
    // A new memory limit without a swap limit keeps Docker's rule (swap ≥ memory) by dropping the old swap cap when it no longer fits.
    if (
      change.memorySwap === undefined &&
      change.memory !== undefined &&
      next.memorySwap !== undefined &&
      next.memorySwap !== -1 &&
      next.memorySwap < change.memory
    )
      throw new OnggiError(
        ErrorCode.InvalidParams,
        'invalid_params',
        `memory: ${change.memory} bytes is above the container's memory-swap limit (${next.memorySwap}); give --memory-swap too`,
        'params.memory',
      );
    checkSupported(next, access.cgroups);
    const written = record.state === 'running' ? await access.cgroups.update(record.id, change, record.limits, access.scope(record)) : {};
    record.limits = next;
    // The spec says what was asked: inspect (the Docker API's HostConfig) shows the limits in force.
    record.spec = { ...record.spec, limits: { ...record.spec.limits, ...change } };
    await access.save(record);
    access.changed(record);
    return { container: access.summarize(record), written };
  });
}

/** `rename`: the new name must be free; the id and everything else stay. */
export function rename(runtime: ContainerRuntime, selector: string, name: string): Promise<ContainerSummary> {
  return runtime.withContainer(selector, async (record, access) => {
    if (record.name === name) return access.summarize(record);
    if (access.nameTaken(name))
      throw new OnggiError(ErrorCode.Conflict, 'name_in_use', `the name "${name}" is already in use by another container`, 'params.name');
    record.name = name;
    await access.save(record);
    access.changed(record);
    return access.summarize(record);
  });
}
