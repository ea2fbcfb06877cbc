// The app lifecycle in main.ts, against stand-ins for `electron` and the host core: one instance,
// the core created with the right runtime, and a quit that waits for core.close() (bounded).
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SecretVault } from '../core/machines/ssh/remembered-passphrases.js';
import { currentFacts, dataDir } from '../core/platform/platform.js';

type Listener = (...args: unknown[]) => void;

const fake = vi.hoisted(() => {
  const state = {
    gotLock: true,
    appListeners: new Map<string, Listener[]>(),
    windows: 0,
    focused: 0,
    quit: vi.fn(),
    exit: vi.fn(),
    enableSandbox: vi.fn(),
    close: vi.fn(async () => {}),
    createHostCore: vi.fn(),
    checkLinks: vi.fn(async () => {}),
  };
  return state;
});

vi.mock('electron', () => {
  class FakeBrowserWindow {
    readonly webContents = { id: 1, send: vi.fn() };
    constructor() {
      fake.windows++;
    }
    once(): this {
      return this;
    }
    on(): this {
      return this;
    }
    isDestroyed(): boolean {
      return false;
    }
    isMinimized(): boolean {
      return false;
    }
    focus(): void {
      fake.focused++;
    }
    async loadFile(): Promise<void> {}
  }
  const on = (event: string, listener: Listener) => {
    fake.appListeners.set(event, [...(fake.appListeners.get(event) ?? []), listener]);
  };
  return {
    BrowserWindow: FakeBrowserWindow,
    app: {
      isPackaged: false,
      enableSandbox: fake.enableSandbox,
      requestSingleInstanceLock: () => fake.gotLock,
      quit: fake.quit,
      exit: fake.exit,
      on,
      whenReady: () => Promise.resolve(),
      getPath: (name: string) => `/fake/${name}`,
    },
    ipcMain: { handle: vi.fn(), removeHandler: vi.fn() },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: vi.fn() },
        setPermissionRequestHandler: vi.fn(),
        setPermissionCheckHandler: vi.fn(),
        setDevicePermissionHandler: vi.fn(),
      },
    },
    shell: { openExternal: vi.fn() },
    powerMonitor: { on: (event: string, listener: Listener) => on(`power:${event}`, listener) },
    safeStorage: {
      isEncryptionAvailable: () => true,
      getSelectedStorageBackend: () => 'gnome_libsecret',
      encryptString: (plain: string) => Buffer.from(plain, 'utf8').reverse(),
      decryptString: (cipher: Buffer) => Buffer.from(cipher).reverse().toString('utf8'),
    },
  };
});

vi.mock('../core/host-core.js', () => ({ createHostCore: fake.createHostCore }));

function emit(event: string, ...args: unknown[]): void {
  for (const listener of fake.appListeners.get(event) ?? []) listener(...args);
}

async function startMain(): Promise<void> {
  vi.resetModules();
  await import('./main.js');
  await new Promise((resolve) => setImmediate(resolve)); // let whenReady().then(...) run
}

beforeEach(() => {
  fake.gotLock = true;
  fake.appListeners.clear();
  fake.windows = 0;
  fake.focused = 0;
  for (const mock of [fake.quit, fake.exit, fake.enableSandbox, fake.close, fake.createHostCore, fake.checkLinks]) mock.mockReset();
  fake.close.mockImplementation(async () => {});
  fake.createHostCore.mockImplementation(() => ({
    call: vi.fn(),
    onEvent: () => () => {},
    close: fake.close,
    checkLinks: fake.checkLinks,
  }));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('main', () => {
  it('steps aside when another instance holds the lock', async () => {
    fake.gotLock = false;
    await startMain();
    expect(fake.quit).toHaveBeenCalled();
    expect(fake.createHostCore).not.toHaveBeenCalled();
    expect(fake.windows).toBe(0);
  });

  it('sandboxes every renderer, starts the core on Electron’s own Node with port forwarding on and opens one window', async () => {
    await startMain();
    expect(fake.enableSandbox).toHaveBeenCalled();
    expect(fake.createHostCore).toHaveBeenCalledWith({
      // The platform layer's folder, the one the CLI and `onggi serve` use (not Electron's userData).
      facts: currentFacts(),
      dataDir: dataDir(currentFacts()),
      agentDir: join(__dirname, '..', '..', 'vm-assets', 'dist', 'agent'),
      nodeRuntime: { command: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1' } },
      // The app is long-lived: remote containers' published ports reach this computer's 127.0.0.1.
      forwardPublishedPorts: true,
      // …and checks its links to remote machines when this computer's network changes.
      watchNetwork: true,
      secretVault: expect.objectContaining({ isAvailable: expect.any(Function) }),
    });
    const vault = (fake.createHostCore.mock.calls[0]?.[0] as { secretVault: SecretVault }).secretVault;
    expect(vault.isAvailable()).toBe(true);
    expect(vault.decrypt(vault.encrypt('passphrase'))).toBe('passphrase'); // wired to safeStorage
    expect(fake.windows).toBe(1);
    // Waking from sleep checks the links to remote machines at once.
    expect(fake.checkLinks).not.toHaveBeenCalled();
    emit('power:resume');
    expect(fake.checkLinks).toHaveBeenCalledTimes(1);
    emit('second-instance');
    expect(fake.windows).toBe(1);
    expect(fake.focused).toBe(1); // a second launch focuses the existing window
  });

  it('closes the core once before quitting, however often quit is asked for', async () => {
    await startMain();
    let finishClose: () => void = () => {};
    fake.close.mockImplementation(() => new Promise<void>((resolve) => (finishClose = resolve)));

    const first = { preventDefault: vi.fn() };
    emit('will-quit', first);
    const again = { preventDefault: vi.fn() };
    emit('will-quit', again);
    expect(first.preventDefault).toHaveBeenCalled();
    expect(again.preventDefault).toHaveBeenCalled();
    expect(fake.close).toHaveBeenCalledTimes(1);
    expect(fake.quit).not.toHaveBeenCalled();

    finishClose();
    await vi.waitFor(() => expect(fake.quit).toHaveBeenCalledTimes(1));
    const last = { preventDefault: vi.fn() };
    emit('will-quit', last);
    expect(last.preventDefault).not.toHaveBeenCalled();
  });

  it('quits anyway when the core does not close within 5 s', async () => {
    await startMain();
    vi.useFakeTimers();
    fake.close.mockImplementation(() => new Promise<void>(() => {}));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    emit('will-quit', { preventDefault: vi.fn() });
    await vi.advanceTimersByTimeAsync(4_900);
    expect(fake.quit).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(200);
    expect(fake.quit).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('did not close cleanly'), expect.any(Error));
    warn.mockRestore();
  });
});
