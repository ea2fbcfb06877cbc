// Tests that add machines go through the host API, as the window and the CLI do; these look
// inside the SSH machine that results (its stored definition, its last deploy, its connection).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHostCore, type HostCore, type HostCoreOptions } from '../../electron/core/host-core.js';
import { AGENT_DIR } from './isolated-agent.js';
import { SshMachine } from '../../electron/core/machines/ssh/ssh-machine.js';
import type { SshMachineDefinition, SshMachineView } from '../../shared/machines.js';

export function sshMachine(core: HostCore, name: string): SshMachine {
  const machine = core.machine(name);
  if (!(machine instanceof SshMachine)) throw new Error(`"${name}" is not an SSH machine`);
  return machine;
}

/** `machines.add` (params checked by the host API's schema), and the definition it stored. */
export async function addSshMachine(core: HostCore, params: unknown): Promise<{ view: SshMachineView; definition: SshMachineDefinition }> {
  const view = (await core.call('machines.add', params)) as SshMachineView;
  return { view, definition: sshMachine(core, view.name).definition };
}

/** A data folder's machines.json as the app writes it, with these definitions. */
export async function writeMachinesFile(dataDir: string, machines: object[]): Promise<void> {
  await writeFile(join(dataDir, 'machines.json'), JSON.stringify({ version: 1, machines }));
}

/**
 * A host core for a test that reaches its machines over SSH: the test's own data and local-agent
 * dirs under `root`, this build's agent and bundles, no prompt answered yes, no ssh-agent.
 */
export function testHostCore(root: string, extra: Partial<HostCoreOptions> = {}): HostCore {
  return createHostCore({
    dataDir: join(root, 'data'),
    agentDir: AGENT_DIR,
    bundlesDir: join(AGENT_DIR, '..', 'bundles'),
    nodeRuntime: { command: process.execPath },
    localAgent: { runDir: join(root, 'local/run'), stateDir: join(root, 'local/state') },
    platform: 'linux',
    prompts: { hostKey: () => Promise.resolve(false), secret: () => Promise.resolve(undefined) },
    ssh: { userKnownHosts: [], agentSocket: '' },
    ...extra,
  });
}
