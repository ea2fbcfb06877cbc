// SSH carries a command as one string, which the remote user's login shell parses. Everything we
// send is built here from an argv array: each word is single-quoted by one strict function, so the
// shell sees exactly the words we meant, whatever they contain. (A POSIX login shell is assumed:
// sh, bash, dash, zsh, ksh — what Linux servers and EC2 images use.)
import { OnggiError } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';

/** One word for a POSIX shell: `'…'`, with each `'` written as `'\''`. NUL cannot be in argv. */
export function shellQuote(word: string): string {
  if (word.includes('\0')) {
    throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'a command word cannot contain a NUL character');
  }
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command line whose words, after the remote shell parses it, are exactly `argv`. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'an empty command');
  return argv.map(shellQuote).join(' ');
}

// One `/` before each segment: an unambiguous pattern (no nested quantifiers to backtrack on).
const SAFE_PATH = /^(?:\/[A-Za-z0-9._+-]+)+$/;

/**
 * A remote absolute path we build commands with (install root, socket, state dir): plain
 * characters only, no `..` component, no trailing slash. Quoting would make any path safe, but
 * these also go into a systemd unit and a supervisor script, where plain is simpler to trust.
 */
export function checkRemotePath(path: string, field: string): string {
  const parts = path.split('/');
  if (
    !SAFE_PATH.test(path) ||
    path.length > 512 ||
    parts.includes('..') ||
    parts.includes('.') ||
    (path.length > 1 && path.endsWith('/'))
  ) {
    throw new OnggiError(
      ErrorCode.InvalidParams,
      'invalid_params',
      `${field} must be an absolute path of letters, digits and . _ + - (got ${JSON.stringify(path)})`,
      field,
    );
  }
  return path;
}

/** A content hash we name install directories by. */
export function checkHash(value: string, field = 'hash'): string {
  if (!/^[0-9a-f]{64}$/.test(value)) {
    throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', `${field} must be 64 lowercase hex digits`, field);
  }
  return value;
}
