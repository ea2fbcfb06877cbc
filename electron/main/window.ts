// The one app window. Its renderer is an ordinary web page with no Node: sandboxed, isolated
// from the preload's world, and able to reach the host only through window.onggi.
import { BrowserWindow } from 'electron';
import type { AppLayout } from './app-paths.js';

export function createMainWindow(layout: AppLayout): BrowserWindow {
  // The options are spelled out in the constructor call so that a reviewer (and
  // electronegativity) sees every security setting where the window is made.
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 880,
    minHeight: 560,
    show: false,
    title: 'Onggi',
    webPreferences: {
      preload: layout.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      // Middle-click would otherwise ask for a new window (denied anyway by setWindowOpenHandler).
      disableBlinkFeatures: 'Auxclick',
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadFile(layout.rendererFile);
  return window;
}
