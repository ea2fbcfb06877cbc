// The decisions behind the window's single IPC channel, kept free of Electron so they are unit
// tested here: who may call the host, and how a call's outcome becomes a BridgeReply. Nothing is
// ever thrown across IPC: Electron would flatten the error into a string and lose code and field.
import { OnggiError, errorMessage, invalidInput } from '../../shared/errors.js';
import { PickFolderRequest, PickFolderResult } from '../../shared/folder-picker.js';
import type { BridgeReply } from '../../shared/host-api.js';
import { ErrorCode, type JsonRpcErrorObject } from '../../shared/jsonrpc.js';

/** What the main process knows about the frame that sent an IPC message. */
export interface IpcSender {
  /** `event.sender.id`: the webContents the message came from. */
  webContentsId: number;
  /** `event.senderFrame?.url`; null when the frame has navigated away or been destroyed. */
  frameUrl: string | null;
  /** True when the sending frame is the page's top frame (not an iframe inside it). */
  isTopFrame: boolean;
}

/** The one renderer allowed to call the host: our window, showing our own page. */
export interface TrustedRenderer {
  /** The app window's webContents id, or null while there is no window. */
  webContentsId: number | null;
  /** The file:// URL of the renderer's index.html. */
  rendererUrl: string;
}

/**
 * True when `url` is the renderer's own document, whatever its query or hash (the renderer may
 * route with either). Only file:// with an identical path qualifies.
 */
export function isRendererDocument(url: string, rendererUrl: string): boolean {
  const candidate = URL.parse(url);
  const expected = URL.parse(rendererUrl);
  if (candidate === null || expected === null) return false;
  return (
    candidate.protocol === 'file:' &&
    expected.protocol === 'file:' &&
    candidate.host === expected.host &&
    candidate.pathname === expected.pathname
  );
}

/** Why a sender is refused, or null when it is our window's top frame showing our page. */
export function senderRefusal(sender: IpcSender, trusted: TrustedRenderer): string | null {
  if (trusted.webContentsId === null || sender.webContentsId !== trusted.webContentsId)
    return 'the message did not come from the app window';
  if (!sender.isTopFrame) return 'the message came from a sub-frame';
  if (sender.frameUrl === null || !isRendererDocument(sender.frameUrl, trusted.rendererUrl)) return 'the sending page is not the app';
  return null;
}

/**
 * The error object a reply carries. An OnggiError keeps its code, kind and field; anything else
 * is an internal error worded as browser mode words it (shared/rpc-dispatch.ts), so the renderer
 * sees the same failure whichever front end it runs in.
 */
export function toBridgeError(method: string, error: unknown): JsonRpcErrorObject {
  if (error instanceof OnggiError) return error.toJsonRpc();
  return { code: ErrorCode.InternalError, message: `${method} failed: ${errorMessage(error)}`, data: { kind: 'internal' } };
}

export type HostCall = (method: string, params: unknown) => Promise<unknown>;

export interface BridgeCallOptions {
  sender: IpcSender;
  trusted: TrustedRenderer;
  /** Where refusals and unexpected errors are reported (the main process log). */
  log?: (message: string) => void;
}

/**
 * Checks the sender and the method name, runs the call, and wraps the outcome. Never rejects.
 * Params are passed through untouched: the host core validates them against the method's schema.
 */
export async function bridgeCall(call: HostCall, method: unknown, params: unknown, options: BridgeCallOptions): Promise<BridgeReply> {
  const log = options.log ?? (() => {});
  const refused = refusalReply(options);
  if (refused) return refused;
  if (typeof method !== 'string') {
    return {
      ok: false,
      error: {
        code: ErrorCode.InvalidRequest,
        message: 'The method name must be a string.',
        data: { kind: 'invalid_request', field: 'method' },
      },
    };
  }
  try {
    return { ok: true, result: await call(method, params) };
  } catch (error) {
    if (!(error instanceof OnggiError))
      log(`onggi: ${method} failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return { ok: false, error: toBridgeError(method, error) };
  }
}

/** The Forbidden reply for a sender that is not our window's top frame showing our page, logged; null for ours. */
function refusalReply(options: BridgeCallOptions): BridgeReply | null {
  const refusal = senderRefusal(options.sender, options.trusted);
  if (refusal === null) return null;
  (options.log ?? (() => {}))(`onggi: refused an IPC call from ${options.sender.frameUrl ?? 'an unknown frame'}: ${refusal}`);
  return { ok: false, error: { code: ErrorCode.Forbidden, message: `Refused: ${refusal}.`, data: { kind: 'forbidden' } } };
}

/** Electron's `dialog.showOpenDialog` as the picker uses it (over the app window). */
export type OpenFolderDialog = (options: {
  title: string;
  defaultPath?: string;
  properties: Array<'openDirectory'>;
}) => Promise<{ canceled: boolean; filePaths: string[] }>;

/**
 * The native folder dialog for the page (shared/folder-picker.ts): the sender checked as for host
 * calls, the request and the answer against their schemas; a cancel is `{ path: null }`. Never rejects.
 */
export async function bridgePickFolder(show: OpenFolderDialog, request: unknown, options: BridgeCallOptions): Promise<BridgeReply> {
  const refused = refusalReply(options);
  if (refused) return refused;
  const checked = PickFolderRequest.safeParse(request);
  if (!checked.success) return { ok: false, error: invalidInput('params', checked.error).toJsonRpc() };
  try {
    const { title, defaultPath } = checked.data;
    const chosen = await show({ title, ...(defaultPath ? { defaultPath } : {}), properties: ['openDirectory'] });
    const result = PickFolderResult.parse({ path: chosen.canceled ? null : (chosen.filePaths[0] ?? null) });
    return { ok: true, result };
  } catch (error) {
    (options.log ?? (() => {}))(`onggi: the folder dialog failed: ${errorMessage(error)}`);
    return { ok: false, error: toBridgeError('pickFolder', error) };
  }
}
