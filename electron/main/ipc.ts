// The window's only door into the host: one invoke channel for calls, one send channel for
// events; and one invoke channel for the native folder dialog (the only desktop UI the page may
// ask main for). Who may knock and what comes back is decided in ipc-guard.ts.
import { dialog, ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { IPC_PICK_FOLDER_CHANNEL } from '../../shared/folder-picker.js';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type HostEvent } from '../../shared/host-api.js';
import { bridgeCall, bridgePickFolder, type IpcSender } from './ipc-guard.js';

export interface IpcHost {
  call(method: string, params: unknown): Promise<unknown>;
  onEvent(listener: (event: HostEvent) => void): () => void;
}

/** Wires the host to whichever window `currentWindow` returns; returns the function that unwires it. */
export function connectHostToWindow(host: IpcHost, currentWindow: () => BrowserWindow | null, rendererUrl: string): () => void {
  ipcMain.handle(IPC_CALL_CHANNEL, (event: IpcMainInvokeEvent, method: unknown, params: unknown) => {
    const window = currentWindow();
    return bridgeCall((name, value) => host.call(name, value), method, params, {
      sender: describeSender(event),
      trusted: { webContentsId: window === null || window.isDestroyed() ? null : window.webContents.id, rendererUrl },
      log: (message) => console.warn(message),
    });
  });
  ipcMain.handle(IPC_PICK_FOLDER_CHANNEL, (event: IpcMainInvokeEvent, request: unknown) => {
    const window = currentWindow();
    const live = window === null || window.isDestroyed() ? null : window;
    // Over the app window (modal to it), as a file dialog of the app should be.
    const show = (options: Electron.OpenDialogOptions) => (live ? dialog.showOpenDialog(live, options) : dialog.showOpenDialog(options));
    return bridgePickFolder(show, request, {
      sender: describeSender(event),
      trusted: { webContentsId: live ? live.webContents.id : null, rendererUrl },
      log: (message) => console.warn(message),
    });
  });
  const stopEvents = host.onEvent((hostEvent) => {
    const window = currentWindow();
    if (window !== null && !window.isDestroyed()) window.webContents.send(IPC_EVENT_CHANNEL, hostEvent);
  });
  return () => {
    ipcMain.removeHandler(IPC_CALL_CHANNEL);
    ipcMain.removeHandler(IPC_PICK_FOLDER_CHANNEL);
    stopEvents();
  };
}

function describeSender(event: IpcMainInvokeEvent): IpcSender {
  const frame = event.senderFrame;
  return { webContentsId: event.sender.id, frameUrl: frame?.url ?? null, isTopFrame: frame !== null && frame.parent === null };
}
