// Messages whose advice differs per OS: what the user is told to do must be possible where they are.
import type { PlatformFacts } from './platform.js';

/** Why a port cannot be listened on here (EACCES), and what to do; `address` is `host:port` as shown. */
export function portDeniedMessage(facts: Pick<PlatformFacts, 'os'>, address: string, port: number): string {
  if (facts.os === 'win32') {
    return `this computer does not let Onggi listen on ${address}: Windows refuses it — the port is probably in a range reserved by Hyper-V/WinNAT (see: netsh interface ipv4 show excludedportrange protocol=tcp); publish on a port outside those ranges`;
  }
  if (port < 1024) {
    return `this computer does not let Onggi listen on ${address}: ports below 1024 need administrator rights; publish on a port of 1024 or more`;
  }
  return `this computer does not let Onggi listen on ${address}: permission denied`;
}

/** What to do when Vagrant cannot use VirtualBox. */
export function virtualboxMissingHint(facts: Pick<PlatformFacts, 'os' | 'arch'>): string {
  switch (facts.os) {
    case 'win32':
      // Vagrant finds VirtualBox through VBOX_MSI_INSTALL_PATH, which VirtualBox's installer sets.
      return 'install VirtualBox (winget install Oracle.VirtualBox) and start a new terminal, so Vagrant sees VBOX_MSI_INSTALL_PATH; or choose another provider with --provider (hyperv, vmware_desktop)';
    case 'darwin':
      return facts.arch === 'arm64'
        ? 'install VirtualBox 7.1 or newer (brew install --cask virtualbox), or choose another provider with --provider (vmware_desktop, parallels)'
        : 'install VirtualBox (brew install --cask virtualbox), or choose another provider with --provider (vmware_desktop, parallels)';
    case 'linux':
      return 'install VirtualBox (https://www.virtualbox.org/wiki/Downloads) and make sure VBoxManage is on PATH, or choose another provider with --provider (libvirt, parallels, vmware_desktop)';
  }
}
