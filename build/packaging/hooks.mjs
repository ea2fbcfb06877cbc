// electron-builder hooks (electron-builder.yml: beforePack, afterPack), run once per target
// platform and architecture.
//
// beforePack refuses a build without both init helpers (the agent deploys to x64 and arm64
// machines and cannot start a container without the helper), and stages node-pty for the target.
// afterPack sets the runAsNode fuse per platform: electron-builder's `electronFuses` has one value
// for every platform, and only Linux runs the local agent under Electron's own Node
// (ELECTRON_RUN_AS_NODE); on macOS and Windows there is no local agent, so the fuse is off there.
// Fuses set here survive the `electronFuses` step, which touches only the fuses it lists.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import builderUtil from 'builder-util';
import { INIT_TARGETS, initHelperHint } from '../init.mjs';
import { nodePtyStageDir, stageNodePty } from '../node-pty.mjs';

/** The init helpers missing from an agent folder, each with how to get it. */
export function missingInitHelpers(agentDir) {
  return INIT_TARGETS.filter((target) => !existsSync(join(agentDir, target.name))).map((target) => ({
    name: target.name,
    hint: initHelperHint(target.name),
  }));
}

export async function beforePack(context) {
  const agentDir = join(context.packager.projectDir, 'vm-assets', 'dist', 'agent');
  const missing = missingInitHelpers(agentDir);
  if (missing.length > 0) {
    throw new Error(
      `npm run dist: ${missing.map((m) => m.name).join(' and ')} missing from ${agentDir}; an installer without ` +
        `them deploys an agent that cannot start a container.\n${missing.map((m) => `  ${m.hint}`).join('\n')}`,
    );
  }
  const arch = builderUtil.Arch[context.arch];
  const builderOs = context.packager.platform.buildConfigurationKey;
  await stageNodePty({
    platform: context.electronPlatformName,
    arch,
    outDir: nodePtyStageDir(builderOs, arch),
    log: (line) => console.log(`  • node-pty: ${line}`),
  });
}

/** Whether an Electron build for this platform keeps the runAsNode fuse. */
export function runAsNodeFor(electronPlatformName) {
  return electronPlatformName === 'linux';
}

export async function afterPack(context) {
  const { FuseV1Options, FuseVersion } = await import('@electron/fuses');
  await context.packager.addElectronFuses(context, {
    version: FuseVersion.V1,
    // An ad-hoc signed arm64 Mac binary refuses to start once a fuse changes unless re-signed.
    resetAdHocDarwinSignature: context.electronPlatformName === 'darwin',
    [FuseV1Options.RunAsNode]: runAsNodeFor(context.electronPlatformName),
  });
}
