// Builds the agent's container runtime from what this machine offers: its cgroup layout, the
// image store under the state root, the init helper shipped beside the agent.
import { machine } from 'node:os';
import { join } from 'node:path';
import { errorMessage } from '../../../shared/errors.js';
import type { ActivityLog } from '../activity/activity-log.js';
import { createCgroupDriver } from '../runtime/cgroups/index.js';
import { ContainerRuntime, type ImageResolver } from '../runtime/container-runtime.js';
import { DEFAULT_SECURITY_POLICY, type SecurityPolicy } from '../runtime/security-policy.js';
import { detectCgroups } from '../system/cgroups.js';
import { normalizeArch } from '../system/system-info.js';
import type { EventHub } from './event-hub.js';
import type { Logger } from './logger.js';

export function initHelperPath(bundleDir: string): string {
  return join(bundleDir, `onggi-init-${normalizeArch(machine())}`);
}

export interface RuntimeDeps {
  stateDir: string;
  bundleDir: string;
  activity: ActivityLog;
  events: EventHub;
  log: Logger;
  images?: ImageResolver;
  policy?: SecurityPolicy;
}

export async function createRuntime(deps: RuntimeDeps): Promise<ContainerRuntime | Error> {
  if (!deps.images) return new Error('the image store could not be opened (see the agent log)');
  try {
    const cgroups = createCgroupDriver(await detectCgroups(), process.env.ONGGI_CGROUP_PARENT ?? 'onggi', deps.activity);
    const runtime = new ContainerRuntime({
      root: join(deps.stateDir, 'containers'),
      helper: initHelperPath(deps.bundleDir),
      cgroups,
      activity: deps.activity,
      images: deps.images,
      policy: deps.policy ?? DEFAULT_SECURITY_POLICY,
      emit: (event) => deps.events.publish(event),
    });
    await runtime.reconcile();
    return runtime;
  } catch (error) {
    deps.log.error('the container runtime is unavailable', error);
    return error instanceof Error ? error : new Error(errorMessage(error));
  }
}
