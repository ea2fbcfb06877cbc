// Vagrant from a Mac or a Windows PC, with their facts handed to the platform layer on this Linux
// machine and Debian's real `vagrant` (2.3): the vagrant an app started from Finder spawns finds
// Homebrew's and the vendors' tools; a machine added on Apple Silicon or Windows on ARM gets an
// arm64 box (and a provider that runs there), which the Vagrantfile asks Vagrant for.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../../build/testing/isolated-agent.js';
import type { PlatformFacts } from '../../platform/platform.js';
import { factsFor } from '../../platform/test-facts.js';
import { MachineRegistry } from '../registry.js';
import { runVagrant, vagrantFailure, type VagrantCli } from './vagrant-cli.js';
import { SETTINGS_FILE } from './vagrant-machine.js';
import { VagrantMachines } from './vagrant-machines.js';

const TEMPLATE_DIR = join(REPO_ROOT, 'vm-assets/vagrant');
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-vagrant-desktops-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

function machines(facts: PlatformFacts, name: string, cli?: VagrantCli): VagrantMachines {
  return new VagrantMachines({
    facts,
    dataDir: join(root, name),
    templateDir: TEMPLATE_DIR,
    agentDir: join(root, 'agent'),
    bundlesDir: join(root, 'bundles'),
    registry: new MachineRegistry(),
    prompts: { hostKey: () => Promise.resolve(false), secret: () => Promise.resolve(undefined) },
    onState: () => undefined,
    onAgentEvent: () => undefined,
    onProgress: () => undefined,
    onDeploy: () => undefined,
    ...(cli ? { cli } : {}),
  });
}

describe('vagrant spawned by an app started from Finder', () => {
  it('gets PATH=/usr/bin:/bin:/usr/sbin:/sbin plus Homebrew and /usr/local/bin, so VBoxManage and friends are found', async () => {
    // A stand-in vagrant that reports the PATH it was given as a machine-readable row.
    const fake = join(root, 'fake-vagrant');
    await writeFile(fake, '#!/bin/sh\nprintf "1,,path,%s\\n" "$PATH"\n');
    await chmod(fake, 0o755);
    const facts = factsFor('darwin', 'arm64');
    const run = await runVagrant(['status', '--machine-readable'], { cwd: root, facts, cli: { command: fake, env: {} } });
    const path = run.rows.find((row) => row.type === 'path')?.data[0]?.split(':');
    expect(path?.slice(0, 4)).toEqual(['/usr/bin', '/bin', '/usr/sbin', '/sbin']);
    expect(path).toContain('/opt/homebrew/bin');
    expect(path).toContain('/usr/local/bin');
    expect(path).toContain('/Applications/VirtualBox.app/Contents/MacOS');
  });

  it('without VirtualBox, a Windows user is pointed at VBOX_MSI_INSTALL_PATH (what Vagrant reads there), not at PATH', () => {
    const rows = [{ timestamp: 1, target: '', type: 'error-exit', data: ['Vagrant::Errors::ProviderNotUsable', 'VirtualBox missing'] }];
    const failure = vagrantFailure('up', { code: 1, stdout: '', stderr: '', rows }, 'virtualbox', factsFor('win32'));
    expect(failure.message).toMatch(/winget install Oracle\.VirtualBox.*VBOX_MSI_INSTALL_PATH/);
    expect(failure.message).not.toMatch(/VBoxManage is on PATH/);
  });
});

describe('the default box on ARM desktops', () => {
  it('Apple Silicon (no VMware, no Parallels here): an arm64 Debian box on VirtualBox, its arm64 build asked of Vagrant', async () => {
    const vagrant = machines(factsFor('darwin', 'arm64'), 'mac', { command: 'vagrant', env: { VAGRANT_HOME: join(root, 'vagrant.d') } });
    const vm = await vagrant.add({ provider: 'vagrant', name: 'dev' });
    expect(vm.definition).toMatchObject({ box: 'bento/debian-12', vagrantProvider: 'virtualbox', boxArchitecture: 'arm64' });
    expect(JSON.parse(await readFile(join(vm.dir, SETTINGS_FILE), 'utf8'))).toMatchObject({
      box: 'bento/debian-12',
      boxArchitecture: 'arm64',
      provider: 'virtualbox',
    });
    // Debian's Vagrant is 2.3, older than box_architecture (2.4): the Vagrantfile says to update.
    const run = await runVagrant(['validate', '--ignore-provider'], {
      cwd: vm.dir,
      cli: { command: 'vagrant', env: { VAGRANT_HOME: join(root, 'vagrant.d') } },
    });
    expect(run.code).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toContain('which Vagrant chooses from version 2.4.0 on (this is 2.3');
  }, 60_000);

  it('Windows on ARM: Hyper-V; a box the user names keeps Vagrant’s own architecture choice', async () => {
    const vagrant = machines(factsFor('win32', 'arm64'), 'woa');
    const vm = await vagrant.add({ provider: 'vagrant', name: 'dev' });
    expect(vm.definition).toMatchObject({ box: 'bento/debian-12', vagrantProvider: 'hyperv', boxArchitecture: 'arm64' });
    const own = await vagrant.add({ provider: 'vagrant', name: 'own', box: 'acme/arm-box', vagrantProvider: 'hyperv' });
    expect(own.definition.box).toBe('acme/arm-box');
    expect(own.definition.boxArchitecture).toBeUndefined();
  });

  it('x64 desktops keep debian/bookworm64 on VirtualBox, with no architecture setting (older Vagrants keep working)', async () => {
    for (const [os, name] of [
      ['darwin', 'intel-mac'],
      ['win32', 'pc'],
      ['linux', 'linux'],
    ] as const) {
      const vm = await machines(factsFor(os, 'x64'), name).add({ provider: 'vagrant', name: 'dev' });
      expect(vm.definition).toMatchObject({ box: 'debian/bookworm64', vagrantProvider: 'virtualbox' });
      expect(vm.definition.boxArchitecture).toBeUndefined();
    }
  });
});
