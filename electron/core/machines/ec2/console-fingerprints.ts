// The host key fingerprints an instance prints on its serial console at first boot (cloud-init's
// keys_to_console: a `-----BEGIN SSH HOST KEY FINGERPRINTS-----` block, each line like
// `256 SHA256:… root@host (ED25519)`, sometimes prefixed `ec2: `). GetConsoleOutput returns the
// console base64-encoded; the SSH connection's key must be one of these before it is trusted.

export interface ConsoleFingerprint {
  /** `SHA256:<base64 without padding>` as ssh-keygen prints it. */
  fingerprint: string;
  /** ED25519, ECDSA, RSA… as printed in the parentheses. */
  type: string;
}

const BEGIN = '-----BEGIN SSH HOST KEY FINGERPRINTS-----';
const END = '-----END SSH HOST KEY FINGERPRINTS-----';

/** Every fingerprint in every block of the console text (a reboot may print the block again). */
export function parseConsoleFingerprints(consoleText: string): ConsoleFingerprint[] {
  const found: ConsoleFingerprint[] = [];
  let inside = false;
  for (const line of consoleText.split(/\r?\n/)) {
    if (line.includes(BEGIN)) {
      inside = true;
      continue;
    }
    if (line.includes(END)) {
      inside = false;
      continue;
    }
    if (!inside) continue;
    const match = /\b(SHA256:[A-Za-z0-9+/]{43})\b.*\((\w+)\)\s*$/.exec(line);
    if (match?.[1] && match[2] && !found.some((known) => known.fingerprint === match[1])) {
      found.push({ fingerprint: match[1], type: match[2] });
    }
  }
  return found;
}
