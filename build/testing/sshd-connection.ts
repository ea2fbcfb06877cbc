// A test's own SSH connection to the test sshd (sshd.ts): its user key, host keys trusted on first
// sight into a known_hosts file of the test's, no questions asked.
import { KnownHosts } from '../../electron/core/machines/ssh/known-hosts.js';
import { connectSsh, type SshConnectOptions, type SshConnection } from '../../electron/core/machines/ssh/ssh-connection.js';
import type { Sshd } from './sshd.js';

export function connectToSshd(
  sshd: Pick<Sshd, 'port' | 'userKeyPath'>,
  /** The test's own known_hosts file. */
  knownHostsFile: string,
  options: Partial<SshConnectOptions> = {},
): Promise<SshConnection> {
  return connectSsh({
    target: { host: '127.0.0.1', port: sshd.port, user: 'root', identityFiles: [sshd.userKeyPath], identityFilesRequired: true },
    knownHosts: new KnownHosts({ own: knownHostsFile, readOnly: [] }),
    hostKeyPolicy: 'accept-new',
    askHostKey: () => Promise.resolve(false),
    askPassphrase: () => Promise.resolve(undefined),
    passphraseCache: new Map(),
    ...options,
  });
}
