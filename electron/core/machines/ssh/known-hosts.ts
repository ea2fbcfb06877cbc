// known_hosts, as OpenSSH reads it: host patterns (wildcards, negation, `[host]:port`), hashed
// names (`|1|salt|hash`, HMAC-SHA1), `@revoked` lines. Onggi keeps a file of its own in the app's
// data dir (the only one it writes) and also trusts what the user's ~/.ssh/known_hosts says.
import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OnggiError } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in the file. */
  line: number;
  marker?: '@revoked' | '@cert-authority';
  hosts: string;
  keyType: string;
  key: Buffer;
  text: string;
}

export type HostKeyCheck =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown'; otherTypes: string[] }
  | { status: 'changed'; entries: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

/** `SHA256:<base64 without padding>`, as `ssh-keygen -l` and OpenSSH's prompts print it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  if (length > 64 || blob.length < 4 + length) return 'unknown';
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** OpenSSH's short name for a key type, as in `256 SHA256:... (ED25519)`. */
export function keyTypeLabel(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType === 'ssh-rsa') return 'RSA';
  if (keyType.startsWith('ecdsa-')) return 'ECDSA';
  return keyType.toUpperCase();
}

/** The name a host is looked up by: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === 22 ? lower : `[${lower}]:${port}`;
}

export function formatKnownHostsLine(host: string, port: number, key: Buffer): string {
  return `${knownHostName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0];
      fields.shift();
    } else if (fields[0]?.startsWith('@')) return; // a marker we do not know: ignore the line, as ssh does
    const [hosts, keyType, base64] = fields;
    if (!hosts || !keyType || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return;
    const key = Buffer.from(base64, 'base64');
    entries.push({ file, line: index + 1, ...(marker ? { marker } : {}), hosts, keyType, key, text: line });
  });
  return entries;
}

/** An OpenSSH wildcard pattern (`*`, `?`) against a name, case-insensitively. */
export function wildcardMatch(pattern: string, name: string): boolean {
  const source = pattern
    .toLowerCase()
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(name.toLowerCase());
}

/** Whether a known_hosts host field (hashed, or a comma-separated pattern list) names `name`. */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (pattern.startsWith('!')) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) matched = true;
  }
  return matched;
}

export interface KnownHostsFiles {
  /** Onggi's own file: read, and appended to when the user accepts a new host key. */
  own: string;
  /** Files read only (the user's ~/.ssh/known_hosts). */
  readOnly: string[];
}

export class KnownHosts {
  constructor(private readonly files: KnownHostsFiles) {}

  get ownFile(): string {
    return this.files.own;
  }

  async entries(): Promise<KnownHostEntry[]> {
    const all: KnownHostEntry[] = [];
    for (const file of [this.files.own, ...this.files.readOnly]) {
      // a known-hosts file that does not exist lists no keys
      const text = await readFile(file, 'utf8').catch(() => '');
      all.push(...parseKnownHosts(text, file));
    }
    return all;
  }

  /** The key types known for a host, so the connection can ask the server for one of those first. */
  async knownTypes(host: string, port: number): Promise<string[]> {
    const name = knownHostName(host, port);
    const entries = await this.entries();
    return [...new Set(entries.filter((entry) => !entry.marker && hostFieldMatches(entry.hosts, name)).map((entry) => entry.keyType))];
  }

  async check(host: string, port: number, key: Buffer): Promise<HostKeyCheck> {
    const name = knownHostName(host, port);
    const type = keyTypeOf(key);
    const entries = await this.entries();
    const revoked = entries.find((entry) => entry.marker === '@revoked' && entry.key.equals(key));
    if (revoked) return { status: 'revoked', entry: revoked };
    const forHost = entries.filter((entry) => !entry.marker && hostFieldMatches(entry.hosts, name));
    const same = forHost.find((entry) => entry.key.equals(key));
    if (same) return { status: 'known', entry: same };
    const sameType = forHost.filter((entry) => entry.keyType === type);
    if (sameType.length > 0) return { status: 'changed', entries: sameType };
    return { status: 'unknown', otherTypes: [...new Set(forHost.map((entry) => entry.keyType))] };
  }

  /** Remembers a host key the user accepted (Onggi's own file only; the user's stays untouched). */
  async add(host: string, port: number, key: Buffer): Promise<void> {
    await mkdir(dirname(this.files.own), { recursive: true, mode: 0o700 });
    // no file yet: the first key starts it
    const existing = await readFile(this.files.own, 'utf8').catch(() => '');
    const prefix = existing === '' || existing.endsWith('\n') ? '' : '\n';
    await appendFile(this.files.own, `${prefix}${formatKnownHostsLine(host, port, key)}\n`, { mode: 0o600 });
  }
}

/** The loud refusal for a host whose key is not the one we know. */
export function changedHostKeyError(host: string, port: number, key: Buffer, known: readonly KnownHostEntry[]): OnggiError {
  const where = port === 22 ? host : `${host}:${port}`;
  const lines = [
    `THE HOST KEY OF ${where} HAS CHANGED: refusing to connect. Someone could be intercepting the connection, or the host was reinstalled.`,
    ...known.map(
      (entry) => `  known:   ${keyTypeLabel(entry.keyType)} ${fingerprint(entry.key)} (${entry.file} line ${entry.line}: ${entry.text})`,
    ),
    `  offered: ${keyTypeLabel(keyTypeOf(key))} ${fingerprint(key)}`,
    `If you know the host was reinstalled, delete that line (${known.map((entry) => `${entry.file}:${entry.line}`).join(', ')}) and connect again to be asked about the new key.`,
  ];
  return new OnggiError(ErrorCode.Forbidden, 'host_key_changed', lines.join('\n'));
}

export function revokedHostKeyError(host: string, port: number, entry: KnownHostEntry): OnggiError {
  return new OnggiError(
    ErrorCode.Forbidden,
    'host_key_revoked',
    `the host key ${fingerprint(entry.key)} offered by ${host}:${port} is marked @revoked in ${entry.file} line ${entry.line}: refusing to connect`,
  );
}
