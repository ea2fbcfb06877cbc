// The Electron-facing modules, run against a stand-in `electron` module (the real one needs the
// binary): the window's options, the session and navigation rules, and the IPC wiring.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { BrowserWindow } from 'electron';
import { IPC_PICK_FOLDER_CHANNEL } from '../../shared/folder-picker.js';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type HostEvent } from '../../shared/host-api.js';
import { ErrorCode } from '../../shared/jsonrpc.js';
import type { AppLayout } from './app-paths.js';
import { hardenSession, hardenWebContents } from './hardening.js';
import { connectHostToWindow } from './ipc.js';
import { CONTENT_SECURITY_POLICY } from './web-policy.js';
import { createMainWindow } from './window.js';

type Handler = (...args: never[]) => unknown;

const fake = vi.hoisted(() => {
  const appHandlers = new Map<string, Handler>();
  const ipcHandlers = new Map<string, Handler>();
  const windows: { options: unknown; loadFile: ReturnType<typeof vi.fn> }[] = [];
  const session = {
    headersListener: undefined as Handler | undefined,
    permissionRequest: undefined as Handler | undefined,
    permissionCheck: undefined as Handler | undefined,
    devicePermission: undefined as Handler | undefined,
  };
  const showOpenDialog = vi.fn(async (..._args: unknown[]) => ({ canceled: false, filePaths: ['/home/me/app'] }));
  return { appHandlers, ipcHandlers, windows, session, openExternal: vi.fn(async (_url: string) => {}), showOpenDialog };
});

vi.mock('electron', () => {
  class FakeBrowserWindow {
    readonly webContents = { id: 1, send: vi.fn() };
    readonly loadFile = vi.fn(async (_file: string) => {});
    constructor(readonly options: unknown) {
      fake.windows.push(this);
    }
    once(): this {
      return this;
    }
    isDestroyed(): boolean {
      return false;
    }
  }
  return {
    BrowserWindow: FakeBrowserWindow,
    app: { on: (event: string, handler: Handler) => fake.appHandlers.set(event, handler) },
    ipcMain: {
      handle: (channel: string, handler: Handler) => fake.ipcHandlers.set(channel, handler),
      removeHandler: (channel: string) => fake.ipcHandlers.delete(channel),
    },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (listener: Handler) => (fake.session.headersListener = listener) },
        setPermissionRequestHandler: (handler: Handler) => (fake.session.permissionRequest = handler),
        setPermissionCheckHandler: (handler: Handler) => (fake.session.permissionCheck = handler),
        setDevicePermissionHandler: (handler: Handler) => (fake.session.devicePermission = handler),
      },
    },
    shell: { openExternal: fake.openExternal },
    dialog: { showOpenDialog: fake.showOpenDialog },
  };
});

const rendererUrl = 'file:///opt/Onggi/resources/app.asar/dist/renderer/index.html';
const layout: AppLayout = {
  preload: '/opt/Onggi/resources/app.asar/dist/electron/preload.cjs',
  rendererFile: '/opt/Onggi/resources/app.asar/dist/renderer/index.html',
  rendererUrl,
  agentDir: '/opt/Onggi/resources/vm-assets/agent',
};

beforeEach(() => {
  fake.appHandlers.clear();
  fake.ipcHandlers.clear();
  fake.windows.length = 0;
  fake.openExternal.mockClear();
  fake.showOpenDialog.mockClear();
});

describe('createMainWindow', () => {
  it('makes a sandboxed, isolated window without Node and loads the renderer from its file', () => {
    createMainWindow(layout);
    const [window] = fake.windows;
    expect(window?.options).toMatchObject({
      show: false,
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
      },
    });
    expect(JSON.stringify(window?.options)).not.toMatch(/enableBlinkFeatures|additionalArguments/);
    expect(window?.loadFile).toHaveBeenCalledWith(layout.rendererFile);
  });
});

describe('hardenSession', () => {
  it('puts the CSP on every response and denies every permission', () => {
    hardenSession();
    const callback = vi.fn();
    const onHeaders = fake.session.headersListener as (details: unknown, callback: unknown) => void;
    onHeaders({ responseHeaders: { 'content-security-policy': ['default-src *'], Server: ['x'] } }, callback);
    expect(callback).toHaveBeenCalledWith({ responseHeaders: { Server: ['x'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });

    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'openExternal']) {
      const decide = vi.fn();
      (fake.session.permissionRequest as (c: unknown, p: string, cb: unknown) => void)({}, permission, decide);
      expect(decide).toHaveBeenCalledWith(false);
      expect((fake.session.permissionCheck as (c: unknown, p: string) => boolean)({}, permission)).toBe(false);
    }
    expect((fake.session.devicePermission as () => boolean)()).toBe(false);
  });
});

describe('hardenWebContents', () => {
  function contentsCreated(): { emit: (event: string, ...args: unknown[]) => void; openHandler: (details: { url: string }) => unknown } {
    hardenWebContents(rendererUrl);
    const listeners = new Map<string, Handler>();
    let openHandler: Handler | undefined;
    const contents = {
      on: (event: string, listener: Handler) => listeners.set(event, listener),
      setWindowOpenHandler: (handler: Handler) => (openHandler = handler),
    };
    (fake.appHandlers.get('web-contents-created') as (event: unknown, contents: unknown) => void)({}, contents);
    return {
      emit: (event, ...args) => (listeners.get(event) as (...a: unknown[]) => void)(...args),
      openHandler: (details) => (openHandler as (d: unknown) => unknown)(details),
    };
  }

  it('keeps the window on the app: navigation elsewhere is stopped, https goes to the browser', () => {
    const contents = contentsCreated();
    const navigate = (url: string): boolean => {
      const event = { preventDefault: vi.fn() };
      contents.emit('will-navigate', event, url);
      return event.preventDefault.mock.calls.length > 0;
    };
    expect(navigate(`${rendererUrl}#/images`)).toBe(false);
    expect(fake.openExternal).not.toHaveBeenCalled();
    expect(navigate('https://github.com/')).toBe(true);
    expect(fake.openExternal).toHaveBeenCalledWith('https://github.com/');
    fake.openExternal.mockClear();
    for (const url of ['file:///etc/passwd', 'http://example.com/', 'javascript:alert(1)']) expect(navigate(url)).toBe(true);
    expect(fake.openExternal).not.toHaveBeenCalled();
  });

  it('denies every new window, opening only https links in the browser', () => {
    const contents = contentsCreated();
    expect(contents.openHandler({ url: 'https://example.com/docs' })).toEqual({ action: 'deny' });
    expect(fake.openExternal).toHaveBeenCalledWith('https://example.com/docs');
    fake.openExternal.mockClear();
    expect(contents.openHandler({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(fake.openExternal).not.toHaveBeenCalled();
  });

  it('refuses redirects away from the app and every <webview>', () => {
    const contents = contentsCreated();
    const redirect = { preventDefault: vi.fn() };
    contents.emit('will-redirect', redirect, 'https://example.com/');
    expect(redirect.preventDefault).toHaveBeenCalled();
    const webview = { preventDefault: vi.fn() };
    contents.emit('will-attach-webview', webview);
    expect(webview.preventDefault).toHaveBeenCalled();
  });
});

describe('connectHostToWindow', () => {
  function setUp(): {
    host: { call: ReturnType<typeof vi.fn>; emit: (event: HostEvent) => void; listeners: number };
    window: { webContents: { id: number; send: ReturnType<typeof vi.fn> }; isDestroyed: () => boolean; destroyed: boolean };
    invoke: (sender: { id: number; frameUrl: string | null; subFrame?: boolean }, method: unknown, params?: unknown) => Promise<unknown>;
    disconnect: () => void;
  } {
    const listeners = new Set<(event: HostEvent) => void>();
    const host = {
      call: vi.fn(async (method: string) => ({ method })),
      emit: (event: HostEvent) => listeners.forEach((listener) => listener(event)),
      get listeners() {
        return listeners.size;
      },
    };
    const window = {
      webContents: { id: 1, send: vi.fn() },
      destroyed: false,
      isDestroyed(): boolean {
        return this.destroyed;
      },
    };
    const disconnect = connectHostToWindow(
      {
        call: host.call,
        onEvent: (listener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      },
      () => window as unknown as BrowserWindow,
      rendererUrl,
    );
    const invoke = async (sender: { id: number; frameUrl: string | null; subFrame?: boolean }, method: unknown, params?: unknown) => {
      const frame = sender.frameUrl === null ? null : { url: sender.frameUrl, parent: sender.subFrame ? {} : null };
      const handler = fake.ipcHandlers.get(IPC_CALL_CHANNEL) as (event: unknown, ...args: unknown[]) => Promise<unknown>;
      return handler({ sender: { id: sender.id }, senderFrame: frame }, method, params);
    };
    return { host, window, invoke, disconnect };
  }

  it('answers calls from our window with the host’s result', async () => {
    const { host, invoke } = setUp();
    await expect(invoke({ id: 1, frameUrl: rendererUrl }, 'machines.list', {})).resolves.toEqual({
      ok: true,
      result: { method: 'machines.list' },
    });
    expect(host.call).toHaveBeenCalledWith('machines.list', {});
  });

  it('refuses other webContents, other pages and sub-frames without calling the host', async () => {
    const { host, invoke } = setUp();
    const forbidden = { ok: false, error: expect.objectContaining({ code: ErrorCode.Forbidden }) };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await expect(invoke({ id: 2, frameUrl: rendererUrl }, 'machines.list')).resolves.toEqual(forbidden);
    await expect(invoke({ id: 1, frameUrl: 'https://evil.example/' }, 'machines.list')).resolves.toEqual(forbidden);
    await expect(invoke({ id: 1, frameUrl: null }, 'machines.list')).resolves.toEqual(forbidden);
    await expect(invoke({ id: 1, frameUrl: rendererUrl, subFrame: true }, 'machines.list')).resolves.toEqual(forbidden);
    expect(warn).toHaveBeenCalledTimes(4);
    warn.mockRestore();
    expect(host.call).not.toHaveBeenCalled();
  });

  it('opens the native folder dialog over our window for our page only, the request checked, a cancel as null', async () => {
    const { window } = setUp();
    const pick = fake.ipcHandlers.get(IPC_PICK_FOLDER_CHANNEL) as (event: unknown, request: unknown) => Promise<unknown>;
    const ours = { sender: { id: 1 }, senderFrame: { url: rendererUrl, parent: null } };
    await expect(pick(ours, { title: 'Choose a folder' })).resolves.toEqual({ ok: true, result: { path: '/home/me/app' } });
    expect(fake.showOpenDialog).toHaveBeenCalledWith(window, { title: 'Choose a folder', properties: ['openDirectory'] });

    fake.showOpenDialog.mockResolvedValueOnce({ canceled: true, filePaths: [] });
    await expect(pick(ours, { title: 'Choose a folder' })).resolves.toEqual({ ok: true, result: { path: null } });

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await expect(pick({ sender: { id: 1 }, senderFrame: { url: 'https://evil.example/', parent: null } }, { title: 'x' })).resolves.toEqual(
      {
        ok: false,
        error: expect.objectContaining({ code: ErrorCode.Forbidden }),
      },
    );
    warn.mockRestore();
    await expect(pick(ours, { title: 'x', properties: ['openFile', 'multiSelections'] })).resolves.toEqual({
      ok: false,
      error: expect.objectContaining({ code: ErrorCode.InvalidParams, data: expect.objectContaining({ field: 'params.properties' }) }),
    });
    expect(fake.showOpenDialog).toHaveBeenCalledTimes(2);
  });

  it('forwards host events to the window while it lives, and unwires cleanly', () => {
    const { host, window, disconnect } = setUp();
    const event: HostEvent = { type: 'machine.state', machine: 'local', state: 'ready' };
    host.emit(event);
    expect(window.webContents.send).toHaveBeenCalledWith(IPC_EVENT_CHANNEL, event);
    window.destroyed = true;
    host.emit(event);
    expect(window.webContents.send).toHaveBeenCalledTimes(1);
    disconnect();
    expect(host.listeners).toBe(0);
    expect(fake.ipcHandlers.has(IPC_CALL_CHANNEL)).toBe(false);
    expect(fake.ipcHandlers.has(IPC_PICK_FOLDER_CHANNEL)).toBe(false);
  });
});
