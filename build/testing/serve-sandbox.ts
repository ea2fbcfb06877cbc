// Browser mode over an isolated local agent, for tests: `onggi serve`'s server on 127.0.0.1 with a
// stand-in page, a host core whose local daemon keeps the sandbox's isolation (its own dirs and
// cgroup parent, no default bridge) even when the host core starts it again. close() ends it all.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHostCore, type HostCore } from '../../electron/core/host-core.js';
import { startServe, type RunningServe } from '../../electron/serve/serve.js';
import { AGENT_DIR, isolatedAgent, type IsolatedAgent } from './isolated-agent.js';

export interface ServeSandbox {
  sandbox: IsolatedAgent;
  core: HostCore;
  serve: RunningServe;
  close(): Promise<void>;
}

export async function startServeSandbox(): Promise<ServeSandbox> {
  const sandbox = await isolatedAgent();
  let core: HostCore | undefined;
  try {
    const rendererDir = join(sandbox.root, 'renderer');
    await mkdir(rendererDir, { recursive: true });
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Onggi</title>');
    const created = createHostCore({
      dataDir: sandbox.home,
      agentDir: AGENT_DIR,
      nodeRuntime: {
        command: process.execPath,
        env: { ONGGI_CGROUP_PARENT: sandbox.cgroupParent, ONGGI_DEFAULT_NETWORK: 'none' },
      },
      localAgent: { runDir: sandbox.runDir, stateDir: sandbox.stateDir },
      platform: 'linux',
    });
    core = created;
    const serve = await startServe({ core: created, rendererDir });
    return {
      sandbox,
      core: created,
      serve,
      async close() {
        await serve.close();
        await created.close();
        await sandbox.cleanup();
      },
    };
  } catch (error) {
    await core?.close();
    await sandbox.cleanup();
    throw error;
  }
}
