// The platform layer, handed the facts of each desktop we ship for (Linux, macOS on Intel and Apple
// Silicon, Windows on x64 and ARM) on this Linux machine: macOS and Windows cannot run here, so
// what differs per OS is decided from facts and tested from facts.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listenError } from '../machines/ssh/port-forward.js';
import {
  accountName,
  currentFacts,
  dataDir,
  dockerEndpoint,
  directorySyncIsBestEffort,
  expandHome,
  findHypervisors,
  findTool,
  hasLocalMachine,
  legacyDataDir,
  portDeniedMessage,
  prepareDataDir,
  sshAgentCandidates,
  sshAgentHint,
  toolEnv,
  toolSearchDirs,
  vagrantDefaults,
  virtualboxMissingHint,
  type Hypervisors,
} from './platform.js';
import { factsFor } from './test-facts.js';

const none: Hypervisors = { virtualbox: false, vmware: false, parallels: false, hyperv: false };

describe('the facts of this process', () => {
  it('are Linux here, with this home and environment', () => {
    const facts = currentFacts();
    expect(facts.os).toBe('linux');
    expect(['x64', 'arm64']).toContain(facts.arch);
    expect(facts.env).toBe(process.env);
    expect(hasLocalMachine(facts)).toBe(true);
  });
});

describe('the data folder', () => {
  it('is %APPDATA%\\Onggi, ~/Library/Application Support/Onggi or $XDG_CONFIG_HOME/onggi; ONGGI_HOME wins everywhere', () => {
    expect(dataDir(factsFor('win32'))).toBe('C:\\Users\\John Doe\\AppData\\Roaming\\Onggi');
    expect(dataDir(factsFor('win32', 'arm64', { APPDATA: '' }))).toBe('C:\\Users\\John Doe\\AppData\\Roaming\\Onggi');
    expect(dataDir(factsFor('darwin', 'x64'))).toBe('/Users/jo/Library/Application Support/Onggi');
    expect(dataDir(factsFor('darwin', 'arm64'))).toBe('/Users/jo/Library/Application Support/Onggi');
    expect(dataDir(factsFor('linux'))).toBe('/home/jo/.config/onggi');
    expect(dataDir(factsFor('linux', 'x64', { XDG_CONFIG_HOME: '/srv/conf' }))).toBe('/srv/conf/onggi');
    for (const os of ['linux', 'darwin', 'win32'] as const) expect(dataDir(factsFor(os, 'x64', { ONGGI_HOME: '/data/o' }))).toBe('/data/o');
    expect(legacyDataDir(factsFor('win32'))).toBe('C:\\Users\\John Doe\\.config\\onggi');
  });

  describe('moving the folder the CLI used before (~/.config/onggi) on macOS', () => {
    const roots: string[] = [];
    afterEach(() => {
      for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
    });
    const home = (): string => {
      const root = mkdtempSync(join(tmpdir(), 'onggi-home-'));
      roots.push(root);
      return root;
    };
    const fill = (dir: string, content: string): void => {
      mkdirSync(join(dir, 'vagrant', 'dev'), { recursive: true });
      writeFileSync(join(dir, 'machines.json'), content);
      writeFileSync(join(dir, 'vagrant', 'dev', 'Vagrantfile'), '# vm');
    };

    it('moves it once, whole; the next start finds it in place and leaves everything alone', () => {
      const facts = { ...factsFor('darwin', 'arm64'), homedir: home() };
      fill(join(facts.homedir, '.config', 'onggi'), '{"version":1,"machines":[]}');
      const moves: unknown[] = [];
      const dir = prepareDataDir(facts, (move) => moves.push(move));
      expect(dir).toBe(join(facts.homedir, 'Library', 'Application Support', 'Onggi'));
      expect(moves).toEqual([{ from: join(facts.homedir, '.config', 'onggi'), to: dir }]);
      expect(readFileSync(join(dir, 'machines.json'), 'utf8')).toBe('{"version":1,"machines":[]}');
      expect(readFileSync(join(dir, 'vagrant', 'dev', 'Vagrantfile'), 'utf8')).toBe('# vm');
      expect(existsSync(join(facts.homedir, '.config', 'onggi'))).toBe(false);
      expect(prepareDataDir(facts, (move) => moves.push(move))).toBe(dir);
      expect(moves).toHaveLength(1);
    });

    it('never merges into or overwrites a folder that exists; Linux and ONGGI_HOME never move anything', () => {
      const facts = { ...factsFor('darwin', 'x64'), homedir: home() };
      fill(join(facts.homedir, '.config', 'onggi'), 'old');
      fill(join(facts.homedir, 'Library', 'Application Support', 'Onggi'), 'new');
      expect(prepareDataDir(facts, () => expect.fail('moved over an existing folder'))).toBe(dataDir(facts));
      expect(readFileSync(join(dataDir(facts), 'machines.json'), 'utf8')).toBe('new');
      expect(readFileSync(join(facts.homedir, '.config', 'onggi', 'machines.json'), 'utf8')).toBe('old');

      const linux = { ...factsFor('linux'), homedir: home() };
      fill(join(linux.homedir, '.config', 'onggi'), 'linux');
      expect(prepareDataDir(linux, () => expect.fail('moved on Linux'))).toBe(join(linux.homedir, '.config', 'onggi'));

      const pinned = { ...factsFor('darwin', 'arm64', { ONGGI_HOME: join(home(), 'pinned') }), homedir: home() };
      fill(join(pinned.homedir, '.config', 'onggi'), 'pinned');
      expect(prepareDataDir(pinned, () => expect.fail('moved with ONGGI_HOME'))).toBe(pinned.env.ONGGI_HOME);
      expect(existsSync(join(pinned.homedir, '.config', 'onggi', 'machines.json'))).toBe(true);
    });

    const otherDevice = existsSync('/dev/shm');
    it.skipIf(!otherDevice)(
      'across file systems (EXDEV): copied under a temporary name, renamed into place, then the old one removed',
      () => {
        const shm = mkdtempSync('/dev/shm/onggi-xdg-');
        roots.push(shm);
        const facts = { ...factsFor('darwin', 'arm64', { XDG_CONFIG_HOME: shm }), homedir: home() };
        fill(join(shm, 'onggi'), 'across');
        const dir = prepareDataDir(facts);
        expect(readFileSync(join(dir, 'machines.json'), 'utf8')).toBe('across');
        expect(readFileSync(join(dir, 'vagrant', 'dev', 'Vagrantfile'), 'utf8')).toBe('# vm');
        expect(existsSync(join(shm, 'onggi'))).toBe(false);
        expect(existsSync(`${dir}.moving-${process.pid}`)).toBe(false);
      },
    );
  });
});

describe('finding vagrant and the hypervisors', () => {
  it('macOS (an app from Finder has PATH=/usr/bin:/bin:/usr/sbin:/sbin): PATH, then Homebrew and the vendors’ folders', () => {
    for (const arch of ['x64', 'arm64'] as const) {
      const facts = factsFor('darwin', arch);
      const dirs = toolSearchDirs(facts);
      expect(dirs.slice(0, 4)).toEqual(['/usr/bin', '/bin', '/usr/sbin', '/sbin']);
      expect(dirs).toContain('/opt/homebrew/bin');
      expect(dirs).toContain('/usr/local/bin');
      expect(dirs).toContain('/Applications/VirtualBox.app/Contents/MacOS');
      expect(toolEnv(facts).PATH?.split(':')).toEqual(dirs);
    }
    const found = findTool(factsFor('darwin', 'arm64'), 'vagrant', { exists: (file) => file === '/opt/homebrew/bin/vagrant' });
    expect(found).toBe('/opt/homebrew/bin/vagrant');
  });

  it('Windows: Path (any case) plus Vagrant’s, VirtualBox’s (VBOX_MSI_INSTALL_PATH) and VMware’s folders; tools are .exe', () => {
    const facts = factsFor('win32', 'x64', { VBOX_MSI_INSTALL_PATH: 'D:\\VirtualBox\\' });
    const dirs = toolSearchDirs(facts);
    expect(dirs.slice(0, 2)).toEqual(['C:\\Windows\\system32', 'C:\\Windows']);
    expect(dirs).toContain('C:\\Program Files\\Vagrant\\bin');
    expect(dirs).toContain('D:\\VirtualBox\\');
    expect(dirs).toContain('C:\\Program Files\\Oracle\\VirtualBox');
    expect(dirs).toContain('C:\\Program Files (x86)\\VMware\\VMware Workstation');
    const env = toolEnv(facts);
    expect(Object.keys(env).filter((key) => key.toUpperCase() === 'PATH')).toEqual(['Path']); // one, as Windows spells it
    expect(env.Path?.split(';')).toEqual(dirs);
    const files = new Set(['C:\\Program Files\\Vagrant\\bin\\vagrant.exe', 'D:\\VirtualBox\\VBoxManage.exe']);
    expect(findTool(facts, 'vagrant', { exists: (file) => files.has(file) })).toBe('C:\\Program Files\\Vagrant\\bin\\vagrant.exe');
    expect(findHypervisors(facts, (file) => files.has(file))).toEqual({ ...none, virtualbox: true });
  });

  it('a configured path wins when it exists, and is not replaced by a search when it does not', () => {
    const facts = factsFor('darwin', 'arm64');
    const exists = (file: string): boolean => file === '/opt/homebrew/bin/vagrant' || file === '/Users/jo/bin/vagrant';
    expect(findTool(facts, 'vagrant', { configured: '/Users/jo/bin/vagrant', exists })).toBe('/Users/jo/bin/vagrant');
    expect(findTool(facts, 'vagrant', { configured: '/Users/jo/nowhere/vagrant', exists })).toBeUndefined();
  });
});

describe('the default Vagrant box, provider and architecture', () => {
  it('x64 (Linux, Intel Mac, Windows): the Debian box on VirtualBox, Vagrant choosing the build', () => {
    for (const os of ['linux', 'darwin', 'win32'] as const) {
      expect(vagrantDefaults(factsFor(os, 'x64'), none)).toEqual({ box: 'debian/bookworm64', provider: 'virtualbox' });
    }
  });

  it('Apple Silicon: an arm64 box; Parallels or VMware where installed, else VirtualBox (7.1 or newer, said so)', () => {
    const mac = factsFor('darwin', 'arm64');
    expect(vagrantDefaults(mac, none)).toMatchObject({ box: 'bento/debian-12', provider: 'virtualbox', boxArchitecture: 'arm64' });
    expect(vagrantDefaults(mac, none).note).toMatch(/7\.1/);
    expect(vagrantDefaults(mac, { ...none, vmware: true })).toMatchObject({ provider: 'vmware_desktop', boxArchitecture: 'arm64' });
    expect(vagrantDefaults(mac, { ...none, vmware: true, parallels: true })).toMatchObject({
      provider: 'parallels',
      boxArchitecture: 'arm64',
    });
    const tools = new Set(['/Applications/VMware Fusion.app/Contents/Library/vmrun']);
    expect(findHypervisors(mac, (file) => tools.has(file))).toEqual({ ...none, vmware: true });
  });

  it('Windows on ARM: an arm64 box on Hyper-V', () => {
    expect(vagrantDefaults(factsFor('win32', 'arm64'), none)).toMatchObject({
      box: 'bento/debian-12',
      provider: 'hyperv',
      boxArchitecture: 'arm64',
    });
    expect(findHypervisors(factsFor('win32', 'arm64'), (file) => file === 'C:\\Windows\\System32\\vmms.exe')).toEqual({
      ...none,
      hyperv: true,
    });
  });
});

describe('the ssh-agent', () => {
  it('SSH_AUTH_SOCK first; on Windows then the OpenSSH pipe and Pageant', () => {
    expect(sshAgentCandidates(factsFor('linux'))).toEqual([]);
    expect(sshAgentCandidates(factsFor('linux', 'x64', { SSH_AUTH_SOCK: '/tmp/agent.1' }))).toEqual(['/tmp/agent.1']);
    expect(sshAgentCandidates(factsFor('darwin', 'arm64', { SSH_AUTH_SOCK: '/private/tmp/com.apple.launchd.x/Listeners' }))).toEqual([
      '/private/tmp/com.apple.launchd.x/Listeners',
    ]);
    expect(sshAgentCandidates(factsFor('win32'))).toEqual(['\\\\.\\pipe\\openssh-ssh-agent', 'pageant']);
    expect(sshAgentCandidates(factsFor('win32', 'arm64', { SSH_AUTH_SOCK: '\\\\.\\pipe\\1password' }))).toEqual([
      '\\\\.\\pipe\\1password',
      '\\\\.\\pipe\\openssh-ssh-agent',
      'pageant',
    ]);
  });

  it('the advice names what exists on each OS (no SSH_AUTH_SOCK for a Windows user)', () => {
    expect(sshAgentHint(factsFor('win32'))).toMatch(/Start-Service ssh-agent.*Pageant/);
    expect(sshAgentHint(factsFor('win32'))).not.toMatch(/SSH_AUTH_SOCK/);
    expect(sshAgentHint(factsFor('darwin'))).toMatch(/ssh-add --apple-use-keychain/);
    expect(sshAgentHint(factsFor('linux'))).toMatch(/SSH_AUTH_SOCK/);
  });
});

describe('paths and names of the desktop', () => {
  it('~, ~/… and on Windows ~\\… are the home; nothing else is touched', () => {
    const win = factsFor('win32');
    expect(expandHome('~\\.ssh\\id_ed25519', win)).toBe('C:\\Users\\John Doe\\.ssh\\id_ed25519');
    expect(expandHome('~/.ssh/id_ed25519', win)).toBe('C:\\Users\\John Doe\\.ssh\\id_ed25519');
    expect(expandHome('~', win)).toBe('C:\\Users\\John Doe');
    expect(expandHome('C:\\keys\\~\\k', win)).toBe('C:\\keys\\~\\k');
    expect(expandHome('~/.ssh/id_ed25519', factsFor('darwin'))).toBe('/Users/jo/.ssh/id_ed25519');
    expect(expandHome('~\\.ssh\\key', factsFor('linux'))).toBe('~\\.ssh\\key'); // a file name on Linux
  });

  it('the account name comes from the facts (USERNAME on Windows)', () => {
    expect(accountName(factsFor('win32'))).toBe('John Doe');
    expect(accountName({ ...factsFor('linux'), username: 'jo' })).toBe('jo');
    expect(accountName(factsFor('darwin', 'arm64', { USER: '' }))).toBeUndefined();
  });

  it('directory fsync is best-effort only on Windows; the local machine exists only on Linux', () => {
    expect(directorySyncIsBestEffort(factsFor('win32'))).toBe(true);
    expect(directorySyncIsBestEffort(factsFor('darwin'))).toBe(false);
    expect(directorySyncIsBestEffort(factsFor('linux'))).toBe(false);
    expect(hasLocalMachine(factsFor('darwin', 'arm64'))).toBe(false);
    expect(hasLocalMachine(factsFor('win32'))).toBe(false);
  });

  it('offers the local machine on Linux only to root: without it the window opens on the welcome', () => {
    expect(hasLocalMachine({ ...factsFor('linux'), root: true })).toBe(true);
    expect(hasLocalMachine({ ...factsFor('linux'), root: false })).toBe(false);
    expect(hasLocalMachine({ ...factsFor('darwin'), root: true })).toBe(false);
    // This process: the facts it reads are the ones the host core gets.
    expect(currentFacts().root).toBe(process.getuid?.() === 0);
  });
});

describe('messages that differ per OS', () => {
  it('a published port refused (EACCES): below 1024 on Linux and macOS; a reserved range on Windows, with the netsh command', () => {
    const eacces = Object.assign(new Error('listen EACCES'), { code: 'EACCES' });
    const win = listenError(eacces, '127.0.0.1', { localPort: 50_000, remotePort: 50_000 }, factsFor('win32'));
    expect(win.message).toMatch(/reserved by Hyper-V\/WinNAT/);
    expect(win.message).toContain('netsh interface ipv4 show excludedportrange protocol=tcp');
    expect(win.message).not.toMatch(/below 1024/);
    expect(win.field).toBe('localPort');
    for (const os of ['linux', 'darwin'] as const) {
      expect(listenError(eacces, '::1', { localPort: 80, remotePort: 80 }, factsFor(os)).message).toBe(
        'this computer does not let Onggi listen on [::1]:80: ports below 1024 need administrator rights; publish on a port of 1024 or more',
      );
    }
    expect(portDeniedMessage(factsFor('linux'), '127.0.0.1:8080', 8080)).not.toMatch(/below 1024/);
  });

  it('VirtualBox missing: Vagrant on Windows finds it by VBOX_MSI_INSTALL_PATH, not VBoxManage on PATH', () => {
    expect(virtualboxMissingHint(factsFor('win32'))).toMatch(/VBOX_MSI_INSTALL_PATH/);
    expect(virtualboxMissingHint(factsFor('win32'))).not.toMatch(/VBoxManage is on PATH/);
    expect(virtualboxMissingHint(factsFor('darwin', 'arm64'))).toMatch(/7\.1/);
    expect(virtualboxMissingHint(factsFor('linux'))).toMatch(/VBoxManage is on PATH/);
  });
});

describe('dockerEndpoint', () => {
  it("moves a socket path too long for bind(2) (macOS: 103 bytes) to the account's private TMPDIR, hashing a long name; refuses without one", () => {
    const tmp = '/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T/';
    const mac = factsFor('darwin', 'arm64', { TMPDIR: tmp });
    expect(dockerEndpoint(mac, dataDir(mac), 'vm').listen).toBe('/Users/jo/Library/Application Support/Onggi/docker/vm.sock');
    // A long account name: the machine's own name still fits in TMPDIR.
    const longHome = { ...mac, homedir: '/Users/jo-with-a-rather-long-account-name-indeed' };
    expect(Buffer.byteLength(`${dataDir(longHome)}/docker/web-server-01.sock`)).toBeGreaterThan(103);
    expect(dockerEndpoint(longHome, dataDir(longHome), 'web-server-01').listen).toBe(`${tmp}onggi-docker/web-server-01.sock`);
    // The longest machine name: hashed, each name its own socket.
    const hashed = dockerEndpoint(mac, dataDir(mac), 'm'.repeat(63)).listen;
    expect(hashed).toMatch(/^\/var\/folders\/.*\/onggi-docker\/[0-9a-f]{16}\.sock$/);
    expect(Buffer.byteLength(hashed)).toBeLessThanOrEqual(103);
    expect(dockerEndpoint(mac, dataDir(mac), 'm'.repeat(62)).listen).not.toBe(hashed);
    const noTmp = factsFor('darwin');
    expect(() => dockerEndpoint(noTmp, dataDir(noTmp), 'm'.repeat(63))).toThrow(/longer than the 103 bytes/);
  });

  it('is a socket in the data folder on Linux and macOS (quoted for the shell), a named pipe on Windows (PowerShell)', () => {
    const linux = factsFor('linux');
    expect(dockerEndpoint(linux, dataDir(linux), 'web')).toEqual({
      listen: '/home/jo/.config/onggi/docker/web.sock',
      dockerHost: 'unix:///home/jo/.config/onggi/docker/web.sock',
      envLine: "export DOCKER_HOST='unix:///home/jo/.config/onggi/docker/web.sock'",
    });
    const mac = factsFor('darwin');
    expect(dockerEndpoint(mac, dataDir(mac), 'local-vm').envLine).toBe(
      "export DOCKER_HOST='unix:///Users/jo/Library/Application Support/Onggi/docker/local-vm.sock'",
    );
    const windows = factsFor('win32');
    expect(dockerEndpoint(windows, dataDir(windows), 'ec2')).toEqual({
      listen: '\\\\.\\pipe\\onggi-ec2',
      dockerHost: 'npipe:////./pipe/onggi-ec2',
      envLine: '$Env:DOCKER_HOST="npipe:////./pipe/onggi-ec2"',
    });
  });
});
