// A container runtime in the test's own process, for the runtime-level suites: the built init
// helper, real cgroups under the test's parent, and one busybox layer served as a fixed image.
import { join } from 'node:path';
import { ActivityLog } from '../../vm-assets/agent/activity/activity-log.js';
import { createCgroupDriver } from '../../vm-assets/agent/runtime/cgroups/index.js';
import { ContainerRuntime, type RuntimeOptions } from '../../vm-assets/agent/runtime/container-runtime.js';
import { initHelperName } from '../../vm-assets/agent/runtime/helper-protocol.js';
import { DEFAULT_SECURITY_POLICY } from '../../vm-assets/agent/runtime/security-policy.js';
import { detectCgroups } from '../../vm-assets/agent/system/cgroups.js';
import { AGENT_DIR } from './isolated-agent.js';

/** A runtime over `root/containers` whose one image (`name`, id `imageId`) is the layer `layer`; reconciled. */
export async function inProcessRuntime(options: {
  root: string;
  layer: string;
  cgroupParent: string;
  imageName: string;
  imageId: string;
  activity?: ActivityLog;
  extra?: Partial<RuntimeOptions>;
}): Promise<ContainerRuntime> {
  const activity = options.activity ?? new ActivityLog();
  const runtime = new ContainerRuntime({
    root: join(options.root, 'containers'),
    helper: join(AGENT_DIR, initHelperName()),
    cgroups: createCgroupDriver(await detectCgroups(), options.cgroupParent, activity),
    activity,
    images: {
      resolve: async () => ({
        id: options.imageId,
        names: [options.imageName],
        config: { env: [], entrypoint: null, cmd: ['sh'], workingDir: '', user: '', labels: {}, exposedPorts: [] },
        layerDirs: [options.layer],
      }),
    },
    policy: DEFAULT_SECURITY_POLICY,
    emit: () => undefined,
    ...options.extra,
  });
  await runtime.reconcile();
  return runtime;
}
