// What this computer has for running a Linux machine, as the first-run welcome shows it: Vagrant
// and the hypervisors Vagrant can drive, found (where, which version) or missing, and the exact
// commands that install what is missing on this OS. The host finds; the window only shows.
import * as z from 'zod';

export const DesktopOsName = z.enum(['linux', 'darwin', 'win32']);
export const DesktopArchName = z.enum(['x64', 'arm64']);

/** The hypervisors the welcome looks for, each with the Vagrant provider that drives it. */
export const HypervisorId = z.enum(['virtualbox', 'vmware', 'parallels', 'hyperv', 'libvirt']);
export type HypervisorId = z.infer<typeof HypervisorId>;

export const VAGRANT_PROVIDER_OF: Record<HypervisorId, string> = {
  virtualbox: 'virtualbox',
  vmware: 'vmware_desktop',
  parallels: 'parallels',
  hyperv: 'hyperv',
  libvirt: 'libvirt',
};

const Path = z.string().min(1).max(4096);
const Version = z.string().min(1).max(64);

/** A program found on this computer: where, and the version it printed (absent when it printed none we could read). */
export const FoundTool = z.strictObject({ path: Path, version: Version.optional() });
export type FoundTool = z.infer<typeof FoundTool>;

export const HypervisorFinding = z.strictObject({
  id: HypervisorId,
  /** The Vagrant provider name (`--provider`, and the add dialog's field). */
  vagrantProvider: z.string().min(1).max(64),
  found: FoundTool.optional(),
  /**
   * Why a found hypervisor cannot be used for our VMs here: `too_old` (e.g. VirtualBox before 7.1
   * on Apple Silicon, which cannot run arm64 guests), with the version needed.
   */
  unusable: z.strictObject({ reason: z.literal('too_old'), minimumVersion: Version }).optional(),
  /** The Vagrant plugin this provider needs (VMware, Parallels, libvirt), as the command that installs it. */
  pluginCommand: z.string().min(1).max(256).optional(),
});
export type HypervisorFinding = z.infer<typeof HypervisorFinding>;

/** What an install step installs (the window names it in the user's language). */
export const InstallTarget = z.enum(['vagrant', 'virtualbox', 'vmware', 'parallels', 'hyperv', 'libvirt']);
export type InstallTarget = z.infer<typeof InstallTarget>;

export const PackageManager = z.enum(['winget', 'brew', 'apt', 'dnf', 'powershell']);
export type PackageManager = z.infer<typeof PackageManager>;

/**
 * One thing to do: a command to paste into a terminal (`winget install -e --id Hashicorp.Vagrant`,
 * `brew install --cask vagrant virtualbox`, …) when this OS has a package manager we know, and the
 * vendors' download pages for everyone else. `admin`: the command needs an administrator terminal
 * (PowerShell "Run as administrator"); `sudo` is already part of Linux commands.
 */
export const InstallStep = z.strictObject({
  installs: z
    .array(z.strictObject({ target: InstallTarget, url: z.string().url().max(512) }))
    .min(1)
    .max(8),
  command: z
    .strictObject({
      text: z.string().min(1).max(512),
      manager: PackageManager,
      /** The package manager is on this computer (else the window says to get it first, or use the pages). */
      managerFound: z.boolean(),
      admin: z.boolean(),
    })
    .optional(),
});
export type InstallStep = z.infer<typeof InstallStep>;

export const HostSetupReport = z.strictObject({
  os: DesktopOsName,
  arch: DesktopArchName,
  /** This computer can be a machine itself (Linux, as root): then nothing needs installing. */
  localMachine: z.boolean(),
  vagrant: z.strictObject({ found: FoundTool.optional() }),
  hypervisors: z.array(HypervisorFinding).max(8),
  /** Vagrant and a usable hypervisor are both here: a Vagrant VM can be added now. */
  vagrantReady: z.boolean(),
  /** The provider a new Vagrant VM should use here (the first usable hypervisor found), when there is one. */
  suggestedProvider: z.string().min(1).max(64).optional(),
  /** What to install, in order; empty when Vagrant and a hypervisor are ready. */
  install: z.array(InstallStep).max(16),
});
export type HostSetupReport = z.infer<typeof HostSetupReport>;
