// The OS keychain for the host core (key passphrases the user asked to remember), built on
// Electron's safeStorage: Keychain on macOS, DPAPI on Windows, libsecret/kwallet on Linux.
// Linux's `basic_text` fallback encrypts with a fixed, public key — no better than plain text —
// so it counts as no keychain at all, and the window then does not offer "remember".
import type { SafeStorage } from 'electron';
import type { SecretVault } from '../core/machines/ssh/remembered-passphrases.js';
import type { DesktopOs } from '../core/platform/platform.js';

type SafeStorageLike = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'>;

export function safeStorageVault(safeStorage: SafeStorageLike, platform: DesktopOs): SecretVault {
  return {
    isAvailable: () =>
      safeStorage.isEncryptionAvailable() && (platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text'),
    encrypt: (plain) => safeStorage.encryptString(plain),
    decrypt: (cipher) => safeStorage.decryptString(cipher),
  };
}
