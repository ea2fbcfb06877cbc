// The Vagrant box, provider and box architecture a new machine gets on this desktop. x64 boxes do
// not boot on Apple Silicon or Windows on ARM, and VirtualBox runs arm64 guests on a Mac only
// from 7.1; Hyper-V is the hypervisor Windows on ARM has.
import type { PlatformFacts } from './platform.js';
import { findTool } from './tool-search.js';

export interface VagrantDefaults {
  box: string;
  /** Vagrant's provider name. */
  provider: string;
  /**
   * `config.vm.box_architecture` (Vagrant ≥ 2.4), in Vagrant's words: set for arm64 only, where the
   * box's x64 build would not boot; on x64 Vagrant's own choice is right (and older Vagrants work).
   */
  boxArchitecture?: 'arm64';
  /** What the user should know about this choice (shown with the add form and in `machine add vagrant`). */
  note?: string;
}

/** The hypervisors found on this desktop (by their tools' files; nothing is run). */
export interface Hypervisors {
  virtualbox: boolean;
  vmware: boolean;
  parallels: boolean;
  hyperv: boolean;
}

/** The x64 box that works with every provider Onggi is tested with. */
export const X64_BOX = 'debian/bookworm64';
/** A Debian 12 box published for arm64 on VirtualBox, VMware, Parallels and Hyper-V. */
export const ARM64_BOX = 'bento/debian-12';

export function findHypervisors(facts: PlatformFacts, exists?: (file: string) => boolean): Hypervisors {
  const has = (name: string, configured?: string): boolean =>
    findTool(facts, name, { ...(exists ? { exists } : {}), ...(configured ? { configured } : {}) }) !== undefined;
  const systemRoot = facts.env.SystemRoot || facts.env.SYSTEMROOT || facts.env.windir || 'C:\\Windows';
  return {
    virtualbox: has('VBoxManage'),
    vmware: has('vmrun'),
    parallels: facts.os === 'darwin' && has('prlctl'),
    // The Hyper-V management service is only there when the Windows feature is on.
    hyperv: facts.os === 'win32' && has('vmms', `${systemRoot}\\System32\\vmms.exe`),
  };
}

export function vagrantDefaults(facts: PlatformFacts, hypervisors: Hypervisors): VagrantDefaults {
  if (facts.arch === 'x64') return { box: X64_BOX, provider: 'virtualbox' };
  if (facts.os === 'win32') {
    return {
      box: ARM64_BOX,
      provider: 'hyperv',
      boxArchitecture: 'arm64',
      note: "Vagrant's Hyper-V provider needs the Hyper-V feature on and a terminal run as administrator",
    };
  }
  if (facts.os === 'darwin') {
    if (hypervisors.parallels) return { box: ARM64_BOX, provider: 'parallels', boxArchitecture: 'arm64' };
    if (hypervisors.vmware) return { box: ARM64_BOX, provider: 'vmware_desktop', boxArchitecture: 'arm64' };
    return {
      box: ARM64_BOX,
      provider: 'virtualbox',
      boxArchitecture: 'arm64',
      note: 'VirtualBox runs arm64 VMs on Apple Silicon from version 7.1 on; VMware Fusion or Parallels work too',
    };
  }
  // Linux on arm64: libvirt is what such hosts have (VirtualBox has no Linux arm64 build).
  return { box: ARM64_BOX, provider: 'libvirt', boxArchitecture: 'arm64' };
}
