// Private keys for SSH: read from the file the user named (or OpenSSH's default files), decrypted
// with a passphrase asked through a callback. The passphrase lives in the cache the caller owns
// (one per machine), so a reconnect does not ask again: memory, or memory plus the OS keychain
// when the user opted in (remembered-passphrases.ts); never written in plain text.
import { readFile } from 'node:fs/promises';
import type { ParsedKey } from 'ssh2';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import { currentFacts, expandHome, type PlatformFacts } from '../../platform/platform.js';
import { ssh2 } from './ssh2-runtime.js';

export const MAX_PASSPHRASE_ATTEMPTS = 3;

export type AskPassphrase = (keyFile: string, attempt: number) => Promise<string | undefined>;

/** Passphrases by key file: a Map (memory only), or one backed by the OS keychain. */
export interface PassphraseCache {
  get(file: string): string | undefined | Promise<string | undefined>;
  set(file: string, passphrase: string): unknown;
  /** The passphrase no longer opens the key. */
  delete(file: string): unknown;
}

export interface LoadedKey {
  file: string;
  key: ParsedKey;
}

function isEncryptedError(error: Error): boolean {
  return /no passphrase given/i.test(error.message);
}

function isBadPassphraseError(error: Error): boolean {
  return /bad passphrase|integrity check failed|malformed/i.test(error.message);
}

/**
 * Loads one private key. `required`: the user named this file, so a missing or unreadable file is
 * an error; OpenSSH's default files are skipped quietly when absent.
 */
export async function loadPrivateKey(
  path: string,
  options: { required: boolean; ask: AskPassphrase; cache: PassphraseCache; facts?: Pick<PlatformFacts, 'os' | 'homedir'> },
): Promise<LoadedKey | undefined> {
  const file = expandHome(path, options.facts ?? currentFacts());
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (error) {
    if (!options.required) return undefined;
    throw new OnggiError(
      ErrorCode.InvalidParams,
      'key_unreadable',
      `cannot read the key file ${file}: ${errorMessage(error)}`,
      'identityFile',
    );
  }
  const { utils } = ssh2();
  const plain = utils.parseKey(data);
  if (!(plain instanceof Error)) return { file, key: pickPrivate(plain, file) };
  if (!isEncryptedError(plain)) {
    if (!options.required) return undefined;
    throw new OnggiError(
      ErrorCode.InvalidParams,
      'key_invalid',
      `${file} is not a private key ssh2 can read: ${plain.message}`,
      'identityFile',
    );
  }
  const cached = await options.cache.get(file);
  if (cached !== undefined) {
    const parsed = utils.parseKey(data, cached);
    if (!(parsed instanceof Error)) return { file, key: pickPrivate(parsed, file) };
    await options.cache.delete(file);
  }
  for (let attempt = 1; attempt <= MAX_PASSPHRASE_ATTEMPTS; attempt++) {
    const passphrase = await options.ask(file, attempt);
    if (passphrase === undefined) {
      throw new OnggiError(ErrorCode.Forbidden, 'passphrase_cancelled', `no passphrase was given for the key ${file}`);
    }
    const parsed = utils.parseKey(data, passphrase);
    if (!(parsed instanceof Error)) {
      await options.cache.set(file, passphrase);
      return { file, key: pickPrivate(parsed, file) };
    }
    if (!isBadPassphraseError(parsed)) {
      throw new OnggiError(ErrorCode.InvalidParams, 'key_invalid', `cannot decrypt ${file}: ${parsed.message}`, 'identityFile');
    }
  }
  throw new OnggiError(
    ErrorCode.Forbidden,
    'wrong_passphrase',
    `wrong passphrase for the key ${file} (${MAX_PASSPHRASE_ATTEMPTS} attempts)`,
    'identityFile',
  );
}

function pickPrivate(parsed: ParsedKey | ParsedKey[], file: string): ParsedKey {
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || !key.isPrivateKey()) {
    throw new OnggiError(ErrorCode.InvalidParams, 'key_invalid', `${file} holds a public key, not a private one`, 'identityFile');
  }
  return key;
}
