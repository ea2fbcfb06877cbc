import type { PickFolderRequest } from '../../../shared/folder-picker.js';
import type { HostApi } from '../../../shared/host-api.js';

/**
 * `connecting`: the first attempt is under way. `open`: calls go through. `lost`: the link
 * dropped (or never came up) and the client is retrying on its own; what the window shows may be
 * stale until it is `open` again.
 */
export type ConnectionState = 'connecting' | 'open' | 'lost';

/** The one client the views talk to, whichever transport is underneath. */
export interface HostClient extends HostApi {
  readonly transport: 'ipc' | 'websocket';
  readonly connectionState: ConnectionState;
  onConnectionState(listener: (state: ConnectionState) => void): () => void;
  /** Skips the back-off wait and tries at once (after sleep/resume, or when the user asks). */
  reconnectNow(): void;
  /** Ends the client for good: pending and later calls fail, no more reconnects. */
  close(): void;
  /**
   * The desktop's native folder dialog: the chosen folder, or null when cancelled. Only in the
   * Electron window; browser mode has none (the page cannot open a dialog on the host's desktop).
   */
  pickFolder?: (request: PickFolderRequest) => Promise<string | null>;
}
