// Browser mode: the built renderer and the host API on 127.0.0.1, for headless Linux boxes and
// for Playwright. The API is the same JSON-RPC the agent speaks, one message per WebSocket frame;
// host events go out as notifications.
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { OnggiError } from '../../shared/errors.js';
import { HOST_EVENT_METHOD } from '../../shared/host-api.js';
import { ErrorCode } from '../../shared/jsonrpc.js';
import { MAX_FRAME_BYTES, encodeFrame } from '../../shared/ndjson.js';
import { dispatchFrame } from '../../shared/rpc-dispatch.js';
import type { HostCore } from '../core/host-core.js';
import { TOKEN_COOKIE, checkAccess, newToken } from './access.js';
import { readStatic } from './static-files.js';

export interface ServeOptions {
  core: HostCore;
  rendererDir: string;
  port?: number;
  token?: string;
  onError?: (error: unknown) => void;
}

export interface RunningServe {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  // The token is in the URL: never let it leak to another site through a Referer.
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export async function startServe(options: ServeOptions): Promise<RunningServe> {
  if (!existsSync(join(options.rendererDir, 'index.html'))) {
    throw new OnggiError(
      ErrorCode.Unavailable,
      'renderer_missing',
      `the window is not built (no ${options.rendererDir}/index.html); run \`npm run build\``,
    );
  }
  const token = options.token ?? newToken();
  const sockets = new Set<WebSocket>();
  let port = 0;

  const http = createServer((request, response) => {
    void handleHttp(request, response).catch((error: unknown) => {
      options.onError?.(error);
      if (!response.headersSent) response.writeHead(500).end('internal error');
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  async function handleHttp(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const verdict = checkAccess(request, token, port, false);
    if (!verdict.ok) {
      response.writeHead(verdict.status, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end(`${verdict.reason}\n`);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, SECURITY_HEADERS).end();
      return;
    }
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const file = await readStatic(options.rendererDir, url.pathname);
    if (!file) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end('not found\n');
      return;
    }
    // Assets load without the query token: the page's first load sets it as a strict cookie.
    const cookie = `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    response.writeHead(200, { 'Content-Type': file.type, 'Set-Cookie': cookie, ...SECURITY_HEADERS });
    response.end(request.method === 'HEAD' ? undefined : file.body);
  }

  http.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const verdict =
      url.pathname === '/api' ? checkAccess(request, token, port, true) : ({ ok: false, status: 403, reason: 'not found' } as const);
    if (!verdict.ok) {
      socket.end(`HTTP/1.1 ${verdict.status} ${verdict.status === 401 ? 'Unauthorized' : 'Forbidden'}\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => serveSocket(ws));
  });

  function serveSocket(ws: WebSocket): void {
    sockets.add(ws);
    const unsubscribe = options.core.onEvent((event) => {
      if (ws.readyState === ws.OPEN) ws.send(encodeFrame({ jsonrpc: '2.0', method: HOST_EVENT_METHOD, params: event }));
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      void dispatchFrame(data.toString(), options.core.call, { onInternalError: (_method, error) => options.onError?.(error) }).then(
        (reply) => {
          if (reply && ws.readyState === ws.OPEN) ws.send(encodeFrame(reply));
        },
      );
    });
    ws.on('close', () => {
      unsubscribe();
      sockets.delete(ws);
    });
    ws.on('error', (error) => options.onError?.(error));
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  port = (http.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
