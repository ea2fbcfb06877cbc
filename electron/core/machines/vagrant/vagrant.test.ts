// The Vagrant provider against Debian's real `vagrant` (2.3, with vagrant-libvirt): the
// Vagrantfile Onggi writes passes `vagrant validate` for VirtualBox (the default; VirtualBox
// itself is absent here, hence --ignore-provider) and libvirt; the machine-readable parsers read
// output captured from the real CLI; a missing vagrant or VirtualBox gives an error that says
// what to install. Each test has its own VAGRANT_HOME and data dir; nothing is ever booted here.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT } from '../../../../build/testing/isolated-agent.js';
import { MachineAddVagrantParams, VagrantMachineDefinition } from '../../../../shared/machines.js';
import { MachineRegistry } from '../registry.js';
import { resolveSshConfig } from '../ssh/ssh-config.js';
import { errorFromRows, parseMachineReadable, runVagrant, statusFromRows, vagrantFailure, type VagrantCli } from './vagrant-cli.js';
import { SETTINGS_FILE, progressFromRow, vagrantMadeVm, writeVagrantDir } from './vagrant-machine.js';
import { VagrantMachines } from './vagrant-machines.js';
import type { HostEvent } from '../../../../shared/host-api.js';
import { createHostCore } from '../../host-core.js';

const TEMPLATE_DIR = join(REPO_ROOT, 'vm-assets/vagrant');
const FIXTURES = join(__dirname, 'fixtures');
let root: string;
let cli: VagrantCli;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'onggi-vagrant-'));
  cli = { command: 'vagrant', env: { VAGRANT_HOME: join(root, 'vagrant.d') } };
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

function definition(input: Record<string, unknown>): VagrantMachineDefinition {
  return VagrantMachineDefinition.parse({ provider: 'vagrant', name: 'vm1', ...input });
}

describe('the generated Vagrantfile', () => {
  it('passes the real `vagrant validate` for VirtualBox (the default), with resources, a private network and a disk', async () => {
    const dir = join(root, 'vbox');
    const def = definition({ box: 'debian/bookworm64', cpus: 4, memoryMb: 4096, diskGb: 40, privateNetworkIp: '192.168.56.10' });
    await writeVagrantDir(dir, TEMPLATE_DIR, def);
    expect(JSON.parse(await readFile(join(dir, SETTINGS_FILE), 'utf8'))).toEqual({
      name: 'vm1',
      box: 'debian/bookworm64',
      cpus: 4,
      memoryMb: 4096,
      diskGb: 40,
      privateNetworkIp: '192.168.56.10',
      syncedFolder: false,
      provider: 'virtualbox',
      hostname: 'onggi-vm1',
    });
    const run = await runVagrant(['validate', '--ignore-provider'], { cwd: dir, cli, experimentalDisks: true });
    expect(run.stderr).not.toMatch(/error|unknown|invalid/i);
    expect(run.stdout).toContain('Vagrantfile validated successfully.');
    expect(run.code).toBe(0);
    // Without --ignore-provider, with VirtualBox as the provider, it fails here for want of VirtualBox:
    // the point of the flag.
    const strict = await runVagrant(['validate'], {
      cwd: dir,
      cli: { ...cli, env: { ...cli.env, VAGRANT_DEFAULT_PROVIDER: 'virtualbox' } },
      experimentalDisks: true,
    });
    expect(strict.code).not.toBe(0);
    expect(strict.stdout + strict.stderr).toMatch(/could not detect VirtualBox/);
  }, 60_000);

  it('passes `vagrant validate` for libvirt (qemu driver, own URI), and a broken setting is caught by Vagrant', async () => {
    const dir = join(root, 'libvirt');
    // A box of one's own: a bare root filesystem booted with its kernel, root's key, no sudo.
    // (Vagrant checks that the key file exists.)
    await writeFile(join(root, 'id_test'), 'not a real key\n', { mode: 0o600 });
    await writeVagrantDir(
      dir,
      TEMPLATE_DIR,
      definition({
        vagrantProvider: 'libvirt',
        libvirt: { driver: 'qemu', kernel: '/boot/vmlinuz', initrd: '/boot/initrd.img', cmdLine: 'root=/dev/vda rw console=ttyS0' },
        sshSudoCommand: '%c',
        sshUsername: 'root',
        sshPrivateKey: join(root, 'id_test'),
      }),
    );
    const run = await runVagrant(['validate'], { cwd: dir, cli });
    expect(run.stdout).toContain('Vagrantfile validated successfully.');
    expect(run.code).toBe(0);
    // The template really reads the settings: a hostname Vagrant rejects fails validation.
    const bad = join(root, 'bad');
    await writeVagrantDir(bad, TEMPLATE_DIR, definition({ vagrantProvider: 'libvirt' }));
    const settings = JSON.parse(await readFile(join(bad, SETTINGS_FILE), 'utf8')) as Record<string, unknown>;
    settings.hostname = 'not a host name!';
    await writeFile(join(bad, SETTINGS_FILE), JSON.stringify(settings));
    const invalid = await runVagrant(['validate'], { cwd: bad, cli });
    expect(invalid.code).not.toBe(0);
    expect(invalid.stdout + invalid.stderr).toMatch(/hostname/i);
  }, 60_000);
});

describe('vagrant output parsers (on output captured from the real CLI)', () => {
  it('reads `vagrant status --machine-readable` of a machine not created yet', async () => {
    const rows = parseMachineReadable(await readFile(join(FIXTURES, 'status-not-created-libvirt.txt'), 'utf8'));
    expect(statusFromRows(rows)).toEqual({
      state: 'not_created',
      provider: 'libvirt',
      description: 'The Libvirt domain is not created. Run `vagrant up` to create it.',
    });
    // Escaped newlines come back as newlines.
    expect(rows.at(-1)?.data[1]).toContain('Current machine states:\n\ndefault');
  });

  it('reads the states of a real vagrant-libvirt machine: running, then shutoff after halt', async () => {
    const running = statusFromRows(parseMachineReadable(await readFile(join(FIXTURES, 'status-running-libvirt.txt'), 'utf8')));
    expect(running).toMatchObject({ state: 'running', provider: 'libvirt' });
    expect(running.description).toContain('To stop this machine, you can run\n`vagrant halt`.');
    const halted = statusFromRows(parseMachineReadable(await readFile(join(FIXTURES, 'status-shutoff-libvirt.txt'), 'utf8')));
    expect(halted.state).toBe('shutoff');
    // up/halt/destroy output becomes progress lines.
    const up = parseMachineReadable(await readFile(join(FIXTURES, 'halt-libvirt.txt'), 'utf8'));
    expect(up.map((row) => progressFromRow('lv1', 'halt', row)).filter(Boolean)).toContainEqual({
      machine: 'lv1',
      action: 'halt',
      kind: 'output',
      text: '==> default: Attempting graceful shutdown of VM...',
    });
  });

  it('reads `vagrant ssh-config` of a running vagrant-libvirt machine with the ssh config parser', async () => {
    const host = await resolveSshConfig('default', { file: join(FIXTURES, 'ssh-config-libvirt.txt'), home: root });
    expect(host).toMatchObject({ hostName: '192.168.121.124', port: 22, user: 'root', identitiesOnly: true });
    expect(host.identityFiles[0]).toMatch(/\/id_ed25519$/);
  });

  it('reads the live status of a machine directory the same way', async () => {
    const dir = join(root, 'status');
    await writeVagrantDir(dir, TEMPLATE_DIR, definition({ vagrantProvider: 'libvirt', box: 'onggi-none' }));
    const run = await runVagrant(['status', '--machine-readable'], {
      cwd: dir,
      cli: { ...cli, env: { ...cli.env, VAGRANT_DEFAULT_PROVIDER: 'libvirt' } },
    });
    expect(run.code).toBe(0);
    expect(statusFromRows(run.rows)).toMatchObject({ state: 'not_created', provider: 'libvirt' });
  }, 60_000);

  it("turns VirtualBox's absence into an error that says what to install (commas unescaped)", async () => {
    const rows = parseMachineReadable(await readFile(join(FIXTURES, 'up-virtualbox-missing.txt'), 'utf8'));
    const error = errorFromRows(rows);
    expect(error?.kind).toBe('Vagrant::Errors::ProviderNotUsable');
    expect(error?.message).toContain('VBoxManage` binary that ships with VirtualBox, and requires');
    const failure = vagrantFailure('up', { code: 1, stdout: '', stderr: '', rows }, 'virtualbox');
    expect(failure.kind).toBe('virtualbox_missing');
    expect(failure.message).toMatch(/VirtualBox is not usable here: install VirtualBox .*or choose another provider with --provider/);
    const progress = rows.map((row) => progressFromRow('vm1', 'up', row)).filter(Boolean);
    expect(progress[0]).toMatchObject({ machine: 'vm1', action: 'up', kind: 'error' });
    expect(progress[0]?.text).toContain("The provider 'virtualbox' that was requested to back the machine\n'default'");
  });

  it('says how to install vagrant when it is missing', async () => {
    await expect(runVagrant(['status'], { cwd: root, cli: { command: join(root, 'no-vagrant-here'), env: {} } })).rejects.toThrow(
      /vagrant was not found .*install Vagrant \(https:\/\/developer\.hashicorp\.com\/vagrant\/install/,
    );
  });
});

describe('Vagrant machines in the host core', () => {
  it('adds a machine (stored, directory written), and `machine start` without VirtualBox fails with the install hint', async () => {
    const dataDir = join(root, 'data');
    const registry = new MachineRegistry();
    const states: string[] = [];
    const progress: string[] = [];
    const machines = new VagrantMachines({
      dataDir,
      templateDir: TEMPLATE_DIR,
      agentDir: join(root, 'agent'),
      bundlesDir: join(root, 'bundles'),
      registry,
      prompts: { hostKey: () => Promise.resolve(false), secret: () => Promise.resolve(undefined) },
      onState: (_machine, state) => states.push(state),
      onAgentEvent: () => undefined,
      onProgress: (line) => progress.push(line.text),
      onDeploy: () => undefined,
      cli,
    });
    await expect(machines.add({ provider: 'vagrant', name: 'vm1', cpus: 0 })).rejects.toThrow(/params\.cpus/);
    await expect(machines.add({ provider: 'vagrant', name: 'vm1', box: '-oops' })).rejects.toThrow(/params\.box/);
    const vm = await machines.add(MachineAddVagrantParams.parse({ provider: 'vagrant', name: 'vm1', box: 'onggi-none', memoryMb: 1024 }));
    expect(vm.dir).toBe(join(dataDir, 'vagrant/vm1'));
    const stored = JSON.parse(await readFile(join(dataDir, 'machines.json'), 'utf8')) as { machines: unknown[] };
    expect(stored.machines).toEqual([
      {
        provider: 'vagrant',
        name: 'vm1',
        box: 'onggi-none',
        cpus: 2,
        memoryMb: 1024,
        vagrantProvider: 'virtualbox',
        syncedFolder: false,
        shares: [],
      },
    ]);
    expect(registry.list()).toEqual([{ name: 'vm1', provider: 'vagrant', state: 'stopped' }]);
    await expect(vm.start()).rejects.toThrow(/vagrant up: VirtualBox is not usable here: install VirtualBox/);
    expect(states).toEqual(['starting', 'error']);
    expect(progress.join('\n')).toContain('Vagrant could not detect VirtualBox!');
    expect(progress.join('\n')).not.toContain('experimental');
    expect(registry.list()[0]).toMatchObject({ state: 'error', error: expect.stringContaining('VirtualBox') });
    // The agent of a machine that is not running is not reached for (nor is the VM started).
    await expect(vm.agent()).rejects.toThrow(/the Vagrant machine "vm1" is not created: start it with `onggi machine start vm1`/);
    // Never made, so nothing to destroy: removing it must not run `vagrant destroy`, which fails
    // here for the same reason the start did.
    expect(await vagrantMadeVm(vm.dir)).toBe(false);
    progress.length = 0;
    await machines.remove('vm1');
    expect(progress).toEqual([]);
    expect(registry.list()).toEqual([]);
    expect(existsSync(vm.dir)).toBe(false);
    expect((JSON.parse(await readFile(join(dataDir, 'machines.json'), 'utf8')) as { machines: unknown[] }).machines).toEqual([]);
  }, 120_000);

  it('the CLI adds a Vagrant machine with --memory 4g and lists it; start names what to install', () => {
    const home = join(root, 'cli-home');
    const env = { ...process.env, ONGGI_HOME: home, HOME: home, VAGRANT_HOME: join(root, 'vagrant.d') };
    const onggi = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 120_000 });
    const added = onggi('machine', 'add', 'vagrant', 'dev', '--box', 'onggi-none', '--cpus', '3', '--memory', '4g');
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(/^added dev: onggi-none on virtualbox, 3 CPUs, 4096 MiB \(Vagrantfile in .*\/vagrant\/dev\)/);
    expect(onggi('machine', 'ls').stdout).toMatch(/^dev +vagrant +stopped +onggi-none \(virtualbox\) in /m);
    const started = onggi('machine', 'start', 'dev');
    expect(started.status).toBe(1);
    expect(started.stderr).toMatch(/onggi: vagrant up: VirtualBox is not usable here: install VirtualBox/);
    expect(onggi('machine', 'stop', 'local').stderr).toMatch(/no Vagrant or EC2 machine named "local"/);
  }, 120_000);

  it('shares desktop folders with a Vagrant machine through the CLI: stored with its definition (one stored before sharing loads with none), kept out of the Vagrantfile settings', async () => {
    const home = join(root, 'share-home');
    const desktop = join(root, 'share-desktop');
    await mkdir(join(desktop, 'docs'), { recursive: true });
    // A definition stored before sharing existed: no `shares`.
    await mkdir(home, { recursive: true });
    await writeFile(
      join(home, 'machines.json'),
      JSON.stringify({ version: 1, machines: [{ provider: 'vagrant', name: 'old', box: 'onggi-none', vagrantProvider: 'virtualbox' }] }),
    );
    const env = { ...process.env, ONGGI_HOME: home, HOME: home, VAGRANT_HOME: join(root, 'vagrant.d') };
    const onggi = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 120_000 });
    expect(onggi('machine', 'shares', 'old').stdout).toBe('no shared folders\n');
    const shared = onggi('machine', 'share', 'old', desktop);
    expect(shared.stderr).toBe('');
    expect(shared.stdout).toBe(`${desktop}\n`);
    expect(onggi('machine', 'share', 'old', join(desktop, 'docs'), '--read-only').stdout).toBe(
      `${desktop}\n${join(desktop, 'docs')} (read-only)\n`,
    );
    const shares = [
      { path: desktop, readOnly: false },
      { path: join(desktop, 'docs'), readOnly: true },
    ];
    const stored = JSON.parse(await readFile(join(home, 'machines.json'), 'utf8')) as { machines: Array<Record<string, unknown>> };
    expect(stored.machines).toEqual([expect.objectContaining({ provider: 'vagrant', name: 'old', shares })]);
    expect(JSON.parse(onggi('machine', 'shares', 'old', '--json').stdout)).toEqual(shares);
    // The VM is not running: a desktop path is not mounted behind the user's back.
    const run = onggi('run', '--rm', '--machine', 'old', '-v', `${desktop}:/app`, 'busybox', 'true');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/"old" is not created: start it with `onggi machine start old`/);
    // The Vagrantfile's settings carry what Vagrant needs, not the shares.
    expect(JSON.parse(await readFile(join(home, 'vagrant', 'old', SETTINGS_FILE), 'utf8'))).not.toHaveProperty('shares');
    expect(onggi('machine', 'unshare', 'old', desktop).stdout).toBe(`${join(desktop, 'docs')} (read-only)\n`);
    expect(onggi('machine', 'share', 'local', desktop).stderr).toMatch(/"local" is this computer: .* nothing needs sharing/);
  }, 120_000);

  it('the host API adds, starts and stops a Vagrant machine: params checked on arrival, `vagrant up` streamed as events', async () => {
    const core = createHostCore({
      dataDir: join(root, 'api-data'),
      agentDir: join(root, 'agent'),
      nodeRuntime: { command: process.execPath },
      // Never started here (nothing calls the local agent), and never the real /run/onggi.
      localAgent: { runDir: join(root, 'api-run'), stateDir: join(root, 'api-state') },
      platform: 'linux',
      vagrantTemplateDir: TEMPLATE_DIR,
      vagrant: cli,
    });
    try {
      await expect(core.call('machines.addVagrant', { provider: 'vagrant', name: 'vm2', cpus: 0 })).rejects.toMatchObject({
        field: 'params.cpus',
      });
      await expect(core.call('machines.addVagrant', { provider: 'vagrant', name: 'vm2', memoryMb: '2g' })).rejects.toThrow(
        /params\.memoryMb/,
      );
      await expect(core.call('machines.addVagrant', { provider: 'vagrant', name: 'vm2', surprise: 1 })).rejects.toThrow(/surprise/);
      await expect(core.call('machines.start', { machine: 'vm2', extra: true })).rejects.toThrow(/extra/);
      expect(
        await core.call('machines.addVagrant', { provider: 'vagrant', name: 'vm2', box: 'onggi-none', cpus: 3, memoryMb: 3072 }),
      ).toEqual({
        name: 'vm2',
        provider: 'vagrant',
        box: 'onggi-none',
        cpus: 3,
        memoryMb: 3072,
        vagrantProvider: 'virtualbox',
      });
      expect(await core.call('machines.list', {})).toContainEqual({ name: 'vm2', provider: 'vagrant', state: 'stopped' });
      await expect(core.call('machines.start', { machine: 'local' })).rejects.toThrow(/"local" is neither a Vagrant nor an EC2 machine/);
      await expect(core.call('machines.stop', { machine: 'nope' })).rejects.toThrow(/no Vagrant or EC2 machine named "nope"/);

      const events: HostEvent[] = [];
      core.onEvent((event) => events.push(event));
      // The real vagrant, without VirtualBox: the provider's clear error comes back through the API.
      await expect(core.call('machines.start', { machine: 'vm2' })).rejects.toThrow(
        /vagrant up: VirtualBox is not usable here: install VirtualBox/,
      );
      const lines = events.flatMap((event) => (event.type === 'machine.vagrant' && event.machine === 'vm2' ? [event] : []));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.every((line) => line.action === 'up')).toBe(true);
      expect(lines.map((line) => line.text).join('\n')).toContain('Vagrant could not detect VirtualBox!');
      expect(events).toContainEqual(expect.objectContaining({ type: 'machine.state', machine: 'vm2', state: 'starting' }));
      expect(events).toContainEqual(expect.objectContaining({ type: 'machine.state', machine: 'vm2', state: 'error' }));
      // Stopping a machine that was never created is `vagrant halt` on nothing: it reaches the provider and returns.
      await core.call('machines.stop', { machine: 'vm2' });
      expect(await core.call('machines.list', {})).toContainEqual({ name: 'vm2', provider: 'vagrant', state: 'stopped' });
    } finally {
      await core.close();
    }
  }, 180_000);
});
