// Runs in the sandboxed renderer before the page, in a world the page cannot touch, and hands the
// page exactly one object: window.onggi (PreloadBridge). ipcRenderer itself never crosses, and
// neither does Electron's event object (it holds a reference to the sender).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type * as FolderPicker from '../../shared/folder-picker.js';
import type * as HostApi from '../../shared/host-api.js';

// Type-only import: host-api.ts pulls in zod (~700 kB) for its schemas, which the preload does
// not need. The literal types below make tsc fail if the shared channel names ever change.
const IPC_CALL_CHANNEL: typeof HostApi.IPC_CALL_CHANNEL = 'onggi:call';
const IPC_EVENT_CHANNEL: typeof HostApi.IPC_EVENT_CHANNEL = 'onggi:event';
const IPC_PICK_FOLDER_CHANNEL: typeof FolderPicker.IPC_PICK_FOLDER_CHANNEL = 'onggi:pickFolder';

const bridge: HostApi.PreloadBridge = {
  call(method: string, params: unknown): Promise<HostApi.BridgeReply> {
    return ipcRenderer.invoke(IPC_CALL_CHANNEL, method, params) as Promise<HostApi.BridgeReply>;
  },
  onEvent(listener: (event: unknown) => void): () => void {
    const forward = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(IPC_EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, forward);
    };
  },
  pickFolder(request: unknown): Promise<HostApi.BridgeReply> {
    return ipcRenderer.invoke(IPC_PICK_FOLDER_CHANNEL, request) as Promise<HostApi.BridgeReply>;
  },
};

contextBridge.exposeInMainWorld('onggi', bridge);
