import { describe, expect, it, vi } from 'vitest';
import { OnggiError } from '../../shared/errors.js';
import { BridgeReply } from '../../shared/host-api.js';
import { ErrorCode } from '../../shared/jsonrpc.js';
import { bridgeCall, isRendererDocument, senderRefusal, type IpcSender, type TrustedRenderer } from './ipc-guard.js';

const rendererUrl = 'file:///opt/Onggi/resources/app.asar/dist/renderer/index.html';
const trusted: TrustedRenderer = { webContentsId: 7, rendererUrl };
const ourWindow: IpcSender = { webContentsId: 7, frameUrl: rendererUrl, isTopFrame: true };

describe('isRendererDocument', () => {
  it('accepts the page itself, with any hash or query', () => {
    expect(isRendererDocument(rendererUrl, rendererUrl)).toBe(true);
    expect(isRendererDocument(`${rendererUrl}#/containers`, rendererUrl)).toBe(true);
    expect(isRendererDocument(`${rendererUrl}?view=images`, rendererUrl)).toBe(true);
  });

  it('refuses other files, other schemes and garbage', () => {
    expect(isRendererDocument('file:///opt/Onggi/resources/app.asar/dist/renderer/other.html', rendererUrl)).toBe(false);
    expect(isRendererDocument('file:///tmp/index.html', rendererUrl)).toBe(false);
    expect(isRendererDocument('file://evil.example/opt/Onggi/resources/app.asar/dist/renderer/index.html', rendererUrl)).toBe(false);
    expect(isRendererDocument('https://evil.example/opt/Onggi/resources/app.asar/dist/renderer/index.html', rendererUrl)).toBe(false);
    expect(isRendererDocument('about:blank', rendererUrl)).toBe(false);
    expect(isRendererDocument('not a url', rendererUrl)).toBe(false);
    expect(isRendererDocument('', rendererUrl)).toBe(false);
  });

  it('does not let dot segments or encoding smuggle another path in', () => {
    expect(isRendererDocument('file:///opt/Onggi/resources/app.asar/dist/renderer/x/../index.html', rendererUrl)).toBe(true);
    expect(isRendererDocument('file:///opt/Onggi/resources/app.asar/dist/renderer/index.html/..', rendererUrl)).toBe(false);
    expect(isRendererDocument('file:///opt/Onggi/resources/app.asar/dist/renderer/index%2Ehtml', rendererUrl)).toBe(false);
  });
});

describe('senderRefusal', () => {
  it('trusts our window showing our page', () => {
    expect(senderRefusal(ourWindow, trusted)).toBeNull();
  });

  it('refuses a foreign sender URL', () => {
    expect(senderRefusal({ ...ourWindow, frameUrl: 'https://evil.example/' }, trusted)).toMatch(/not the app/);
    expect(senderRefusal({ ...ourWindow, frameUrl: 'file:///home/me/Downloads/index.html' }, trusted)).toMatch(/not the app/);
  });

  it('refuses a destroyed or navigated-away frame', () => {
    expect(senderRefusal({ ...ourWindow, frameUrl: null }, trusted)).toMatch(/not the app/);
  });

  it('refuses another webContents, even showing our page', () => {
    expect(senderRefusal({ ...ourWindow, webContentsId: 8 }, trusted)).toMatch(/app window/);
    expect(senderRefusal(ourWindow, { ...trusted, webContentsId: null })).toMatch(/app window/);
  });

  it('refuses a sub-frame', () => {
    expect(senderRefusal({ ...ourWindow, isTopFrame: false }, trusted)).toMatch(/sub-frame/);
  });
});

describe('bridgeCall', () => {
  it('turns a result into {ok: true, result}', async () => {
    const call = vi.fn(async () => ({ version: '0.1.0', platform: 'linux' }));
    const reply = await bridgeCall(call, 'app.version', {}, { sender: ourWindow, trusted });
    expect(reply).toEqual({ ok: true, result: { version: '0.1.0', platform: 'linux' } });
    expect(call).toHaveBeenCalledWith('app.version', {});
    expect(BridgeReply.safeParse(reply).success).toBe(true);
  });

  it('refuses a foreign sender without calling the host', async () => {
    const call = vi.fn(async () => 'never');
    const log = vi.fn();
    const reply = await bridgeCall(call, 'machines.list', undefined, {
      sender: { ...ourWindow, frameUrl: 'https://evil.example/' },
      trusted,
      log,
    });
    expect(reply).toEqual({ ok: false, error: { code: ErrorCode.Forbidden, message: expect.any(String), data: { kind: 'forbidden' } } });
    expect(call).not.toHaveBeenCalled();
    expect(log).toHaveBeenCalledWith(expect.stringContaining('https://evil.example/'));
  });

  it.each([42, null, undefined, { toString: () => 'app.version' }, ['app.version']])('refuses a non-string method (%s)', async (method) => {
    const call = vi.fn(async () => 'never');
    const reply = await bridgeCall(call, method, undefined, { sender: ourWindow, trusted });
    expect(reply).toEqual({
      ok: false,
      error: { code: ErrorCode.InvalidRequest, message: expect.any(String), data: { kind: 'invalid_request', field: 'method' } },
    });
    expect(call).not.toHaveBeenCalled();
  });

  it('passes an OnggiError through with its code, kind and field', async () => {
    const reply = await bridgeCall(
      async () => {
        throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'params.machine: too long', 'params.machine');
      },
      'machines.info',
      { machine: 'x'.repeat(500) },
      { sender: ourWindow, trusted },
    );
    expect(reply).toEqual({
      ok: false,
      error: {
        code: ErrorCode.InvalidParams,
        message: 'params.machine: too long',
        data: { kind: 'invalid_params', field: 'params.machine' },
      },
    });
    expect(BridgeReply.safeParse(reply).success).toBe(true);
  });

  it('keeps an OnggiError without a field to {kind} only', async () => {
    const reply = await bridgeCall(
      async () => {
        throw new OnggiError(ErrorCode.NotFound, 'not_found', 'no machine "x"');
      },
      'machines.info',
      { machine: 'x' },
      { sender: ourWindow, trusted },
    );
    expect(reply).toEqual({ ok: false, error: { code: ErrorCode.NotFound, message: 'no machine "x"', data: { kind: 'not_found' } } });
  });

  it('turns anything else thrown into an internal error and logs it, never rejecting', async () => {
    const log = vi.fn();
    const reply = await bridgeCall(
      async () => {
        throw new TypeError('boom');
      },
      'machines.list',
      undefined,
      { sender: ourWindow, trusted, log },
    );
    expect(reply).toEqual({
      ok: false,
      error: { code: ErrorCode.InternalError, message: 'machines.list failed: boom', data: { kind: 'internal' } },
    });
    expect(log).toHaveBeenCalledWith(expect.stringContaining('TypeError: boom'));

    const thrownString = await bridgeCall(() => Promise.reject('plain string'), 'machines.list', undefined, { sender: ourWindow, trusted });
    expect(thrownString).toEqual({
      ok: false,
      error: { code: ErrorCode.InternalError, message: 'machines.list failed: plain string', data: { kind: 'internal' } },
    });
  });
});
