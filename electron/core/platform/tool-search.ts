// Where vagrant and the hypervisor tools are: PATH plus the places their installers use. An app
// started from Finder gets PATH=/usr/bin:/bin:/usr/sbin:/sbin (no Homebrew, no /usr/local/bin); on
// Windows, Vagrant's and VirtualBox's installers add to the system PATH only for new sessions.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { PlatformFacts } from './platform.js';

/** The name of the PATH variable in this environment (`Path` on Windows, any case). */
function pathKey(facts: PlatformFacts): string {
  if (facts.os !== 'win32') return 'PATH';
  return Object.keys(facts.env).find((key) => key.toUpperCase() === 'PATH') ?? 'Path';
}

function pathList(facts: PlatformFacts): string[] {
  const value = facts.env[pathKey(facts)];
  return (value ?? '').split(facts.os === 'win32' ? ';' : ':').filter((dir) => dir !== '');
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

/**
 * The environment for spawning vagrant (and, through it, VBoxManage, vmrun, prlctl): PATH holds
 * the search dirs above, so a tool Vagrant looks up itself is found too.
 */
export function toolEnv(facts: PlatformFacts): NodeJS.ProcessEnv {
  const key = pathKey(facts);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(facts.env)) if (name.toUpperCase() !== 'PATH' || facts.os !== 'win32') env[name] = value;
  env[key] = toolSearchDirs(facts).join(facts.os === 'win32' ? ';' : ':');
  return env;
}

/**
 * The full path of a tool, or undefined: a configured path wins (when it exists), else the first
 * search dir that holds it (`name.exe` on Windows). Only looks at files; never runs anything.
 */
export function findTool(
  facts: PlatformFacts,
  name: string,
  options: { configured?: string; exists?: (file: string) => boolean } = {},
): string | undefined {
  const exists = options.exists ?? isFile;
  if (options.configured) return exists(options.configured) ? options.configured : undefined;
  const p = facts.os === 'win32' ? path.win32 : path.posix;
  const file = facts.os === 'win32' && !/\.(exe|bat|cmd)$/i.test(name) ? `${name}.exe` : name;
  for (const dir of toolSearchDirs(facts)) {
    const candidate = p.join(dir, file);
    if (exists(candidate)) return candidate;
  }
  return undefined;
}

function isFile(file: string): boolean {
  try {
    return existsSync(file) && statSync(file).isFile();
  } catch {
    return false;
  }
}
