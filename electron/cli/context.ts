import { resolve } from 'node:path';
import { createHostCore, type HostCore, type HostCoreOptions } from '../core/host-core.js';
import { currentFacts, prepareDataDir } from '../core/platform/platform.js';
import { terminalPrompts } from './commands/machines.js';

/** Where the built pieces sit relative to the CLI bundle (dist/electron/cli.cjs). */
export const ASSETS = {
  agentDir: resolve(__dirname, '../../vm-assets/dist/agent'),
  rendererDir: resolve(__dirname, '../renderer'),
};

/**
 * `forwardPublishedPorts`: only for a long-lived process (`onggi serve`), never a one-shot command.
 * `promptsInWindow`: host-key and passphrase questions go to the window as events (`onggi serve`,
 * whose terminal nobody watches), as in the Electron app; else they are asked on this terminal.
 */
export function createCliCore(extra: Pick<HostCoreOptions, 'forwardPublishedPorts'> & { promptsInWindow?: boolean } = {}): HostCore {
  const { promptsInWindow, ...options } = extra;
  const facts = currentFacts();
  return createHostCore({
    ...options,
    facts,
    dataDir: prepareDataDir(facts, (move) => process.stderr.write(`onggi: moved the data folder ${move.from} to ${move.to}\n`)),
    agentDir: ASSETS.agentDir,
    // The CLI already runs on Node; the local agent runs on the same binary.
    nodeRuntime: { command: process.execPath },
    ...(promptsInWindow ? {} : { prompts: terminalPrompts() }),
  });
}
