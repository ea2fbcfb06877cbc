// Electron's entry point: the thin shell around the host core. Everything the app does happens
// in the core (plain Node); this file only owns the window, the IPC door and the app lifecycle.
import { app, BrowserWindow, powerMonitor, safeStorage } from 'electron';
import { createHostCore, type HostCore } from '../core/host-core.js';
import { currentFacts, prepareDataDir } from '../core/platform/platform.js';
import { appLayout } from './app-paths.js';
import { hardenSession, hardenWebContents } from './hardening.js';
import { connectHostToWindow } from './ipc.js';
import { safeStorageVault } from './secret-vault.js';
import { createMainWindow } from './window.js';

/** How long quitting waits for the core to let go of its connections before giving up on it. */
const CORE_CLOSE_TIMEOUT_MS = 5_000;

// Every renderer is sandboxed, whatever a window's own options say.
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  // Another Onggi already runs; it has been told (second-instance) and shows its window.
  app.quit();
} else {
  start();
}

function start(): void {
  const layout = appLayout({ mainDir: __dirname, isPackaged: app.isPackaged, resourcesPath: process.resourcesPath });
  let window: BrowserWindow | null = null;
  let core: HostCore | null = null;

  const showWindow = (): void => {
    if (window === null || window.isDestroyed()) {
      window = createMainWindow(layout);
      window.on('closed', () => {
        window = null;
      });
      return;
    }
    if (window.isMinimized()) window.restore();
    window.focus();
  };

  app.on('second-instance', showWindow);
  hardenWebContents(layout.rendererUrl);

  app
    .whenReady()
    .then(() => {
      hardenSession();
      const facts = currentFacts();
      core = createHostCore({
        facts,
        // The platform layer's folder, not Electron's userData: the CLI and `onggi serve` use the same.
        dataDir: prepareDataDir(facts, (move) => console.info(`onggi: moved the data folder ${move.from} to ${move.to}`)),
        agentDir: layout.agentDir,
        // The local agent (Linux only) runs on Electron's own Node: the RunAsNode fuse is on in the
        // Linux build alone (build/packaging/hooks.mjs); macOS and Windows have no local machine.
        nodeRuntime: { command: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1' } },
        forwardPublishedPorts: true,
        watchNetwork: true,
        // Key passphrases the user asks to remember: encrypted by the OS keychain, never plain.
        secretVault: safeStorageVault(safeStorage, facts.os),
      });
      connectHostToWindow(core, () => window, layout.rendererUrl);
      // Awake again: links to remote machines may have died in the sleep without a word; checked
      // now, they are redialled at once rather than when the SSH keepalive gives up.
      const started = core;
      powerMonitor.on('resume', () => void started.checkLinks());
      showWindow();
      app.on('activate', showWindow); // macOS: clicking the dock icon with no window open
    })
    .catch((error: unknown) => {
      console.error('onggi: failed to start:', error);
      app.exit(1);
    });

  app.on('window-all-closed', () => {
    // macOS apps stay running with no window (the dock icon reopens it).
    if (currentFacts().os !== 'darwin') app.quit();
  });

  // The core closes its connections on the way out. The agent daemons and their containers keep
  // running: containers outlive the app.
  let quitting: 'no' | 'closing-core' | 'done' = 'no';
  app.on('will-quit', (event) => {
    if (quitting === 'done' || core === null) return;
    event.preventDefault();
    if (quitting === 'closing-core') return;
    quitting = 'closing-core';
    void withTimeout(core.close(), CORE_CLOSE_TIMEOUT_MS)
      .catch((error: unknown) => console.warn('onggi: the host core did not close cleanly:', error))
      .finally(() => {
        quitting = 'done';
        app.quit();
      });
  });
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    work.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
