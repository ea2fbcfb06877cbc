// Machine names are folder names on the desktop too (<data>/vagrant/<name>): on Windows and macOS
// `Dev` and `dev` are one folder, and Windows reserves device names (con, nul…) and drops a
// trailing dot or space. Such a name is refused when a machine is added, naming the field.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_DIR } from '../../../build/testing/isolated-agent.js';
import { OnggiError } from '../../../shared/errors.js';
import { SshMachineDefinition } from '../../../shared/machines.js';
import { createHostCore, type HostCore } from '../host-core.js';
import { MachineStore } from './machine-store.js';
import { addSshMachine } from '../../../build/testing/host-machines.js';

let dir: string;
let core: HostCore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-names-'));
  core = createHostCore({
    dataDir: dir,
    agentDir: AGENT_DIR,
    nodeRuntime: { command: process.execPath },
    platform: 'linux',
    vagrantTemplateDir: join(import.meta.dirname, '..', '..', '..', 'vm-assets', 'vagrant'),
  });
});
afterEach(async () => {
  await core.close();
  await rm(dir, { recursive: true, force: true });
});

const addVagrant = (name: string) => core.call('machines.addVagrant', { provider: 'vagrant', name });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('accepted'),
    (error: unknown) => error as OnggiError,
  );

describe('machine names', () => {
  it('are unique whatever their case: `Dev` after `dev` is refused, naming the machine that exists', async () => {
    await addVagrant('dev');
    const error = await failure(addVagrant('Dev'));
    expect(error.message).toBe('a machine named "dev" exists; "Dev" differs only in case, which Windows and macOS treat as the same name');
    expect(error.field).toBe('params.name');
    await expect(failure(addVagrant('LOCAL'))).resolves.toMatchObject({ field: 'params.name' });
    const store = new MachineStore(dir);
    await expect(store.add(SshMachineDefinition.parse({ provider: 'ssh', name: 'DEV', host: 'h', user: 'u' }))).rejects.toThrow(
      'a machine named "dev" exists; "DEV" differs only in case',
    );
    expect((await store.load()).map((machine) => machine.name)).toEqual(['dev']);
  });

  it('Windows device names (with or without an extension) and a trailing dot are refused for every provider, naming the field', async () => {
    for (const name of ['con', 'NUL', 'aux', 'prn', 'com1', 'COM9', 'lpt1', 'lpt9', 'nul.txt', 'con.tar.gz']) {
      const error = await failure(addVagrant(name));
      expect(error.message).toMatch(/^params\.name: must not be a name Windows reserves for a device/);
      const ssh = await failure(addSshMachine(core, { provider: 'ssh', name, host: '127.0.0.1', user: 'root' }));
      expect(ssh.message).toMatch(/^params\.name: must not be a name Windows reserves/);
    }
    expect((await failure(addVagrant('dev.'))).message).toMatch(/^params\.name: must not end with a dot or a space/);
    // Names that only look alike are fine.
    for (const name of ['console', 'com10', 'lpt0', 'nully', 'dev.1']) await addVagrant(name);
  });
});
