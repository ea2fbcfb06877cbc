// /images/*: list, pull (`/images/create?fromImage=`, its progress as Docker's JSON stream),
// inspect, tag, remove and prune, over the agent's image store.
import { randomBytes } from 'node:crypto';
import type { AgentEvent } from '../../../shared/agent-rpc.js';
import { ImageRefError, parseImageRef } from '../../../shared/image-ref.js';
import type { ImageDetail, ImageSummary } from '../../../shared/images.js';
import { badRequest, toDockerError, unsupported, whenNotFound } from './errors.js';
import { checkFilterKeys, labelsMatch, queryBool, queryFilters, sendJson, unixSeconds } from './http-io.js';
import { importRootfs } from './image-archives.js';
import { repoTags } from './image-names.js';
import type { Exchange, Router } from './router.js';

function listEntry(image: ImageSummary, containers: number) {
  return {
    Id: image.id,
    ParentId: '',
    RepoTags: image.names.length ? repoTags(image.names) : ['<none>:<none>'],
    RepoDigests: image.manifestDigest ? image.names.map((n) => `${repoTags([n])[0]?.replace(/:[^:/]+$/, '')}@${image.manifestDigest}`) : [],
    Created: unixSeconds(image.created),
    Size: image.size,
    SharedSize: -1,
    VirtualSize: image.size,
    Labels: {},
    Containers: containers,
  };
}

function inspectDocument(image: ImageDetail) {
  const config = image.config;
  return {
    Id: image.id,
    RepoTags: repoTags(image.names),
    RepoDigests: image.manifestDigest ? repoTags(image.names).map((n) => `${n.replace(/:[^:/]+$/, '')}@${image.manifestDigest}`) : [],
    Parent: '',
    Comment: '',
    Created: image.created ?? '1970-01-01T00:00:00Z',
    Container: '',
    DockerVersion: '',
    Author: '',
    Config: {
      Env: config.env,
      Cmd: config.cmd,
      Entrypoint: config.entrypoint,
      WorkingDir: config.workingDir,
      User: config.user,
      Labels: config.labels,
      ExposedPorts: Object.fromEntries(config.exposedPorts.map((p) => [p, {}])),
      Volumes: config.volumes?.length ? Object.fromEntries(config.volumes.map((v) => [v, {}])) : null,
      StopSignal: config.stopSignal ?? '',
      ...(config.healthcheck ? { Healthcheck: { Test: config.healthcheck.test ?? [] } } : {}),
    },
    Architecture: image.architecture,
    Os: image.os,
    Size: image.size,
    VirtualSize: image.size,
    GraphDriver: { Name: 'overlay2', Data: { LowerDir: image.layerDetails.map((l) => l.dir).join(':') } },
    RootFS: { Type: 'layers', Layers: image.layerDetails.map((l) => l.diffId) },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

/** Docker treats 127.0.0.0/8 and localhost registries as insecure by default; so do we. */
function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `X-Registry-Auth`: base64url JSON with username and password (an empty one means anonymous). */
function registryAuth(header: string | string[] | undefined): { username: string; password: string } | undefined {
  if (typeof header !== 'string' || header === '') return undefined;
  try {
    const decoded = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { username?: unknown; password?: unknown };
    if (typeof decoded.username === 'string' && decoded.username && typeof decoded.password === 'string')
      return { username: decoded.username, password: decoded.password };
  } catch {
    throw badRequest('X-Registry-Auth is not base64 JSON');
  }
  return undefined;
}

const STATUS_WORDS: Record<string, string> = {
  resolving: 'Resolving',
  waiting: 'Waiting',
  downloading: 'Downloading',
  verifying: 'Verifying Checksum',
  extracting: 'Extracting',
  exists: 'Already exists',
  done: 'Pull complete',
};

async function pull(ex: Exchange): Promise<void> {
  if (ex.query.has('fromSrc')) return importRootfs(ex);
  const fromImage = ex.query.get('fromImage');
  if (!fromImage) throw badRequest('fromImage is required');
  const tag = ex.query.get('tag');
  const text = tag ? (tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`) : fromImage;
  let registry: string;
  try {
    registry = parseImageRef(text).registry;
  } catch (error) {
    throw badRequest(`invalid reference format: ${error instanceof ImageRefError ? error.message : text}`);
  }
  const platform = ex.query.get('platform') || undefined;
  const progressId = `docker-pull-${randomBytes(6).toString('hex')}`;
  const res = ex.res;
  // Headers wait for the first progress: a pull that fails at once gets a real status (404, 401).
  const line = (body: unknown): void => {
    if (!res.headersSent) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
    }
    res.write(`${JSON.stringify(body)}\n`);
  };
  const listener = (event: AgentEvent): void => {
    if (event.type !== 'pull.progress' || event.progressId !== progressId) return;
    const id = event.layer ? event.layer.slice(7, 19) : (tag ?? 'latest');
    line({
      status: STATUS_WORDS[event.status] ?? event.status,
      id,
      ...(event.total ? { progressDetail: { current: event.current, total: event.total } } : { progressDetail: {} }),
    });
  };
  ex.backend.events.subscribe(listener, ['pull.progress']);
  try {
    const auth = registryAuth(ex.req.headers['x-registry-auth']);
    const image = await ex.backend.call('images.pull', {
      ref: text,
      progressId,
      ...(isLoopbackRegistry(registry) ? { insecure: true } : {}),
      ...(auth ? { auth } : {}),
      ...(platform ? { platform } : {}),
    });
    if (image.manifestDigest) line({ status: `Digest: ${image.manifestDigest}` });
    line({ status: `Status: Downloaded newer image for ${repoTags([text])[0] ?? text}` });
    res.end();
  } catch (error) {
    if (!res.headersSent) throw error;
    const message = toDockerError(error).message;
    line({ errorDetail: { message }, error: message });
    res.end();
  } finally {
    ex.backend.events.unsubscribe(listener);
  }
}

export function imageRoutes(router: Router): void {
  router
    .add('GET', '/images/json', async (ex) => {
      const filters = queryFilters(ex.query);
      checkFilterKeys(filters, ['reference', 'dangling', 'label']);
      const [images, containers] = await Promise.all([
        ex.backend.call('images.list', undefined),
        ex.backend.call('containers.list', { all: true }),
      ]);
      const details = filters.label ? await Promise.all(images.map((i) => ex.backend.call('images.inspect', { image: i.id }))) : [];
      const list = images.filter((image, index) => {
        const tags = repoTags(image.names);
        return (
          (!filters.reference || filters.reference.some((ref) => tags.some((t) => t === ref || t.startsWith(`${ref}:`)))) &&
          (!filters.dangling || filters.dangling.includes(String(image.names.length === 0))) &&
          (!filters.label || labelsMatch(filters.label, details[index]?.config.labels ?? {}))
        );
      });
      sendJson(
        ex.res,
        200,
        list.map((image) => listEntry(image, containers.filter((c) => c.imageId === image.id).length)),
      );
    })
    .add('POST', '/images/create', pull)
    .add('POST', '/build', () => {
      throw unsupported('POST /build (image builds)');
    })
    .add('POST', '/images/prune', async (ex) => {
      const filters = queryFilters(ex.query);
      checkFilterKeys(filters, ['dangling']);
      const all = filters.dangling?.includes('false') ?? false;
      const pruned = await ex.backend.call('images.prune', { all });
      sendJson(ex.res, 200, { ImagesDeleted: pruned.images.map((i) => ({ Deleted: i.id })), SpaceReclaimed: pruned.reclaimed });
    })
    .add('GET', '/images/{name*}/json', async (ex) => {
      const name = ex.params.name ?? '';
      sendJson(
        ex.res,
        200,
        inspectDocument(await ex.backend.call('images.inspect', { image: name }).catch(whenNotFound(`No such image: ${name}`))),
      );
    })
    .add('GET', '/images/{name*}/history', () => {
      throw unsupported('GET /images/{name}/history');
    })
    .add('POST', '/images/{name*}/push', () => {
      throw unsupported('POST /images/{name}/push');
    })
    .add('POST', '/images/{name*}/tag', async (ex) => {
      const name = ex.params.name ?? '';
      const repo = ex.query.get('repo');
      if (!repo) throw badRequest('repo is required');
      const tag = ex.query.get('tag') || 'latest';
      await ex.backend.call('images.tag', { image: name, name: `${repo}:${tag}` }).catch(whenNotFound(`No such image: ${name}`));
      ex.res.writeHead(201).end();
    })
    .add('DELETE', '/images/{name*}', async (ex) => {
      const name = ex.params.name ?? '';
      if (queryBool(ex.query, 'noprune')) throw badRequest('noprune is not supported by Onggi');
      const removed = await ex.backend
        .call('images.remove', { image: name, force: queryBool(ex.query, 'force') })
        .catch(whenNotFound(`No such image: ${name}`));
      sendJson(ex.res, 200, [
        ...removed.untagged.map((u) => ({ Untagged: repoTags([u])[0] ?? u })),
        ...removed.deleted.map((d) => ({ Deleted: d })),
      ]);
    });
}
