// Which ssh-agents to offer keys from, in order. ssh2 takes a socket path, a Windows pipe path
// (`\\.\pipe\…`, spoken to as OpenSSH's protocol) or the word `pageant` (it talks to Pageant
// through its bundled pagent.exe); an agent that is not there is skipped and the next tried.
import type { PlatformFacts } from './platform.js';

/** Windows' own OpenSSH agent (the "OpenSSH Authentication Agent" service). */
export const WINDOWS_OPENSSH_AGENT_PIPE = '\\\\.\\pipe\\openssh-ssh-agent';
/** ssh2's name for PuTTY's agent. */
export const PAGEANT = 'pageant';

/** SSH_AUTH_SOCK first (what the user set, also on Windows: Git Bash, 1Password), then Windows' agents. */
export function sshAgentCandidates(facts: PlatformFacts): string[] {
  const fromEnv = facts.env.SSH_AUTH_SOCK;
  const candidates = fromEnv ? [fromEnv] : [];
  if (facts.os === 'win32') {
    for (const agent of [WINDOWS_OPENSSH_AGENT_PIPE, PAGEANT]) if (!candidates.includes(agent)) candidates.push(agent);
  }
  return candidates;
}

/** What to do when no agent could be reached or none held a key the server accepts, for this OS. */
export function sshAgentHint(facts: Pick<PlatformFacts, 'os'>): string {
  switch (facts.os) {
    case 'win32':
      return "start Windows' OpenSSH agent (PowerShell as administrator: Get-Service ssh-agent | Set-Service -StartupType Automatic; Start-Service ssh-agent) and ssh-add your key, or load it into Pageant";
    case 'darwin':
      return 'add your key to the ssh-agent macOS runs for you (ssh-add --apple-use-keychain ~/.ssh/id_ed25519)';
    case 'linux':
      return 'run an ssh-agent holding one (eval "$(ssh-agent)"; ssh-add; SSH_AUTH_SOCK must reach Onggi)';
  }
}
