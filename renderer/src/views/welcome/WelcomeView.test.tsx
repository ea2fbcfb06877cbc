// @vitest-environment jsdom
// The first screen without a machine, as the whole window shows it, for what the host reports on a
// Mac, a Windows PC and a Linux box without root: what was found, the exact commands for what is
// missing, and the two ways on (the existing add dialogs).
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HostSetupReport } from '../../../../shared/host-setup.js';
import { App } from '../../App';
import { useLanguageStore } from '../../i18n';
import { createStores, StoresContext, type Stores } from '../../stores';
import { useNavigation } from '../../stores/navigation';
import { deferred, ScriptedClient } from '../../stores/test-fixtures';
import { useToasts } from '../../stores/toasts';

const macNothing: HostSetupReport = {
  os: 'darwin',
  arch: 'arm64',
  localMachine: false,
  vagrant: {},
  hypervisors: [
    {
      id: 'virtualbox',
      vagrantProvider: 'virtualbox',
      found: { path: '/usr/local/bin/VBoxManage', version: '7.0.14' },
      unusable: { reason: 'too_old', minimumVersion: '7.1' },
    },
    { id: 'vmware', vagrantProvider: 'vmware_desktop', pluginCommand: 'vagrant plugin install vagrant-vmware-desktop' },
    { id: 'parallels', vagrantProvider: 'parallels', pluginCommand: 'vagrant plugin install vagrant-parallels' },
  ],
  vagrantReady: false,
  install: [
    {
      installs: [{ target: 'vagrant', url: 'https://developer.hashicorp.com/vagrant/install' }],
      command: { text: 'brew install --cask vagrant', manager: 'brew', managerFound: false, admin: false },
    },
    {
      installs: [{ target: 'virtualbox', url: 'https://www.virtualbox.org/wiki/Downloads' }],
      command: { text: 'brew upgrade --cask virtualbox', manager: 'brew', managerFound: false, admin: false },
    },
  ],
};

const windowsReady: HostSetupReport = {
  os: 'win32',
  arch: 'x64',
  localMachine: false,
  vagrant: { found: { path: 'C:\\Program Files\\Vagrant\\bin\\vagrant.exe', version: '2.4.9' } },
  hypervisors: [
    { id: 'virtualbox', vagrantProvider: 'virtualbox' },
    { id: 'hyperv', vagrantProvider: 'hyperv', found: { path: 'C:\\Windows\\System32\\vmms.exe' } },
    { id: 'vmware', vagrantProvider: 'vmware_desktop', pluginCommand: 'vagrant plugin install vagrant-vmware-desktop' },
  ],
  vagrantReady: true,
  suggestedProvider: 'hyperv',
  install: [],
};

const windowsArmNothing: HostSetupReport = {
  ...windowsReady,
  arch: 'arm64',
  vagrant: {},
  hypervisors: windowsReady.hypervisors.map(({ found: _found, ...hypervisor }) => hypervisor),
  vagrantReady: false,
  suggestedProvider: undefined,
  install: [
    {
      installs: [{ target: 'vagrant', url: 'https://developer.hashicorp.com/vagrant/install' }],
      command: { text: 'winget install -e --id Hashicorp.Vagrant', manager: 'winget', managerFound: true, admin: false },
    },
    {
      installs: [{ target: 'hyperv', url: 'https://learn.microsoft.com/virtualization/hyper-v-on-windows/quick-start/enable-hyper-v' }],
      command: {
        text: 'Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V -All',
        manager: 'powershell',
        managerFound: true,
        admin: true,
      },
    },
  ],
};

const linuxNoRoot: HostSetupReport = {
  os: 'linux',
  arch: 'x64',
  localMachine: false,
  vagrant: { found: { path: '/usr/bin/vagrant', version: '2.3.4' } },
  hypervisors: [
    { id: 'libvirt', vagrantProvider: 'libvirt', pluginCommand: 'vagrant plugin install vagrant-libvirt' },
    { id: 'virtualbox', vagrantProvider: 'virtualbox' },
    { id: 'vmware', vagrantProvider: 'vmware_desktop', pluginCommand: 'vagrant plugin install vagrant-vmware-desktop' },
  ],
  vagrantReady: false,
  install: [
    {
      installs: [{ target: 'libvirt', url: 'https://vagrant-libvirt.github.io/vagrant-libvirt/installation.html' }],
      command: { text: 'sudo apt-get install vagrant-libvirt libvirt-daemon-system', manager: 'apt', managerFound: true, admin: false },
    },
  ],
};

function renderApp(client: ScriptedClient): Stores {
  const stores = createStores(client);
  stores.machines.setState({ status: 'ready', machines: [] });
  render(
    <StoresContext value={stores}>
      <App />
    </StoresContext>,
  );
  return stores;
}

const client = (reports: HostSetupReport[] | (() => Promise<HostSetupReport>)) =>
  new ScriptedClient({
    'setup.check': typeof reports === 'function' ? reports : () => reports.shift() ?? macNothing,
    'machines.sshConfigHosts': () => [],
  });

/** The checklist row of one program: its name (and version), its state, its path. */
const row = (name: string) => {
  const list = screen.getByRole('list', { name: 'Found on this computer' });
  const item = within(list)
    .getAllByRole('listitem')
    .find((li) => li.textContent?.startsWith(name));
  if (!item) throw new Error(`no row for ${name}`);
  return item.textContent ?? '';
};

const steps = () =>
  within(screen.getByRole('heading', { name: 'To install' }).parentElement as HTMLElement)
    .getAllByRole('listitem')
    .map((item) => item.textContent);

describe('the welcome', () => {
  beforeEach(() => {
    useLanguageStore.setState({ language: 'en' });
    useNavigation.setState({ ...useNavigation.getInitialState(), view: 'machines' });
    useToasts.setState({ toasts: [] });
  });
  afterEach(cleanup);

  it('on a Mac with nothing usable: what was found, the brew commands, Homebrew missing, and no Vagrant VM yet', async () => {
    renderApp(client([macNothing]));
    expect(screen.getByRole('heading', { level: 1, name: 'Welcome to Onggi' })).toBeTruthy();
    expect(await screen.findByText(/A Mac is not one, so Onggi needs a Linux VM on this Mac/)).toBeTruthy();
    expect(screen.getByRole('heading', { level: 2, name: 'A Linux VM on this Mac' })).toBeTruthy();
    expect(row('Vagrant')).toBe('VagrantNot found');
    expect(row('VirtualBox')).toBe('VirtualBox 7.0.14Needs 7.1 or later/usr/local/bin/VBoxManage');
    expect(row('VMware Fusion')).toBe('VMware FusionNot found');
    expect(row('Parallels Desktop')).toBe('Parallels DesktopNot found');
    expect(steps()).toEqual([
      'Install Vagrantbrew install --cask vagrantHomebrew is not installed: get it from brew.sh first, or use the download pages.Or download: Vagrant',
      'Install VirtualBoxbrew upgrade --cask virtualboxHomebrew is not installed: get it from brew.sh first, or use the download pages.Or download: VirtualBox',
    ]);
    expect(screen.getByRole('link', { name: 'VirtualBox' }).getAttribute('href')).toBe('https://www.virtualbox.org/wiki/Downloads');
    expect((screen.getByRole('button', { name: 'Add a Vagrant VM' }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByText('Needs Vagrant and a hypervisor: install what is missing, above.')).toBeTruthy();

    // The SSH way needs nothing installed: the Machines view's own dialog opens.
    fireEvent.click(screen.getByRole('button', { name: 'Add an SSH host' }));
    expect(screen.getByRole('dialog', { name: 'Add an SSH host' })).toBeTruthy();
  });

  it('copies a command to the clipboard', async () => {
    const writeText = vi.fn(async (_text: string) => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    renderApp(client([macNothing]));
    const copy = await screen.findByRole('button', { name: 'Copy the command brew install --cask vagrant' });
    await act(async () => {
      fireEvent.click(copy);
    });
    expect(writeText).toHaveBeenCalledWith('brew install --cask vagrant');
    expect(useToasts.getState().toasts.map((toast) => toast.title)).toEqual(['Command copied']);
    Reflect.deleteProperty(navigator, 'clipboard');
  });

  it('on a Windows PC with Vagrant and Hyper-V: ready, and the Vagrant dialog starts on the hyperv provider', async () => {
    renderApp(client([windowsReady]));
    expect(await screen.findByText('Ready: a new VM will use the hyperv provider.')).toBeTruthy();
    expect(screen.getByRole('heading', { level: 2, name: 'A Linux VM on this PC' })).toBeTruthy();
    expect(row('Vagrant')).toBe('Vagrant 2.4.9FoundC:\\Program Files\\Vagrant\\bin\\vagrant.exe');
    expect(row('Hyper-V')).toBe('Hyper-VFoundC:\\Windows\\System32\\vmms.exe');
    expect(row('VMware Workstation')).toBe('VMware WorkstationNot found');
    expect(screen.queryByRole('heading', { name: 'To install' })).toBeNull();
    const add = screen.getByRole('button', { name: 'Add a Vagrant VM' }) as HTMLButtonElement;
    expect(add.disabled).toBe(false);
    fireEvent.click(add);
    const dialog = screen.getByRole('dialog', { name: 'Add a Vagrant VM' });
    expect((within(dialog).getByRole('combobox', { name: 'Vagrant provider' }) as HTMLInputElement).value).toBe('hyperv');
  });

  it('on Windows on ARM: winget for Vagrant, and Hyper-V from an administrator PowerShell', async () => {
    renderApp(client([windowsArmNothing]));
    expect(await screen.findByRole('heading', { name: 'To install' })).toBeTruthy();
    expect(steps()).toEqual([
      'Install Vagrantwinget install -e --id Hashicorp.VagrantOr download: Vagrant',
      'Turn on Hyper-VIn PowerShell opened with “Run as administrator”, then restart Windows:Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V -AllHow to: Hyper-V',
    ]);
  });

  it('on Linux without root: says why this computer is not a machine, and the apt line for libvirt', async () => {
    renderApp(client([linuxNoRoot]));
    expect(await screen.findByText(/This computer is not one here \(Onggi is not running as root\)/)).toBeTruthy();
    expect(row('Vagrant')).toBe('Vagrant 2.3.4Found/usr/bin/vagrant');
    expect(steps()).toEqual(['Install libvirt (KVM)sudo apt-get install vagrant-libvirt libvirt-daemon-systemOr download: libvirt (KVM)']);
  });

  it('checks again on request, keeping the last report on screen meanwhile', async () => {
    const second = deferred<HostSetupReport>();
    const answers = [Promise.resolve(macNothing), second.promise];
    const scripted = client(() => answers.shift() ?? Promise.reject(new Error('asked too often')));
    renderApp(scripted);
    expect(await screen.findByRole('heading', { name: 'To install' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Check again' }));
    expect(scripted.callsOf('setup.check')).toHaveLength(2);
    expect(screen.getByRole('heading', { name: 'To install' })).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Check again' }) as HTMLButtonElement).disabled).toBe(true);
    await act(async () => second.resolve({ ...windowsReady, os: 'darwin', suggestedProvider: 'virtualbox' }));
    expect(screen.queryByRole('heading', { name: 'To install' })).toBeNull();
    expect(screen.getByText('Ready: a new VM will use the virtualbox provider.')).toBeTruthy();
  });

  it('says when the check fails, and the SSH way still works', async () => {
    renderApp(client(() => Promise.reject(new Error('setup.check failed: EACCES'))));
    expect((await screen.findByRole('alert')).textContent).toBe('Could not check this computer: setup.check failed: EACCES');
    expect((screen.getByRole('button', { name: 'Add an SSH host' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('stands in for every section while there is no machine, in Korean too, and gives way once one is added', async () => {
    const scripted = client([macNothing, macNothing]);
    const stores = renderApp(scripted);
    await screen.findByRole('heading', { name: 'To install' });
    fireEvent.click(within(screen.getByRole('navigation', { name: 'Sections' })).getByRole('button', { name: 'Containers' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Welcome to Onggi' })).toBeTruthy();
    fireEvent.change(screen.getByRole('combobox', { name: 'Language' }), { target: { value: 'ko' } });
    expect(screen.getByRole('heading', { level: 1, name: '옹기에 오신 것을 환영합니다' })).toBeTruthy();
    expect(await screen.findByRole('heading', { level: 2, name: '이 Mac의 리눅스 VM' })).toBeTruthy();
    fireEvent.change(screen.getByRole('combobox', { name: '언어' }), { target: { value: 'en' } });

    // The first machine arrives (added from the welcome): it is chosen, and the section shows it.
    scripted.answers['containers.list'] = () => [];
    act(() => stores.machines.setState({ machines: [{ name: 'ec2', provider: 'ssh', state: 'ready' }] }));
    expect(screen.getByRole('heading', { level: 1, name: 'Containers' })).toBeTruthy();
    expect(useNavigation.getState().machine).toBe('ec2');
    expect((screen.getByRole('combobox', { name: 'Machine' }) as HTMLSelectElement).value).toBe('ec2');
  });
});
