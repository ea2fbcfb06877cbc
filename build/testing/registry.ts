// A real OCI distribution registry on 127.0.0.1 for tests: Debian's `docker-registry` with a
// config of our own (no auth, storage in a temp dir), plus a small in-process HTTP proxy that can
// put token auth in front of it, count requests, tamper with blobs or redirect them to another
// host — the things a real registry (Docker Hub) does that the local one does not.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRegistry {
  /** `127.0.0.1:PORT`, as an image reference's registry part. */
  host: string;
  /** The registry's storage root (docker/registry/v2/...), for tests that corrupt blobs on purpose. */
  storageDir: string;
  pid: number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1: bind port 0, read what the kernel gave, close. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls `probe` until it returns true, at most `attempts` times, `intervalMs` apart. */
export async function waitFor(probe: () => Promise<boolean>, what: string, attempts = 100, intervalMs = 50): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function startRegistry(): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'onggi-registry-'));
  const storageDir = join(dir, 'storage');
  const config = join(dir, 'config.yml');
  let lastError: unknown;
  // A port found free can be taken by someone else before the registry binds it: retry a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    await writeFile(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: error',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${storageDir}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: ${host}`,
        '',
      ].join('\n'),
    );
    const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    let exited = false;
    child.once('exit', () => (exited = true));
    try {
      await waitFor(async () => {
        if (exited) throw new Error(`docker-registry exited: ${stderr}`);
        const res = await fetch(`http://${host}/v2/`);
        await res.body?.cancel();
        return res.status === 200;
      }, `docker-registry on ${host}`);
      const pid = child.pid;
      if (pid === undefined) throw new Error('docker-registry has no pid');
      return {
        host,
        storageDir,
        pid,
        stop: async () => {
          await stopChild(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
      await stopChild(child);
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, 3000);
  await exited;
  clearTimeout(timer);
}

// ---- a proxy in front of the registry ----------------------------------------------------------

export interface ProxyOptions {
  /** Require `Authorization: Bearer` tokens issued by the proxy's own /token realm. */
  tokenAuth?: { username?: string; password?: string };
  /** Require `Authorization: Basic` with these credentials. */
  basicAuth?: { username: string; password: string };
  /** Flip one byte in the body of blobs whose digest is listed. */
  tamperBlobs?: Set<string>;
  /** Answer blob GETs with a 307 to this other host (e.g. `localhost:PORT` of a second proxy). */
  redirectBlobsTo?: string;
  /**
   * Send the first half of this blob, call `onHeld`, and the rest only once `release` resolves:
   * a pull caught in the middle of a layer for as long as the test wants.
   */
  holdBlob?: { digest: string; onHeld: () => void; release: Promise<void> };
}

export interface ProxiedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  status: number;
}

export interface RegistryProxy {
  host: string;
  requests: ProxiedRequest[];
  /** Token requests seen at the realm: their query and Authorization header. */
  tokenRequests: Array<{ query: string; authorization: string | undefined }>;
  options: ProxyOptions;
  stop(): Promise<void>;
}

/** An HTTP proxy in front of `upstream` (host:port) listening on `listenHost` (127.0.0.1 or localhost). */
export async function startRegistryProxy(upstream: string, options: ProxyOptions = {}, listenName = '127.0.0.1'): Promise<RegistryProxy> {
  const requests: ProxiedRequest[] = [];
  const tokenRequests: RegistryProxy['tokenRequests'] = [];
  const tokens = new Set<string>();
  let selfHost = '';

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', `http://${selfHost}`);
    const authorization = req.headers.authorization;
    const log = (status: number): void => {
      requests.push({ method: req.method ?? 'GET', path: url.pathname, authorization, status });
    };
    if (url.pathname === '/token') {
      tokenRequests.push({ query: url.search, authorization });
      const wanted = options.tokenAuth;
      if (wanted?.username !== undefined) {
        const expected = `Basic ${Buffer.from(`${wanted.username}:${wanted.password ?? ''}`).toString('base64')}`;
        if (authorization !== expected) {
          log(401);
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
          return;
        }
      }
      const token = randomBytes(16).toString('hex');
      tokens.add(token);
      log(200);
      // Docker Hub answers with both fields; some realms send only access_token.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: token, expires_in: 300 }));
      return;
    }
    if (url.pathname.startsWith('/v2')) {
      if (options.tokenAuth) {
        const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
        if (token === undefined || !tokens.has(token)) {
          const repo = /^\/v2\/(.+)\/(?:manifests|blobs|tags)\//.exec(url.pathname)?.[1];
          const scope = repo ? `,scope="repository:${repo}:pull"` : '';
          log(401);
          res
            .writeHead(401, {
              'content-type': 'application/json',
              'www-authenticate': `Bearer realm="http://${selfHost}/token",service="onggi-test"${scope}`,
            })
            .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
          return;
        }
      }
      if (options.basicAuth) {
        const expected = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`;
        if (authorization !== expected) {
          log(401);
          res
            .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="onggi-test"' })
            .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
          return;
        }
      }
      const blob = /^\/v2\/.+\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
      if (blob && options.redirectBlobsTo && req.method === 'GET') {
        log(307);
        res.writeHead(307, { location: `http://${options.redirectBlobsTo}${url.pathname}?signed=1` }).end();
        return;
      }
      const tamper = blob?.[1] !== undefined && options.tamperBlobs?.has(blob[1]) === true;
      const hold = blob?.[1] !== undefined && options.holdBlob?.digest === blob[1] && req.method === 'GET' ? options.holdBlob : undefined;
      forward(req, res, url, { tamper, hold }, log);
      return;
    }
    log(404);
    res.writeHead(404).end();
  };

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    { tamper, hold }: { tamper: boolean; hold: ProxyOptions['holdBlob'] },
    log: (status: number) => void,
  ): void => {
    const [hostname, port] = upstream.split(':');
    const headers = { ...req.headers, host: upstream };
    delete headers.authorization;
    const upstreamReq = httpRequest(
      { hostname, port: Number(port), method: req.method, path: url.pathname + url.search, headers },
      (up) => {
        log(up.statusCode ?? 502);
        const outHeaders = { ...up.headers };
        if (!tamper && !hold) {
          res.writeHead(up.statusCode ?? 502, outHeaders);
          up.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        up.on('data', (d: Buffer) => chunks.push(d));
        up.on('end', () => {
          const body = Buffer.concat(chunks);
          if (tamper && body.length > 0) body[body.length >> 1] = (body[body.length >> 1] ?? 0) ^ 0xff;
          if (!hold) {
            res.writeHead(up.statusCode ?? 502, outHeaders).end(body);
            return;
          }
          res.writeHead(up.statusCode ?? 502, outHeaders);
          res.write(body.subarray(0, body.length >> 1));
          hold.onHeld();
          void hold.release.then(() => res.end(body.subarray(body.length >> 1)));
        });
      },
    );
    upstreamReq.on('error', () => {
      log(502);
      res.writeHead(502).end();
    });
    req.pipe(upstreamReq);
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  selfHost = `${listenName}:${address.port}`;
  return {
    host: selfHost,
    requests,
    tokenRequests,
    options,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The path of a blob's data file inside the registry's storage dir (to corrupt it on purpose). */
export function registryBlobPath(storageDir: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  return join(storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

// ---- pushing hand-made images ------------------------------------------------------------------

async function pushBlob(host: string, repo: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256Digest(data);
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.body?.cancel();
  const location = start.headers.get('location');
  if (start.status !== 202 || !location) throw new Error(`starting an upload to ${host}/${repo} failed: HTTP ${start.status}`);
  const url = new URL(location, `http://${host}`);
  url.searchParams.set('digest', digest);
  const put = await fetch(url, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
  await put.body?.cancel();
  if (put.status !== 201) throw new Error(`uploading ${digest} failed: HTTP ${put.status}`);
  return { digest, size: data.length };
}

export interface HandMadeImage {
  /** Layer blobs as they will be served (gzip or plain tar), bottom first. */
  layers: Buffer[];
  /** The uncompressed digests the config will claim (default: sha256 of each layer as given, right for plain tars). */
  diffIds?: string[];
  /** Extra or overriding config fields. */
  config?: Record<string, unknown>;
  layerMediaType?: string;
}

/** Pushes an image made of the given blobs through the registry API; returns its manifest digest and config digest. */
export async function pushImage(
  host: string,
  repo: string,
  tag: string,
  image: HandMadeImage,
): Promise<{ manifestDigest: string; configDigest: string }> {
  const layers = [];
  for (const layer of image.layers)
    layers.push({ mediaType: image.layerMediaType ?? 'application/vnd.oci.image.layer.v1.tar', ...(await pushBlob(host, repo, layer)) });
  const config = {
    architecture: ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch,
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: image.diffIds ?? image.layers.map((l) => sha256Digest(l)) },
    ...image.config,
  };
  const configBlob = await pushBlob(host, repo, Buffer.from(JSON.stringify(config)));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
      layers,
    }),
  );
  const put = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  const text = await put.text();
  if (put.status !== 201) throw new Error(`pushing the manifest of ${repo}:${tag} failed: HTTP ${put.status} ${text}`);
  return { manifestDigest: sha256Digest(manifest), configDigest: configBlob.digest };
}
