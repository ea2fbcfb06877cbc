// sudo with a password, asked once per SSH connection: the user's answer is checked with one
// `sudo -k -S -p '' -- true` (password on the channel's stdin), kept in memory for that
// connection only (a WeakMap keyed by it: gone with it), and fed the same way to every root
// command of the deploy and to the helper's `dial` to the agent. Never in argv, a shell string, a file or a message.
// `-k` makes sudo ignore a cached timestamp, so it always reads the line we send: a line sudo did
// not read would reach the command's stdin (for the `dial`, the JSON-RPC stream).
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { shellCommand } from '../machines/ssh/quote.js';
import type { SshConnection } from '../machines/ssh/ssh-connection.js';

/** The words that run a command as root with the password read from stdin (one line, no prompt). */
export const SUDO_STDIN = ['sudo', '-k', '-S', '-p', '', '--'] as const;

/** Whether root commands built with these words read the sudo password from stdin. */
export function readsSudoPassword(privilege: readonly string[]): boolean {
  return privilege[0] === 'sudo' && privilege.includes('-S');
}

/** Asks the user for the sudo password of `user@host`; undefined when declined. attempt: 1, then 2. */
export type AskSudoPassword = (attempt: number) => Promise<string | undefined>;

/** How often the user is asked in all: once, and once more after a wrong password. */
export const SUDO_ATTEMPTS = 2;

const passwords = new WeakMap<SshConnection, string>();

/** The password given for this connection, if any (memory only). */
export function knownSudoPassword(connection: SshConnection): string | undefined {
  return passwords.get(connection);
}

/** The line(s) a command's stdin starts with: the password once per sudo it runs. */
export function sudoInput(password: string, times = 1): string {
  return `${password}\n`.repeat(times);
}

/**
 * The sudo password for this connection: the one already given, or asked (at most twice) and
 * checked on the machine. Declining, a second wrong password, or a user sudo refuses are errors
 * that say so (and never contain the password).
 */
export async function sudoPassword(connection: SshConnection, who: string, ask: AskSudoPassword | undefined): Promise<string> {
  const known = passwords.get(connection);
  if (known !== undefined) return known;
  if (!ask) {
    throw new OnggiError(
      ErrorCode.Forbidden,
      'sudo_password_required',
      `${who} needs a password for sudo, and there is nobody to ask for it here; the agent runs as root. Log in as root, or allow this user passwordless sudo (e.g. a line "${who.split('@')[0]} ALL=(ALL) NOPASSWD: ALL" in /etc/sudoers.d/onggi)`,
    );
  }
  for (let attempt = 1; attempt <= SUDO_ATTEMPTS; attempt += 1) {
    const password = await ask(attempt);
    if (password === undefined) {
      throw new OnggiError(ErrorCode.Forbidden, 'sudo_password_cancelled', `no sudo password was given for ${who}; the agent runs as root`);
    }
    if (password.includes('\n') || password.includes('\r') || password.includes('\0')) {
      throw new OnggiError(
        ErrorCode.InvalidParams,
        'invalid_params',
        'a sudo password cannot contain a line break or NUL',
        'params.secret',
      );
    }
    // LC_ALL=C: sudo's messages in English, whatever the login's locale, to tell a wrong password.
    const checked = await connection.exec(shellCommand(['env', 'LC_ALL=C', ...SUDO_STDIN, 'true']), {
      stdin: sudoInput(password),
      timeoutMs: 60_000,
    });
    if (checked.code === 0) {
      passwords.set(connection, password);
      return password;
    }
    const said = redact(checked.stderr, password).trim();
    if (!/incorrect password|Sorry, try again|Authentication failure/i.test(said)) {
      throw new OnggiError(
        ErrorCode.Forbidden,
        'sudo_refused',
        `sudo refused ${who} (exit ${checked.code ?? 'none'}): ${said.slice(-500) || 'no message'}; the agent runs as root`,
      );
    }
  }
  throw new OnggiError(
    ErrorCode.Forbidden,
    'sudo_wrong_password',
    `the sudo password for ${who} was wrong ${SUDO_ATTEMPTS} times; open the machine again to retry`,
  );
}

/** Text from the machine with the password blanked out, in case anything there echoed it. */
export function redact(text: string, password: string | undefined): string {
  return password ? text.split(password).join('********') : text;
}
