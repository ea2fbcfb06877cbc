import { homedir } from 'node:os';
import path from 'node:path';

/** The desktop operating systems Onggi runs on (the app, the CLI and `onggi serve`). */
export type DesktopOs = 'linux' | 'darwin' | 'win32';
export type DesktopArch = 'x64' | 'arm64';

/**
 * What the host-side code needs to know about the desktop it runs on. Everything that differs
 * per OS takes these facts instead of reading `process.platform`, so tests can hand it darwin or
 * win32 facts on a Linux machine.
 */
export interface PlatformFacts {
  os: DesktopOs;
  arch: DesktopArch;
  env: NodeJS.ProcessEnv;
  homedir: string;
}

function desktopOs(platform: NodeJS.Platform): DesktopOs {
  // Onggi is built for Linux, macOS and Windows only; any other Unix is treated as Linux.
  if (platform === 'darwin' || platform === 'win32') return platform;
  return 'linux';
}

function desktopArch(arch: string): DesktopArch {
  return arch === 'arm64' ? 'arm64' : 'x64';
}

/** The facts of the running process: the only place that reads process.platform and process.arch. */
export function currentFacts(env: NodeJS.ProcessEnv = process.env): PlatformFacts {
  return { os: desktopOs(process.platform), arch: desktopArch(process.arch), env, homedir: homedir() };
}

/** Path rules of the desktop (backslashes and drive letters on Windows). */
export function desktopPath(facts: Pick<PlatformFacts, 'os'>): path.PlatformPath {
  return facts.os === 'win32' ? path.win32 : path.posix;
}

/** Where the app, the CLI and browser mode keep their data (one folder for all three); ONGGI_HOME wins. */
export function dataDir(facts: PlatformFacts): string {
  const { env } = facts;
  if (env.ONGGI_HOME) return env.ONGGI_HOME;
  const p = desktopPath(facts);
  switch (facts.os) {
    case 'win32':
      return p.join(env.APPDATA || p.join(facts.homedir, 'AppData', 'Roaming'), 'Onggi');
    case 'darwin':
      return p.join(facts.homedir, 'Library', 'Application Support', 'Onggi');
    case 'linux':
      return p.join(env.XDG_CONFIG_HOME || p.join(facts.homedir, '.config'), 'onggi');
  }
}

function pathList(facts: PlatformFacts): string[] {
  // Windows keeps the variable as `Path`; env lookups there are case-insensitive but a plain object is not.
  const key = facts.os === 'win32' ? Object.keys(facts.env).find((k) => k.toUpperCase() === 'PATH') : 'PATH';
  const value = key ? facts.env[key] : undefined;
  const sep = facts.os === 'win32' ? ';' : ':';
  return (value ?? '').split(sep).filter((d) => d !== '');
}

/** Folders where vagrant and the hypervisor tools are installed by their usual installers, after PATH. */
function usualToolDirs(facts: PlatformFacts): string[] {
  const { env } = facts;
  switch (facts.os) {
    case 'darwin':
      // An app started from Finder gets PATH=/usr/bin:/bin:/usr/sbin:/sbin; Homebrew and the
      // vendor installers put their tools here.
      return [
        '/opt/homebrew/bin',
        '/usr/local/bin',
        '/Applications/VirtualBox.app/Contents/MacOS',
        '/Applications/VMware Fusion.app/Contents/Library',
        '/Applications/Parallels Desktop.app/Contents/MacOS',
      ];
    case 'win32': {
      const p = path.win32;
      const programFiles = env.ProgramFiles || env.PROGRAMFILES || 'C:\\Program Files';
      const programFilesX86 = env['ProgramFiles(x86)'] || 'C:\\Program Files (x86)';
      const dirs = [
        p.join(programFiles, 'Vagrant', 'bin'),
        p.join('C:\\', 'HashiCorp', 'Vagrant', 'bin'),
        ...(env.VBOX_MSI_INSTALL_PATH ? [env.VBOX_MSI_INSTALL_PATH] : []),
        p.join(programFiles, 'Oracle', 'VirtualBox'),
        p.join(programFilesX86, 'VMware', 'VMware Workstation'),
        p.join(programFiles, 'VMware', 'VMware Workstation'),
      ];
      return dirs;
    }
    case 'linux':
      return ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  }
}

/** PATH plus the usual install places of vagrant and the hypervisors, in search order, without repeats. */
export function toolSearchDirs(facts: PlatformFacts): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const dir of [...pathList(facts), ...usualToolDirs(facts)]) {
    const key = facts.os === 'win32' ? dir.toLowerCase() : dir;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(dir);
  }
  return out;
}

/** Whether this desktop can run the local machine (the Linux agent runs on the desktop itself). */
export function hasLocalMachine(facts: PlatformFacts): boolean {
  return facts.os === 'linux';
}
