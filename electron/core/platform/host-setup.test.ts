// The welcome's check against real programs: a temp folder of tiny scripts that print versions the
// way vagrant, VBoxManage, prlctl and virsh do, found through each OS's search folders (Windows
// names them *.exe; these run here through their #! line) and run with argv arrays.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostSetupReport } from '../../../shared/host-setup.js';
import { checkHostSetup, isProgram, runForVersion, versionAtLeast } from './host-setup.js';
import type { PlatformFacts } from './platform.js';

let dir: string;
let bin: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-host-setup-'));
  bin = join(dir, 'bin');
  await mkdir(bin);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A program that prints `output` (and exits with `code`), as the real one prints its version. */
async function fakeProgram(name: string, output: string, code = 0): Promise<string> {
  const file = join(bin, name);
  await writeFile(file, `#!/bin/sh\nprintf '%s\\n' '${output}'\nexit ${code}\n`);
  await chmod(file, 0o755);
  return file;
}

function facts(os: PlatformFacts['os'], arch: PlatformFacts['arch'], env: NodeJS.ProcessEnv = {}): PlatformFacts {
  // Windows spells it `Path`: the platform layer finds it whatever its case.
  const path = os === 'win32' ? { Path: bin } : { PATH: bin };
  return { os, arch, env: { ...path, ...env }, homedir: join(dir, 'home') };
}

describe('checkHostSetup on macOS', () => {
  it('with nothing installed, says one brew line for Vagrant and VirtualBox and that Homebrew is missing', async () => {
    const report = await checkHostSetup(facts('darwin', 'arm64'));
    expect(HostSetupReport.parse(report)).toEqual(report);
    expect(report).toMatchObject({ os: 'darwin', arch: 'arm64', localMachine: false, vagrant: {}, vagrantReady: false });
    expect(report.hypervisors.map((h) => [h.id, h.vagrantProvider, h.found])).toEqual([
      ['virtualbox', 'virtualbox', undefined],
      ['vmware', 'vmware_desktop', undefined],
      ['parallels', 'parallels', undefined],
    ]);
    expect(report.install).toEqual([
      {
        installs: [
          { target: 'vagrant', url: 'https://developer.hashicorp.com/vagrant/install' },
          { target: 'virtualbox', url: 'https://www.virtualbox.org/wiki/Downloads' },
        ],
        command: { text: 'brew install --cask vagrant virtualbox', manager: 'brew', managerFound: false, admin: false },
      },
    ]);
  });

  it('finds Vagrant and Parallels with their versions, suggests Parallels and names its plugin', async () => {
    const vagrant = await fakeProgram('vagrant', 'Vagrant 2.4.9');
    const prlctl = await fakeProgram('prlctl', 'prlctl version 20.1.2 (55742)');
    await fakeProgram('brew', 'Homebrew 4.6.0');
    const report = await checkHostSetup(facts('darwin', 'arm64'));
    expect(report.vagrant).toEqual({ found: { path: vagrant, version: '2.4.9' } });
    expect(report.hypervisors.find((h) => h.id === 'parallels')).toEqual({
      id: 'parallels',
      vagrantProvider: 'parallels',
      found: { path: prlctl, version: '20.1.2' },
      pluginCommand: 'vagrant plugin install vagrant-parallels',
    });
    expect(report).toMatchObject({ vagrantReady: true, suggestedProvider: 'parallels', install: [] });
  });

  it('on Apple Silicon, VirtualBox before 7.1 cannot run the VM: upgrade it', async () => {
    await fakeProgram('vagrant', 'Vagrant 2.4.9');
    await fakeProgram('brew', 'Homebrew 4.6.0');
    const vboxmanage = await fakeProgram('VBoxManage', '7.0.14r161095');
    const report = await checkHostSetup(facts('darwin', 'arm64'));
    expect(report.hypervisors[0]).toEqual({
      id: 'virtualbox',
      vagrantProvider: 'virtualbox',
      found: { path: vboxmanage, version: '7.0.14' },
      unusable: { reason: 'too_old', minimumVersion: '7.1' },
    });
    expect(report.vagrantReady).toBe(false);
    expect(report.suggestedProvider).toBeUndefined();
    expect(report.install.map((step) => step.command?.text)).toEqual(['brew upgrade --cask virtualbox']);
    expect(report.install[0]?.command?.managerFound).toBe(true);

    // The same VirtualBox on an Intel Mac is fine.
    const intel = await checkHostSetup(facts('darwin', 'x64'));
    expect(intel).toMatchObject({ vagrantReady: true, suggestedProvider: 'virtualbox', install: [] });
    expect(intel.hypervisors[0]?.unusable).toBeUndefined();
  });

  it('a program that fails to print its version is still found, without a version', async () => {
    const vagrant = await fakeProgram('vagrant', 'Vagrant failed to initialize at a very early stage', 1);
    const report = await checkHostSetup(facts('darwin', 'x64'));
    expect(report.vagrant).toEqual({ found: { path: vagrant } });
  });
});

describe('checkHostSetup on Windows', () => {
  // Windows paths cannot be run here: each program stands at its Windows path for the lookup, and
  // its version is read by running a real stand-in script of the same output.
  const windows = {
    SystemRoot: 'C:\\Windows',
    ProgramFiles: 'C:\\Program Files',
    Path: 'C:\\Windows\\system32;C:\\Users\\me\\AppData\\Local\\Microsoft\\WindowsApps',
  };
  async function onWindows(arch: PlatformFacts['arch'], programs: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
    const scripts = new Map<string, string>();
    for (const [path, output] of Object.entries(programs)) scripts.set(path, await fakeProgram(`stand-in-${scripts.size}`, output));
    const desktop: PlatformFacts = { os: 'win32', arch, env: { ...windows, ...env }, homedir: 'C:\\Users\\me' };
    return checkHostSetup(desktop, {
      isProgram: (file) => scripts.has(file),
      readVersion: (program, args) => runForVersion(desktop, scripts.get(program) ?? program, args),
    });
  }

  it('with nothing installed, says one winget line each (winget missing), and Hyper-V is not there', async () => {
    const report = await onWindows('x64', {});
    expect(report).toMatchObject({ os: 'win32', localMachine: false, vagrantReady: false });
    expect(report.hypervisors.map((h) => h.id)).toEqual(['virtualbox', 'hyperv', 'vmware']);
    expect(report.install.map((step) => [step.installs.map((i) => i.target), step.command])).toEqual([
      [['vagrant'], { text: 'winget install -e --id Hashicorp.Vagrant', manager: 'winget', managerFound: false, admin: false }],
      [['virtualbox'], { text: 'winget install -e --id Oracle.VirtualBox', manager: 'winget', managerFound: false, admin: false }],
    ]);
  });

  it('finds vagrant.exe where its installer puts it and VBoxManage.exe in VBOX_MSI_INSTALL_PATH (neither on Path)', async () => {
    const vagrant = 'C:\\Program Files\\Vagrant\\bin\\vagrant.exe';
    const vboxmanage = 'D:\\Apps\\VirtualBox\\VBoxManage.exe';
    const report = await onWindows(
      'x64',
      {
        [vagrant]: 'Vagrant 2.4.9',
        [vboxmanage]: '7.2.4r170995',
        'C:\\Users\\me\\AppData\\Local\\Microsoft\\WindowsApps\\winget.exe': 'v1.11.430',
      },
      { VBOX_MSI_INSTALL_PATH: 'D:\\Apps\\VirtualBox\\' },
    );
    expect(report.vagrant.found).toEqual({ path: vagrant, version: '2.4.9' });
    expect(report.hypervisors[0]?.found).toEqual({ path: vboxmanage, version: '7.2.4' });
    expect(report).toMatchObject({ vagrantReady: true, suggestedProvider: 'virtualbox', install: [] });
  });

  it('on Windows on ARM recommends Hyper-V, switched on from an administrator PowerShell, and sees it once it is on', async () => {
    const vagrant = { 'C:\\Program Files\\Vagrant\\bin\\vagrant.exe': 'Vagrant 2.4.9' };
    const off = await onWindows('arm64', vagrant);
    expect(off.hypervisors.map((h) => h.id)).toEqual(['hyperv', 'vmware', 'virtualbox']);
    expect(off.install).toEqual([
      {
        installs: [{ target: 'hyperv', url: 'https://learn.microsoft.com/virtualization/hyper-v-on-windows/quick-start/enable-hyper-v' }],
        command: {
          text: 'Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V -All',
          manager: 'powershell',
          managerFound: true,
          admin: true,
        },
      },
    ]);
    const on = await onWindows('arm64', { ...vagrant, 'C:\\Windows\\System32\\vmms.exe': '' });
    expect(on.hypervisors[0]).toEqual({ id: 'hyperv', vagrantProvider: 'hyperv', found: { path: 'C:\\Windows\\System32\\vmms.exe' } });
    expect(on).toMatchObject({ vagrantReady: true, suggestedProvider: 'hyperv', install: [] });
  });

  it('on an x64 PC with only Hyper-V on, suggests Hyper-V rather than the VirtualBox it does not have', async () => {
    const report = await onWindows('x64', {
      'C:\\Program Files\\Vagrant\\bin\\vagrant.exe': 'Vagrant 2.4.9',
      'C:\\Windows\\System32\\vmms.exe': '',
    });
    expect(report).toMatchObject({ vagrantReady: true, suggestedProvider: 'hyperv', install: [] });
  });
});

describe('checkHostSetup on Linux', () => {
  // This machine's /usr/bin has vagrant and virsh: only the temp folder's programs count.
  const linux = (arch: PlatformFacts['arch'] = 'x64') => {
    const desktop = facts('linux', arch);
    return checkHostSetup(desktop, { isProgram: (file) => file.startsWith(`${bin}/`) && isProgram(desktop, file) });
  };

  it('with apt, one sudo apt-get line installs Vagrant with libvirt', async () => {
    await fakeProgram('apt-get', 'apt 2.6.1 (amd64)');
    const report = await linux();
    expect(report).toMatchObject({ os: 'linux', localMachine: true, vagrantReady: false });
    expect(report.hypervisors.map((h) => h.id)).toEqual(['libvirt', 'virtualbox', 'vmware']);
    expect(report.install).toEqual([
      {
        installs: [
          { target: 'vagrant', url: 'https://developer.hashicorp.com/vagrant/install' },
          { target: 'libvirt', url: 'https://vagrant-libvirt.github.io/vagrant-libvirt/installation.html' },
        ],
        command: {
          text: 'sudo apt-get install vagrant vagrant-libvirt libvirt-daemon-system',
          manager: 'apt',
          managerFound: true,
          admin: false,
        },
      },
    ]);
  });

  it('with dnf and virsh already there, installs only Vagrant and its libvirt plugin', async () => {
    await fakeProgram('dnf', '4.21.1');
    const virsh = await fakeProgram('virsh', '10.1.0');
    const report = await linux();
    expect(report.hypervisors[0]).toMatchObject({ id: 'libvirt', found: { path: virsh, version: '10.1.0' } });
    expect(report.install.map((step) => step.command?.text)).toEqual(['sudo dnf install vagrant vagrant-libvirt']);
  });

  it('without a package manager we know, gives the download pages only', async () => {
    const report = await linux('arm64');
    expect(report.install).toEqual([
      { installs: [{ target: 'vagrant', url: 'https://developer.hashicorp.com/vagrant/install' }] },
      { installs: [{ target: 'libvirt', url: 'https://vagrant-libvirt.github.io/vagrant-libvirt/installation.html' }] },
    ]);
  });

  it('finds vagrant through the platform layer’s own folders (PATH first)', async () => {
    const vagrant = await fakeProgram('vagrant', 'Vagrant 2.3.4');
    const report = await checkHostSetup(facts('linux', 'x64'));
    expect(report.vagrant.found).toEqual({ path: vagrant, version: '2.3.4' });
  });

  it('a file that is not executable is not a program', async () => {
    const file = await fakeProgram('VBoxManage', '7.1.0r1');
    await chmod(file, 0o644);
    const report = await linux();
    expect(report.hypervisors.find((h) => h.id === 'virtualbox')?.found).toBeUndefined();
  });
});

describe('versionAtLeast', () => {
  it('compares dotted versions numerically', () => {
    expect(versionAtLeast('7.1', '7.1')).toBe(true);
    expect(versionAtLeast('7.0.14', '7.1')).toBe(false);
    expect(versionAtLeast('7.10.0', '7.9')).toBe(true);
    expect(versionAtLeast('10.0', '9.99')).toBe(true);
  });
});
