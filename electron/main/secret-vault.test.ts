// The safeStorage vault: a real keychain counts, Linux's basic_text fallback (a fixed key) does not.
import { describe, expect, it } from 'vitest';
import { safeStorageVault } from './secret-vault.js';

function fakeSafeStorage(backend: 'basic_text' | 'gnome_libsecret', available = true) {
  return {
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend,
    encryptString: (plain: string) => Buffer.from(`enc:${plain}`),
    decryptString: (cipher: Buffer) => cipher.toString().replace(/^enc:/, ''),
  };
}

describe('safeStorageVault', () => {
  it('is available with a real keychain and passes strings through safeStorage', () => {
    const vault = safeStorageVault(fakeSafeStorage('gnome_libsecret'), 'linux');
    expect(vault.isAvailable()).toBe(true);
    expect(vault.encrypt('x').toString()).toBe('enc:x');
    expect(vault.decrypt(Buffer.from('enc:x'))).toBe('x');
  });

  it('is not available when safeStorage is not, or on Linux with the basic_text fallback', () => {
    expect(safeStorageVault(fakeSafeStorage('gnome_libsecret', false), 'darwin').isAvailable()).toBe(false);
    expect(safeStorageVault(fakeSafeStorage('basic_text'), 'linux').isAvailable()).toBe(false);
    expect(safeStorageVault(fakeSafeStorage('basic_text'), 'win32').isAvailable()).toBe(true); // the backend is a Linux notion
  });
});
