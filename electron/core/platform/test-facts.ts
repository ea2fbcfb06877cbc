// Platform facts for tests: a desktop of any OS and architecture, on this Linux machine.
import type { DesktopArch, DesktopOs, PlatformFacts } from './platform.js';

const HOMES: Record<DesktopOs, string> = {
  linux: '/home/jo',
  darwin: '/Users/jo',
  win32: 'C:\\Users\\John Doe',
};

/** The facts of a typical desktop of that OS and architecture; `env` is merged over its usual variables. */
export function factsFor(os: DesktopOs, arch: DesktopArch = 'x64', env: NodeJS.ProcessEnv = {}): PlatformFacts {
  const homedir = HOMES[os];
  const base: NodeJS.ProcessEnv =
    os === 'win32'
      ? {
          USERPROFILE: homedir,
          USERNAME: 'John Doe',
          APPDATA: `${homedir}\\AppData\\Roaming`,
          LOCALAPPDATA: `${homedir}\\AppData\\Local`,
          ProgramFiles: 'C:\\Program Files',
          'ProgramFiles(x86)': 'C:\\Program Files (x86)',
          Path: 'C:\\Windows\\system32;C:\\Windows',
        }
      : os === 'darwin'
        ? { HOME: homedir, USER: 'jo', PATH: '/usr/bin:/bin:/usr/sbin:/sbin' }
        : { HOME: homedir, USER: 'jo', PATH: '/usr/local/bin:/usr/bin:/bin' };
  return { os, arch, env: { ...base, ...env }, homedir };
}
