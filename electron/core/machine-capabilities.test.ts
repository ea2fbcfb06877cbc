// What differs per machine kind is asked of the machine (an optional method), and offered to every
// front end through the host API: `machines.describe` for every kind that has something to say,
// `machines.deploy` where an agent is deployed, and a clear refusal where a kind has no such thing.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeMachinesFile } from '../../build/testing/host-machines.js';
import { AGENT_DIR } from '../../build/testing/isolated-agent.js';
import { createHostCore, type HostCore } from './host-core.js';

let dir: string;
let core: HostCore | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-capabilities-'));
});
afterEach(async () => {
  await core?.close();
  core = undefined;
  await rm(dir, { recursive: true, force: true });
});

function hostCore(): HostCore {
  core = createHostCore({
    dataDir: dir,
    agentDir: AGENT_DIR,
    nodeRuntime: { command: process.execPath },
    // Never started here, and never the real /run/onggi.
    localAgent: { runDir: join(dir, 'run'), stateDir: join(dir, 'state') },
    platform: 'linux',
  });
  return core;
}

describe('machine capabilities through the host API', () => {
  it('describes SSH and Vagrant machines (no key or directory paths), not the local one', async () => {
    await writeMachinesFile(dir, [
      { provider: 'ssh', name: 'ec2', host: '127.0.0.1', port: 1, user: 'admin', identityFile: '/keys/id_ed25519' },
      { provider: 'vagrant', name: 'dev', box: 'debian/bookworm64', vagrantProvider: 'libvirt', cpus: 4 },
    ]);
    const described = await hostCore().call('machines.describe', {});
    expect(described).toEqual([
      { name: 'ec2', provider: 'ssh', host: '127.0.0.1', port: 1, user: 'admin', via: [] },
      { name: 'dev', provider: 'vagrant', box: 'debian/bookworm64', cpus: 4, memoryMb: 2048, vagrantProvider: 'libvirt' },
    ]);
    expect(JSON.stringify(described)).not.toContain(dir);
    expect(JSON.stringify(described)).not.toContain('/keys/');
  });

  it('refuses what a kind has not: deploying to the local machine, starting an SSH host', async () => {
    await writeMachinesFile(dir, [{ provider: 'ssh', name: 'ec2', host: '127.0.0.1', port: 1, user: 'admin' }]);
    const host = hostCore();
    await expect(host.call('machines.deploy', { machine: 'local' })).rejects.toMatchObject({
      kind: 'not_deployed',
      field: 'params.machine',
    });
    await expect(host.call('machines.start', { machine: 'ec2' })).rejects.toThrow(
      /"ec2" is neither a Vagrant nor an EC2 machine: there is nothing to start or stop/,
    );
    await expect(host.call('machines.deploy', { machine: 'nope' })).rejects.toThrow(/no machine named "nope"/);
    // An SSH host that listens nowhere: the deploy is tried, and fails saying where.
    await expect(host.call('machines.deploy', { machine: 'ec2' })).rejects.toThrow(/127\.0\.0\.1:1/);
  });

  it('an unreadable machines.json: describe says so instead of listing fewer machines without a word', async () => {
    await writeFile(join(dir, 'machines.json'), '{ not json');
    await expect(hostCore().call('machines.describe', {})).rejects.toThrow(/machines\.json/);
  });
});
