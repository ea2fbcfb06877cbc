// Key passphrases the user asked Onggi to remember ("Remember in the system keychain"). Only with
// a SecretVault (Electron's safeStorage: the OS keychain holds the key): the file in the app's data
// dir holds the vault's ciphertext (base64), keyed by machine and key file, never the passphrase.
// Without a vault (CLI, browser mode) nothing is ever stored: passphrases stay in memory.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import { writeJsonAtomic } from '../../atomic-write.js';
import type { PlatformFacts } from '../../platform/platform.js';
import type { PassphraseCache } from './keys.js';

/** Encryption whose key the OS keeps (Electron: safeStorage). */
export interface SecretVault {
  /** false when the OS offers no keychain (then nothing is remembered). */
  isAvailable(): boolean;
  encrypt(plain: string): Buffer;
  decrypt(cipher: Buffer): string;
}

export const PASSPHRASES_FILE = 'ssh-passphrases.json';

const PassphrasesFile = z.strictObject({
  version: z.literal(1),
  /** machine name → key file → base64 of the vault's ciphertext. */
  machines: z.record(z.string(), z.record(z.string(), z.string())),
});
type PassphrasesFile = z.infer<typeof PassphrasesFile>;

export class RememberedPassphrases {
  readonly path: string;
  /** Writes one at a time: read, change, write atomically. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly vault: SecretVault | undefined,
    private readonly facts?: PlatformFacts,
  ) {
    this.path = join(dataDir, PASSPHRASES_FILE);
  }

  /** Whether `remember` can be honoured here. */
  get available(): boolean {
    try {
      return this.vault?.isAvailable() === true;
    } catch {
      return false;
    }
  }

  /** The remembered passphrase, or undefined (none, no vault, or the keychain cannot decrypt it). */
  async read(machine: string, keyFile: string): Promise<string | undefined> {
    if (!this.vault || !this.available) return undefined;
    await this.queue;
    const cipher = (await this.load()).machines[machine]?.[keyFile];
    if (cipher === undefined) return undefined;
    try {
      return this.vault.decrypt(Buffer.from(cipher, 'base64'));
    } catch {
      return undefined; // another keychain, or a damaged entry: the caller asks and forgets it
    }
  }

  async save(machine: string, keyFile: string, passphrase: string): Promise<void> {
    const vault = this.vault;
    if (!vault || !this.available) throw rememberNotAvailable();
    const cipher = vault.encrypt(passphrase).toString('base64');
    await this.change((file) => {
      file.machines[machine] = { ...file.machines[machine], [keyFile]: cipher };
    });
  }

  /** Forgets one key's passphrase, or all of a machine's. */
  async forget(machine: string, keyFile?: string): Promise<void> {
    await this.change((file) => {
      const entries = file.machines[machine];
      if (!entries) return false;
      if (keyFile === undefined) delete file.machines[machine];
      else {
        if (!(keyFile in entries)) return false;
        delete entries[keyFile];
        if (Object.keys(entries).length === 0) delete file.machines[machine];
      }
      return true;
    });
  }

  /** A machine's passphrase cache: memory first, then this store; `wantsRemember` says what to keep here. */
  cacheFor(machine: string, wantsRemember: (keyFile: string) => boolean): PassphraseCache {
    const memory = new Map<string, string>();
    return {
      // An unreadable file only means the user is asked, as without a keychain.
      get: async (keyFile) => memory.get(keyFile) ?? (await this.read(machine, keyFile).catch(() => undefined)),
      set: async (keyFile, passphrase) => {
        memory.set(keyFile, passphrase);
        if (wantsRemember(keyFile)) await this.save(machine, keyFile, passphrase);
      },
      // A passphrase that no longer opens the key: gone from memory and from the file.
      delete: async (keyFile) => {
        memory.delete(keyFile);
        await this.forget(machine, keyFile);
      },
    };
  }

  private change(edit: (file: PassphrasesFile) => boolean | void): Promise<void> {
    const next = this.queue.then(async () => {
      const file = await this.load();
      if (edit(file) === false) return;
      await writeJsonAtomic(this.path, file, this.facts ? { facts: this.facts } : {});
    });
    // the chain only orders the next write; its caller gets the error from `next`
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async load(): Promise<PassphrasesFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, machines: {} };
      throw new OnggiError(ErrorCode.Unavailable, 'passphrases_file_unreadable', `cannot read ${this.path}: ${errorMessage(error)}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = PassphrasesFile.safeParse(json);
    // A damaged file holds nothing usable: start over (every entry is only a convenience).
    return parsed.success ? parsed.data : { version: 1, machines: {} };
  }
}

/** The error for `remember: true` where there is no vault: it names the field. */
export function rememberNotAvailable(): OnggiError {
  return new OnggiError(
    ErrorCode.InvalidParams,
    'keychain_unavailable',
    'remember: true needs the system keychain (the desktop app with an OS keychain); here the passphrase is kept in memory only — answer without params.remember',
    'params.remember',
  );
}
