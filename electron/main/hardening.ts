// Process-wide limits on web content, installed before any window exists: a CSP header on every
// response, no permissions, no navigation away from the app, no new windows, no <webview>.
import { app, session, shell, type Session, type WebContents } from 'electron';
import { isRendererDocument } from './ipc-guard.js';
import { isExternalLinkAllowed, withContentSecurityPolicy } from './web-policy.js';

export function hardenSession(target: Session = session.defaultSession): void {
  target.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) });
  });
  // The app needs no camera, microphone, notifications, geolocation, clipboard-read, HID, USB…
  target.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  target.setPermissionCheckHandler(() => false);
  target.setDevicePermissionHandler(() => false);
}

/** Applies the navigation rules to every webContents the app ever creates, including any it did not ask for. */
export function hardenWebContents(rendererUrl: string): void {
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (isRendererDocument(url, rendererUrl)) return;
      event.preventDefault();
      openInBrowser(url);
    });
    contents.on('will-redirect', (event, url) => {
      if (!isRendererDocument(url, rendererUrl)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      openInBrowser(url);
      return { action: 'deny' };
    });
  });
}

/** https links go to the OS browser; anything else (file:, http:, custom schemes) is dropped. */
function openInBrowser(url: string): void {
  if (!isExternalLinkAllowed(url)) return;
  shell.openExternal(url).catch((error: unknown) => console.warn('onggi: could not open a link in the browser:', error));
}
