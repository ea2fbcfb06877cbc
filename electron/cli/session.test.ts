// The CLI's choice of machine when a command names none, against a real host core whose data
// folder holds the machines and the remembered choice (no machine is contacted: listing and
// choosing never connect).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostApi } from '../../shared/host-api.js';
import { asHostApi, createHostCore, type HostCore } from '../core/host-core.js';
import { machineFor } from './session.js';

let dataDir: string;
const cores: HostCore[] = [];
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'onggi-session-'));
});
afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.close()));
  await rm(dataDir, { recursive: true, force: true });
});

async function withMachines(...names: string[]): Promise<void> {
  const machines = names.map((name) => ({ provider: 'ssh', name, host: '192.0.2.1', user: 'admin' }));
  await writeFile(join(dataDir, 'machines.json'), JSON.stringify({ version: 1, machines }));
}

/** A host core as the CLI makes one, on a desktop with (Linux) or without (macOS) a local machine. */
function api(platform: 'linux' | 'darwin' = 'darwin'): HostApi {
  const core = createHostCore({
    dataDir,
    agentDir: join(dataDir, 'no-agent'),
    nodeRuntime: { command: process.execPath },
    localAgent: { runDir: join(dataDir, 'run'), stateDir: join(dataDir, 'state') },
    platform,
  });
  cores.push(core);
  return asHostApi(core);
}

describe('the machine a CLI command acts on', () => {
  it('without any machine, says how to add one', async () => {
    await expect(machineFor(api(), {})).rejects.toMatchObject({
      kind: 'no_machines',
      message: expect.stringContaining('onggi machine add ssh NAME --host HOST'),
    });
  });

  it('with several and none remembered, lists them and gives the command that picks one', async () => {
    await withMachines('ec2', 'lab');
    await expect(machineFor(api(), {})).rejects.toMatchObject({
      kind: 'machine_not_chosen',
      message:
        'which machine? there are 2: ec2 (ssh), lab (ssh); choose one with `onggi machine use NAME` (remembered, as in the window), or for one command with --machine NAME or ONGGI_MACHINE=NAME',
    });
  });

  it('uses the only machine, and this computer where it is one', async () => {
    await withMachines('ec2');
    expect(await machineFor(api(), {})).toBe('ec2');
    expect(await machineFor(api('linux'), {})).toBe('local');
  });

  it('remembers `machine use` in the data folder, for the next process too; the flag and ONGGI_MACHINE win for one command', async () => {
    await withMachines('ec2', 'lab');
    await api().call('machines.use', { machine: 'lab' });
    expect(JSON.parse(await readFile(join(dataDir, 'settings.json'), 'utf8'))).toEqual({ version: 1, lastMachine: 'lab' });
    const next = api('linux'); // a new process; the remembered machine wins over this computer too
    expect(await machineFor(next, {})).toBe('lab');
    expect(await machineFor(next, { env: 'ec2' })).toBe('ec2');
    expect(await machineFor(next, { flag: 'local', env: 'ec2' })).toBe('local');
    // A one-off choice is not remembered.
    expect(await machineFor(next, {})).toBe('lab');
  });

  it('refuses to remember a machine that does not exist, and forgets one removed since', async () => {
    await withMachines('ec2', 'lab');
    await expect(api().call('machines.use', { machine: 'nope' })).rejects.toMatchObject({
      kind: 'not_found',
      message: 'no machine named "nope" (known: ec2, lab)',
    });
    await api().call('machines.use', { machine: 'lab' });
    await withMachines('ec2');
    expect(await machineFor(api(), {})).toBe('ec2');
  });
});
