import type { PreloadBridge } from '../../../shared/host-api.js';
import { BridgeHostClient } from './ipc-client';
import type { HostClient } from './types';
import { WebSocketHostClient, webSocketUrl } from './ws-client';

export type { ConnectionState, HostClient } from './types';

declare global {
  interface Window {
    /** Present only inside the Electron window, put there by the preload script. */
    onggi?: PreloadBridge;
  }
}

export type ClientChoice = { ok: true; client: HostClient } | { ok: false; reason: 'missing_token' };

/** The preload bridge when Electron put one on the window, otherwise a WebSocket back to the page's own host. */
export function createHostClient(win: Window = window): ClientChoice {
  if (win.onggi) return { ok: true, client: new BridgeHostClient(win.onggi) };
  const url = webSocketUrl(win.location);
  if (!url) return { ok: false, reason: 'missing_token' };
  return { ok: true, client: new WebSocketHostClient({ url }) };
}
