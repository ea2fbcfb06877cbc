// What the first-run welcome shows: whether this computer has Vagrant and a hypervisor Vagrant
// can drive, where they are and which version, and the exact commands that install what is
// missing here. Programs are looked up in the platform layer's search folders (PATH plus the
// usual install places, so an app started from Finder finds Homebrew's), and asked their version
// with argv arrays, never a shell. Nothing here installs anything: the user runs the commands.
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import {
  HostSetupReport,
  VAGRANT_PROVIDER_OF,
  type FoundTool,
  type HypervisorFinding,
  type HypervisorId,
  type InstallStep,
  type InstallTarget,
  type PackageManager,
} from '../../../shared/host-setup.js';
import { findTool, hasLocalMachine, vagrantDefaults, type PlatformFacts } from './platform.js';

/** How long one `--version` may take (Vagrant starts Ruby: about a second on a warm disk). */
const VERSION_TIMEOUT_MS = 15_000;

/** The vendors' download pages, for those who do not use the package manager we name. */
const DOWNLOAD_PAGES: Record<InstallTarget, string> = {
  vagrant: 'https://developer.hashicorp.com/vagrant/install',
  virtualbox: 'https://www.virtualbox.org/wiki/Downloads',
  vmware: 'https://www.vmware.com/products/desktop-hypervisor/workstation-and-fusion',
  parallels: 'https://www.parallels.com/products/desktop/',
  hyperv: 'https://learn.microsoft.com/virtualization/hyper-v-on-windows/quick-start/enable-hyper-v',
  libvirt: 'https://vagrant-libvirt.github.io/vagrant-libvirt/installation.html',
};

/**
 * The hypervisors worth looking for on each OS, in the order a new VM should prefer them. Windows
 * on ARM puts Hyper-V first (it runs arm64 guests); on Apple Silicon VirtualBox counts only from
 * 7.1 (see minimumVersion), else VMware Fusion or Parallels where installed.
 */
function hypervisorsFor(facts: PlatformFacts): HypervisorId[] {
  switch (facts.os) {
    case 'linux':
      return ['libvirt', 'virtualbox', 'vmware'];
    case 'darwin':
      return ['virtualbox', 'vmware', 'parallels'];
    case 'win32':
      return facts.arch === 'arm64' ? ['hyperv', 'vmware', 'virtualbox'] : ['virtualbox', 'hyperv', 'vmware'];
  }
}

/** What a missing hypervisor is replaced by: the one we tell a user without any to install. */
function recommendedHypervisor(facts: PlatformFacts): HypervisorId {
  if (facts.os === 'linux') return 'libvirt';
  if (facts.os === 'win32' && facts.arch === 'arm64') return 'hyperv';
  return 'virtualbox';
}

/** The oldest version that runs our VMs here, where it matters. */
function minimumVersion(facts: PlatformFacts, id: HypervisorId): string | undefined {
  return id === 'virtualbox' && facts.os === 'darwin' && facts.arch === 'arm64' ? '7.1' : undefined;
}

const PLUGIN_OF: Partial<Record<HypervisorId, string>> = {
  vmware: 'vagrant-vmware-desktop',
  parallels: 'vagrant-parallels',
  libvirt: 'vagrant-libvirt',
};

/** The program that shows a hypervisor is installed, and how it tells its version (none: presence only). */
const PROGRAMS: Record<Exclude<HypervisorId, 'hyperv'>, { name: string; versionArgs?: string[] }> = {
  virtualbox: { name: 'VBoxManage', versionArgs: ['--version'] },
  // `vmrun` has no version flag (it prints its usage and fails): its presence is the finding.
  vmware: { name: 'vmrun' },
  parallels: { name: 'prlctl', versionArgs: ['--version'] },
  libvirt: { name: 'virsh', versionArgs: ['--version'] },
};

/** A file the user can run: on Windows a file (an .exe needs no mode bit), elsewhere an executable file. */
export function isProgram(facts: PlatformFacts, file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    if (facts.os !== 'win32') accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first dotted version number a program prints for `args`; undefined when it fails or prints none. */
export function runForVersion(facts: PlatformFacts, program: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      program,
      args,
      // No console window flashing up on Windows; the user's environment (VAGRANT_HOME, …).
      { env: facts.env, timeout: VERSION_TIMEOUT_MS, windowsHide: true, maxBuffer: 64 * 1024, encoding: 'utf8' },
      (error, stdout) => {
        if (error) return resolve(undefined);
        resolve(/\b(\d+\.\d+(?:\.\d+)?)/.exec(stdout)?.[1]);
      },
    );
  });
}

export interface HostSetupOptions {
  /** Tests: whether a path is a program here (default: isProgram). */
  isProgram?: (file: string) => boolean;
  /** Tests: how a program's version is read (default: runForVersion). */
  readVersion?: (program: string, args: string[]) => Promise<string | undefined>;
}

/** How this check finds a program (the platform layer's search) and reads its version. */
interface Probe {
  find(name: string, configured?: string): string | undefined;
  version(program: string, args: string[]): Promise<string | undefined>;
}

function probe(facts: PlatformFacts, options: HostSetupOptions): Probe {
  const exists = options.isProgram ?? ((file: string) => isProgram(facts, file));
  return {
    find: (name, configured) => findTool(facts, name, { exists, ...(configured ? { configured } : {}) }),
    version: options.readVersion ?? ((program, args) => runForVersion(facts, program, args)),
  };
}

async function findVersioned(probe: Probe, name: string, versionArgs: string[] | undefined): Promise<FoundTool | undefined> {
  const path = probe.find(name);
  if (!path) return undefined;
  const version = versionArgs ? await probe.version(path, versionArgs) : undefined;
  return { path, ...(version ? { version } : {}) };
}

/**
 * Hyper-V is a Windows feature, not a program on PATH: its management service is present once the
 * feature is on (`Get-WindowsOptionalFeature` would say the same but takes seconds and an admin).
 */
function findHyperV(facts: PlatformFacts, probe: Probe): FoundTool | undefined {
  if (facts.os !== 'win32') return undefined;
  const root = facts.env.SystemRoot ?? facts.env.SYSTEMROOT ?? facts.env.windir ?? 'C:\\Windows';
  const path = probe.find('vmms', `${root}\\System32\\vmms.exe`);
  return path ? { path } : undefined;
}

/** a ≥ b for dotted versions (missing parts are 0). */
export function versionAtLeast(a: string, b: string): boolean {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const x = left[index] ?? 0;
    const y = right[index] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

async function findHypervisor(facts: PlatformFacts, probe: Probe, id: HypervisorId): Promise<HypervisorFinding> {
  const found = id === 'hyperv' ? findHyperV(facts, probe) : await findVersioned(probe, PROGRAMS[id].name, PROGRAMS[id].versionArgs);
  const minimum = minimumVersion(facts, id);
  const tooOld = found?.version !== undefined && minimum !== undefined && !versionAtLeast(found.version, minimum);
  const plugin = PLUGIN_OF[id];
  return {
    id,
    vagrantProvider: VAGRANT_PROVIDER_OF[id],
    ...(found ? { found } : {}),
    ...(tooOld && minimum ? { unusable: { reason: 'too_old' as const, minimumVersion: minimum } } : {}),
    ...(plugin ? { pluginCommand: `vagrant plugin install ${plugin}` } : {}),
  };
}

/** Linux package managers we can name packages for (others get the download pages). */
const LINUX_MANAGERS = [
  { manager: 'apt', program: 'apt-get' },
  { manager: 'dnf', program: 'dnf' },
] as const;

/** Packages per Linux manager: Vagrant with its libvirt plugin, libvirt's daemon with the plugin. */
const LINUX_PACKAGES: Record<'apt' | 'dnf', Partial<Record<InstallTarget, string[]>>> = {
  apt: { vagrant: ['vagrant', 'vagrant-libvirt'], libvirt: ['vagrant-libvirt', 'libvirt-daemon-system'] },
  dnf: { vagrant: ['vagrant', 'vagrant-libvirt'], libvirt: ['vagrant-libvirt', 'libvirt-daemon-kvm'] },
};

const WINGET_IDS: Partial<Record<InstallTarget, string>> = {
  vagrant: 'Hashicorp.Vagrant',
  virtualbox: 'Oracle.VirtualBox',
  vmware: 'VMware.WorkstationPro',
};

const BREW_CASKS: Partial<Record<InstallTarget, string>> = {
  vagrant: 'vagrant',
  virtualbox: 'virtualbox',
  vmware: 'vmware-fusion',
  parallels: 'parallels',
};

function page(target: InstallTarget): InstallStep['installs'][number] {
  return { target, url: DOWNLOAD_PAGES[target] };
}

function command(text: string, manager: PackageManager, managerFound: boolean, admin = false): NonNullable<InstallStep['command']> {
  return { text, manager, managerFound, admin };
}

/** The steps that install `targets` on this OS: one command per package manager call, in order. */
async function installSteps(
  facts: PlatformFacts,
  probe: Probe,
  targets: InstallTarget[],
  upgrade: ReadonlySet<InstallTarget>,
): Promise<InstallStep[]> {
  if (targets.length === 0) return [];
  switch (facts.os) {
    case 'darwin': {
      // One `brew` line for every cask (Homebrew installs several at once).
      const brewFound = probe.find('brew') !== undefined;
      const casks = targets.flatMap((target) => (BREW_CASKS[target] ? [target] : []));
      const steps: InstallStep[] = [];
      const fresh = casks.filter((target) => !upgrade.has(target));
      const upgrades = casks.filter((target) => upgrade.has(target));
      if (fresh.length > 0) {
        const names = fresh.map((target) => BREW_CASKS[target]).join(' ');
        steps.push({ installs: fresh.map(page), command: command(`brew install --cask ${names}`, 'brew', brewFound) });
      }
      if (upgrades.length > 0) {
        const names = upgrades.map((target) => BREW_CASKS[target]).join(' ');
        steps.push({ installs: upgrades.map(page), command: command(`brew upgrade --cask ${names}`, 'brew', brewFound) });
      }
      return steps;
    }
    case 'win32': {
      // winget installs one package per call; Hyper-V is a Windows feature, switched on by an admin.
      const wingetFound = probe.find('winget') !== undefined;
      return targets.map((target) => {
        if (target === 'hyperv') {
          return {
            installs: [page(target)],
            command: command('Enable-WindowsOptionalFeature -Online -FeatureName Microsoft-Hyper-V -All', 'powershell', true, true),
          };
        }
        const id = WINGET_IDS[target];
        const verb = upgrade.has(target) ? 'upgrade' : 'install';
        return id
          ? { installs: [page(target)], command: command(`winget ${verb} -e --id ${id}`, 'winget', wingetFound) }
          : { installs: [page(target)] };
      });
    }
    case 'linux': {
      for (const { manager, program } of LINUX_MANAGERS) {
        if (!probe.find(program)) continue;
        const packages = [...new Set(targets.flatMap((target) => LINUX_PACKAGES[manager][target] ?? []))];
        const covered = targets.filter((target) => LINUX_PACKAGES[manager][target]);
        const rest = targets.filter((target) => !LINUX_PACKAGES[manager][target]);
        const install = manager === 'apt' ? 'sudo apt-get install' : 'sudo dnf install';
        return [
          ...(covered.length > 0
            ? [{ installs: covered.map(page), command: command(`${install} ${packages.join(' ')}`, manager, true) }]
            : []),
          ...rest.map((target) => ({ installs: [page(target)] })),
        ];
      }
      return targets.map((target) => ({ installs: [page(target)] }));
    }
  }
}

/** Looks for Vagrant and the hypervisors this OS can use, and says what to install. */
export async function checkHostSetup(facts: PlatformFacts, options: HostSetupOptions = {}): Promise<HostSetupReport> {
  const programs = probe(facts, options);
  const [vagrant, hypervisors] = await Promise.all([
    findVersioned(programs, 'vagrant', ['--version']),
    Promise.all(hypervisorsFor(facts).map((id) => findHypervisor(facts, programs, id))),
  ]);
  const usable = hypervisors.filter((hypervisor) => hypervisor.found && !hypervisor.unusable);
  const missing: InstallTarget[] = [];
  const upgrade = new Set<InstallTarget>();
  if (!vagrant) missing.push('vagrant');
  if (usable.length === 0) {
    // A hypervisor that is here but too old is upgraded rather than installed beside itself.
    const tooOld = hypervisors.find((hypervisor) => hypervisor.unusable);
    const target = tooOld?.id ?? recommendedHypervisor(facts);
    if (tooOld) upgrade.add(target);
    missing.push(target);
  }
  // The platform layer's choice for this desktop when that hypervisor is here (what `machine add
  // vagrant` would take by default), else the first one here in this OS's order.
  const here = (id: HypervisorId): boolean => usable.some((hypervisor) => hypervisor.id === id);
  const preferred = vagrantDefaults(facts, {
    virtualbox: here('virtualbox'),
    vmware: here('vmware'),
    parallels: here('parallels'),
    hyperv: here('hyperv'),
  }).provider;
  const suggested = (usable.find((hypervisor) => hypervisor.vagrantProvider === preferred) ?? usable[0])?.vagrantProvider;
  return HostSetupReport.parse({
    os: facts.os,
    arch: facts.arch,
    localMachine: hasLocalMachine(facts),
    vagrant: vagrant ? { found: vagrant } : {},
    hypervisors,
    vagrantReady: vagrant !== undefined && usable.length > 0,
    ...(suggested ? { suggestedProvider: suggested } : {}),
    install: await installSteps(facts, programs, missing, upgrade),
  });
}
