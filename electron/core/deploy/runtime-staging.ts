// The Node runtime a remote machine's agent runs on, staged when a deploy first needs it. A
// checkout's `npm start` / `npm run serve` does not stage the runtimes (minutes on a fresh clone,
// and the local machine never uses them); the first deploy to a machine of an architecture stages
// that one with build/runtime.mjs, reporting its steps as progress. A packaged app carries its
// runtimes (npm run dist stages them) and has no build/ to stage with: it never stages.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RuntimeArch } from './targets.js';

/** Stages the runtime for `arch` into `bundlesDir`; `onLine` hears each step as it happens. */
export type RuntimeStager = (arch: RuntimeArch, bundlesDir: string, onLine: (line: string) => void) => Promise<void>;

/** What build/runtime.mjs offers (loaded at run time: it is not part of the host bundle). */
interface RuntimeScript {
  stageRuntime(options: { arch: RuntimeArch; outDir: string; log: (line: string) => void }): Promise<unknown>;
}

/**
 * The stager of the checkout the agent was built in (agentDir = ROOT/vm-assets/dist/agent), or
 * undefined where there is no build/runtime.mjs (a packaged app).
 */
export function checkoutRuntimeStager(agentDir: string): RuntimeStager | undefined {
  const script = join(agentDir, '..', '..', '..', 'build', 'runtime.mjs');
  if (!existsSync(script)) return undefined;
  return sharedStager(async (arch, bundlesDir, onLine) => {
    const module = (await import(pathToFileURL(script).href)) as RuntimeScript;
    await module.stageRuntime({ arch, outDir: bundlesDir, log: onLine });
  });
}

/**
 * One staging per architecture and folder at a time: two machines deploying at once wait for the
 * same one (both hear its lines) rather than writing the same files twice.
 */
export function sharedStager(stage: RuntimeStager): RuntimeStager {
  const running = new Map<string, { done: Promise<void>; listeners: Set<(line: string) => void> }>();
  return async (arch, bundlesDir, onLine) => {
    const key = `${arch}\0${bundlesDir}`;
    const joined = running.get(key);
    if (joined) {
      joined.listeners.add(onLine);
      try {
        await joined.done;
      } finally {
        joined.listeners.delete(onLine);
      }
      return;
    }
    const listeners = new Set([onLine]);
    const done = stage(arch, bundlesDir, (line) => listeners.forEach((listener) => listener(line))).finally(() => running.delete(key));
    running.set(key, { done, listeners });
    await done;
  };
}
