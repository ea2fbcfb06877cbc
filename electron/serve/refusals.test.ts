// Browser mode under attack: what a hostile page (or a local process without the token) can send
// at 127.0.0.1. serve.test.ts covers the plain cases; here, exact bytes over a raw socket (no
// Host at all, odd Host spellings, Origin "null", the token in a cookie from a foreign page, the
// WebSocket on other paths) and a property test of the access rule over generated headers.
import type { IncomingMessage } from 'node:http';
import { createConnection } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServeSandbox, type ServeSandbox } from '../../build/testing/serve-sandbox.js';
import type { RunningServe } from './serve.js';
import { checkAccess } from './access.js';

let lab: ServeSandbox | undefined;
let serve: RunningServe;

beforeAll(async () => {
  lab = await startServeSandbox();
  serve = lab.serve;
});
afterAll(async () => {
  await lab?.close();
});

/** Sends exactly these request bytes and returns the status code of the answer. */
function raw(lines: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(serve.port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    const status = () => Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);
    socket.on('data', (d: string) => {
      answer += d;
      if (status()) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(status()));
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

const upgrade = (path: string, headers: string[]) => [
  `GET ${path} HTTP/1.1`,
  'Connection: Upgrade',
  'Upgrade: websocket',
  'Sec-WebSocket-Version: 13',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  ...headers,
];

describe('browser mode refusals over the wire', () => {
  it('refuses requests without a Host, or with a Host that only looks like ours', async () => {
    const t = serve.token;
    const p = serve.port;
    expect(await raw([`GET /?token=${t} HTTP/1.0`])).toBe(403); // no Host at all
    for (const host of [
      `127.0.0.1:${p}.evil.example`,
      `evil.example`,
      `127.0.0.1`, // our address, another port (80)
      `127.0.0.1:${p + 1}`,
      `localhost.:${p}`,
      `[::1]:${p}`,
      `0.0.0.0:${p}`,
      `127.0.0.2:${p}`,
      `2130706433:${p}`,
      `127.0.0.1:0${p}`,
    ])
      expect(await raw([`GET /?token=${t} HTTP/1.1`, `Host: ${host}`]), host).toBe(403);
    expect(await raw([`GET /?token=${t} HTTP/1.1`, `Host: 127.0.0.1:${p}`])).toBe(200);
  });

  it('refuses the token from a foreign page: Origin null, a look-alike Origin, or the cookie sent cross-site', async () => {
    const t = serve.token;
    const p = serve.port;
    const host = `Host: 127.0.0.1:${p}`;
    for (const origin of ['null', `http://127.0.0.1:${p}.evil.example`, `https://127.0.0.1:${p}`, `http://127.0.0.1:${p}/`, 'file://', ''])
      expect(await raw([`GET /?token=${t} HTTP/1.1`, host, `Origin: ${origin}`]), origin).toBe(403);
    // The page's own cookie, carried by a request a foreign page made.
    expect(await raw([`GET / HTTP/1.1`, host, `Cookie: onggi_token=${t}`, 'Origin: http://evil.example'])).toBe(403);
    expect(await raw([`GET / HTTP/1.1`, host, `Cookie: onggi_token=${t}`])).toBe(200);
    // With the token, state-changing verbs are still not served.
    expect(await raw([`POST /?token=${t} HTTP/1.1`, host, 'Content-Length: 0'])).toBe(405);
  });

  it('upgrades to the API socket only on /api with token, our Host and our Origin', async () => {
    const t = serve.token;
    const p = serve.port;
    const ours = [`Host: 127.0.0.1:${p}`, `Origin: http://127.0.0.1:${p}`];
    expect(await raw(upgrade(`/api?token=${t}`, ours))).toBe(101);
    expect(await raw(upgrade(`/api?token=${t}`, [`Host: 127.0.0.1:${p}`]))).toBe(403); // no Origin
    expect(await raw(upgrade(`/api?token=${t}`, [`Host: 127.0.0.1:${p}`, 'Origin: null']))).toBe(403);
    expect(await raw(upgrade(`/api?token=${t}`, [`Host: rebound.example:${p}`, `Origin: http://rebound.example:${p}`]))).toBe(403);
    expect(await raw(upgrade(`/api`, [...ours, `Cookie: onggi_token=${t.slice(0, -1)}`]))).toBe(401);
    expect(await raw(upgrade(`/api?token=`, ours))).toBe(401);
    expect(await raw(upgrade(`/api?token=${t}&token=x`, ours))).toBe(101); // the first one counts, as URLSearchParams reads it
    expect(await raw(upgrade(`/api?token=x&token=${t}`, ours))).toBe(401);
    for (const path of [`/?token=${t}`, `/api/?token=${t}`, `/API?token=${t}`, `//api?token=${t}`])
      expect(await raw(upgrade(path, ours)), path).not.toBe(101);
  });
});

describe('the access rule (property)', () => {
  const PORT = 41234;
  const TOKEN = 'A'.repeat(43);
  const request = (headers: Record<string, string>, url: string) => ({ headers, url }) as unknown as IncomingMessage;

  it('grants access only to our Host, our Origin (or none, off the socket) and our exact token', () => {
    const hosts = fc.oneof(
      fc.string(),
      fc.constantFrom(`127.0.0.1:${PORT}`, `localhost:${PORT}`, `LOCALHOST:${PORT}`, `127.0.0.1:${PORT}x`),
    );
    const origins = fc.option(
      fc.oneof(fc.string(), fc.constantFrom(`http://127.0.0.1:${PORT}`, `http://localhost:${PORT}`, 'null', `http://127.0.0.1:${PORT}/`)),
    );
    const tokens = fc.oneof(
      fc.string(),
      fc.constant(TOKEN),
      fc.string().map((s) => TOKEN + s),
      fc.constant(TOKEN.slice(1)),
    );
    fc.assert(
      fc.property(hosts, origins, tokens, fc.boolean(), (host, origin, token, needOrigin) => {
        const headers: Record<string, string> = { host };
        if (origin !== null) headers.origin = origin;
        const verdict = checkAccess(request(headers, `/?token=${encodeURIComponent(token)}`), TOKEN, PORT, needOrigin);
        const hostOk = host === `127.0.0.1:${PORT}` || host === `localhost:${PORT}`;
        const originOk = origin === null ? !needOrigin : origin === `http://127.0.0.1:${PORT}` || origin === `http://localhost:${PORT}`;
        expect(verdict.ok).toBe(hostOk && originOk && token === TOKEN);
        if (!verdict.ok) expect(verdict.status).toBe(hostOk && originOk ? 401 : 403);
      }),
      { numRuns: 2000, seed: 6 },
    );
  });
});
