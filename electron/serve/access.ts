// Who may talk to browser mode. The server listens on loopback only, yet any web page the user
// visits can aim requests at 127.0.0.1, and DNS rebinding can make such a page same-origin with
// us. So every request needs: our Host header (not a rebound name), our token, and, for the
// WebSocket, our Origin.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'onggi_token';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sameToken(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The Host header values a browser sends when it really loaded us from loopback. */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
}

export function allowedOrigins(port: number): Set<string> {
  return new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
}

export function tokenFromRequest(request: IncomingMessage): string | undefined {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const fromQuery = url.searchParams.get('token');
  if (fromQuery) return fromQuery;
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return value.join('=');
  }
  return undefined;
}

export type AccessVerdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

export function checkAccess(request: IncomingMessage, token: string, port: number, needOrigin: boolean): AccessVerdict {
  if (!allowedHosts(port).has(request.headers.host ?? '')) return { ok: false, status: 403, reason: 'unexpected Host header' };
  if (needOrigin && !allowedOrigins(port).has(request.headers.origin ?? '')) return { ok: false, status: 403, reason: 'foreign Origin' };
  // A browser sends Origin on cross-origin fetches too; refuse those even with a token.
  const origin = request.headers.origin;
  if (origin !== undefined && !allowedOrigins(port).has(origin)) return { ok: false, status: 403, reason: 'foreign Origin' };
  if (!sameToken(token, tokenFromRequest(request))) return { ok: false, status: 401, reason: 'missing or wrong token' };
  return { ok: true };
}
