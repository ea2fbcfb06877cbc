// A client for the OCI distribution API (Docker registry v2), on Node's fetch. It speaks just
// enough for pulling: manifests (with content negotiation) and blobs, behind anonymous or token
// auth (`WWW-Authenticate: Bearer realm,service,scope`) or Basic auth. Tokens are cached per
// repository for the client's lifetime (one pull). Redirects are followed by hand so the
// Authorization header never travels to another host (Docker Hub sends blobs to a CDN).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { OnggiError } from '../../../shared/errors.js';
import { digestHex } from './digest.js';
import { digestMismatch, networkError, registryNotFound, unauthorized } from './errors.js';
import { MANIFEST_ACCEPT } from './manifest.js';
import { parseWwwAuthenticate } from './www-authenticate.js';

export interface RegistryAuth {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /** Plain HTTP for this registry (loopback registries get it without asking, as in Docker). */
  insecure?: boolean;
  auth?: RegistryAuth;
  /** For tests: a fetch to use instead of the global one. */
  fetch?: typeof fetch;
  /** Milliseconds without progress after which a request is abandoned. */
  idleTimeoutMs?: number;
}

export interface FetchedManifest {
  bytes: Buffer;
  contentType: string | undefined;
  /** sha256 of the bytes, as we computed it. */
  digest: string;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const DOCKER_HUB = 'docker.io';

/** Loopback hosts, which Docker (and we) talk to over plain HTTP. */
export function isLoopbackRegistry(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
  return name === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '[::1]';
}

export class RegistryClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly tokens = new Map<string, string>();
  private readonly plainHttp: boolean;
  private readonly idleTimeoutMs: number;

  constructor(
    readonly registry: string,
    private readonly options: RegistryClientOptions = {},
  ) {
    this.plainHttp = options.insecure === true || isLoopbackRegistry(registry);
    const host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
    this.baseUrl = `${this.plainHttp ? 'http' : 'https'}://${host}`;
    this.fetchImpl = options.fetch ?? fetch;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  }

  /** GET a manifest by tag or digest; verifies the digest when `reference` is one. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const what = `${this.registry}/${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timed out')), this.idleTimeoutMs);
    try {
      const res = await this.request(
        repository,
        `/v2/${repository}/manifests/${reference}`,
        { accept: MANIFEST_ACCEPT },
        controller.signal,
        what,
      );
      if (res.status === 404) {
        await res.body?.cancel();
        throw registryNotFound(`${what} not found: the registry has no such repository or tag`);
      }
      if (!res.ok) throw await this.httpError(res, `fetching the manifest of ${what}`);
      const bytes = await readLimited(res, MAX_MANIFEST_BYTES, `the manifest of ${what}`);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      if (reference.startsWith('sha256:') && digest !== reference) throw digestMismatch(`the manifest of ${what}`, reference, digest);
      return { bytes, contentType: res.headers.get('content-type') ?? undefined, digest };
    } catch (error) {
      throw this.wrap(error, `fetching the manifest of ${what}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** GET a small blob (a config) into memory, verified. */
  async getBlob(repository: string, digest: string, maxBytes: number): Promise<Buffer> {
    const what = `blob ${digest} of ${this.registry}/${repository}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timed out')), this.idleTimeoutMs);
    try {
      const res = await this.request(repository, `/v2/${repository}/blobs/${digest}`, {}, controller.signal, what);
      if (res.status === 404) {
        await res.body?.cancel();
        throw registryNotFound(`${what} not found`);
      }
      if (!res.ok) throw await this.httpError(res, `fetching ${what}`);
      const bytes = await readLimited(res, maxBytes, what);
      const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      if (got !== digest) throw digestMismatch(what, digest, got);
      return bytes;
    } catch (error) {
      throw this.wrap(error, `fetching ${what}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Streams a blob into `path` while hashing it; the file exists only if the sha256 matched.
   * `onProgress` gets the bytes received so far.
   */
  async downloadBlob(repository: string, digest: string, size: number, path: string, onProgress?: (bytes: number) => void): Promise<void> {
    digestHex(digest);
    const what = `layer ${digest} of ${this.registry}/${repository}`;
    const controller = new AbortController();
    let timer = setTimeout(() => controller.abort(new Error('timed out')), this.idleTimeoutMs);
    const bump = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new Error(`no data for ${this.idleTimeoutMs / 1000} s`)), this.idleTimeoutMs);
    };
    const out = createWriteStream(path, { mode: 0o600 });
    const outDone = new Promise<void>((resolve, reject) => {
      out.once('close', resolve);
      out.once('error', reject);
    });
    try {
      const res = await this.request(repository, `/v2/${repository}/blobs/${digest}`, {}, controller.signal, what);
      if (res.status === 404) {
        await res.body?.cancel();
        throw registryNotFound(`${what} not found`);
      }
      if (!res.ok || !res.body) throw await this.httpError(res, `downloading ${what}`);
      const hash = createHash('sha256');
      let received = 0;
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        bump();
        received += chunk.byteLength;
        if (received > size) {
          controller.abort(new Error('too long'));
          throw digestMismatch(what, `${digest} (${size} bytes)`, `more than ${size} bytes`);
        }
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        onProgress?.(received);
      }
      out.end();
      await outDone;
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== digest) throw digestMismatch(what, digest, got);
      if (received !== size) throw digestMismatch(what, `${size} bytes`, `${received} bytes`);
    } catch (error) {
      out.destroy();
      // the download's own error is rethrown below; the file stream's is a consequence of it
      await outDone.catch(() => undefined);
      // the partial download is a temp file; the download's own error is rethrown below
      await unlink(path).catch(() => undefined);
      throw this.wrap(error, `downloading ${what}`);
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- the request core ----------------------------------------------------------------------

  private async request(
    repository: string,
    path: string,
    headers: Record<string, string>,
    signal: AbortSignal,
    what: string,
  ): Promise<Response> {
    let url = new URL(path, this.baseUrl);
    const origin = url.origin;
    let authTried = false;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sameOrigin = url.origin === origin;
      const authorization = sameOrigin ? this.authorizationFor(repository) : undefined;
      const res = await this.fetchImpl(url, {
        headers: { ...headers, ...(authorization ? { authorization } : {}) },
        redirect: 'manual',
        signal,
      });
      if (res.status === 401 && sameOrigin) {
        const challenge = res.headers.get('www-authenticate');
        await res.body?.cancel();
        if (authTried || !challenge) {
          throw unauthorized(
            `${this.registry} refused access to ${what}${this.options.auth ? ' with the credentials given' : ' (the repository may be private: give credentials)'}`,
          );
        }
        authTried = true;
        await this.authenticate(repository, challenge, signal, what);
        hop--; // the retry is not a redirect
        continue;
      }
      if ([301, 302, 303, 307, 308].includes(res.status)) {
        const location = res.headers.get('location');
        await res.body?.cancel();
        if (!location) throw networkError(`${this.registry} redirected ${what} without a location`);
        const next = new URL(location, url);
        if (next.protocol !== 'https:' && !(next.protocol === 'http:' && this.plainHttp)) {
          throw networkError(`${this.registry} redirected ${what} to ${next.protocol}// which is not allowed for this registry`);
        }
        url = next;
        continue;
      }
      return res;
    }
    throw networkError(`${this.registry} redirected ${what} more than ${MAX_REDIRECTS} times`);
  }

  private authorizationFor(repository: string): string | undefined {
    const token = this.tokens.get(repository);
    if (token !== undefined) return token;
    return undefined;
  }

  private basic(): string | undefined {
    const auth = this.options.auth;
    return auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : undefined;
  }

  private async authenticate(repository: string, header: string, signal: AbortSignal, what: string): Promise<void> {
    const challenges = parseWwwAuthenticate(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      const realm = bearer.params.realm;
      if (!realm) throw unauthorized(`${this.registry} asked for a token without saying where to get one`);
      let realmUrl: URL;
      try {
        realmUrl = new URL(realm);
      } catch {
        throw unauthorized(`${this.registry} named an invalid token realm "${realm}"`);
      }
      if (realmUrl.protocol !== 'https:' && !(realmUrl.protocol === 'http:' && this.plainHttp)) {
        throw unauthorized(`${this.registry} named a token realm over ${realmUrl.protocol}//, which is not allowed for this registry`);
      }
      if (bearer.params.service) realmUrl.searchParams.set('service', bearer.params.service);
      const scope = bearer.params.scope ?? `repository:${repository}:pull`;
      for (const s of scope.split(' ')) if (s) realmUrl.searchParams.append('scope', s);
      const basic = this.basic();
      const res = await this.fetchImpl(realmUrl, { headers: basic ? { authorization: basic } : {}, redirect: 'follow', signal });
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw unauthorized(
          `the token service of ${this.registry} refused ${this.options.auth ? 'the credentials given' : 'an anonymous token'} for ${what}`,
        );
      }
      if (!res.ok) throw await this.httpError(res, `getting a token for ${what}`);
      // a token response that is not JSON has no token: the missing token is reported below
      const body = (await res.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
      const token =
        typeof body.token === 'string' && body.token ? body.token : typeof body.access_token === 'string' ? body.access_token : '';
      if (!token) throw unauthorized(`the token service of ${this.registry} answered without a token`);
      this.tokens.set(repository, `Bearer ${token}`);
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const basic = this.basic();
      if (!basic) throw unauthorized(`${this.registry} requires a username and password for ${what}`);
      this.tokens.set(repository, basic);
      return;
    }
    throw unauthorized(`${this.registry} asked for an authentication scheme this agent does not speak: ${header}`);
  }

  private async httpError(res: Response, doing: string): Promise<OnggiError> {
    // the body only adds detail to the HTTP error being built
    const text = await res.text().catch(() => '');
    let detail: string;
    try {
      const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
      detail = (body.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    } catch {
      detail = text.slice(0, 200);
    }
    const message = `${doing}: ${this.registry} answered HTTP ${res.status}${detail ? ` (${detail})` : ''}`;
    if (res.status === 401 || res.status === 403) return unauthorized(message);
    if (res.status === 404) return registryNotFound(message);
    return networkError(message);
  }

  private wrap(error: unknown, doing: string): unknown {
    if (error instanceof OnggiError) return error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
    return networkError(`${doing}: cannot reach ${this.baseUrl}: ${detail}`);
  }
}

async function readLimited(res: Response, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > limit) {
    await res.body?.cancel();
    throw networkError(`${what} is ${declared} bytes, more than the ${limit} allowed`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (res.body) {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength;
      if (total > limit) throw networkError(`${what} is more than the ${limit} bytes allowed`);
      chunks.push(Buffer.from(chunk));
    }
  }
  return Buffer.concat(chunks);
}
