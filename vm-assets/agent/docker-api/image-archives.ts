// `docker save` and `docker load`: GET /images/{name}/get, GET /images/get?names=…, POST
// /images/load, over the agent's images.save and images.import (docker-archive tars, written and
// read on the machine, passed through scratch files).
import { OnggiError } from '../../../shared/errors.js';
import { badRequest, unsupported, unsupportedOption, whenNotFound } from './errors.js';
import { repoTags } from './image-names.js';
import type { Exchange, Router } from './router.js';
import { receiveFile, sendTarFile, withScratchFile } from './scratch.js';

async function save(ex: Exchange, images: string[]): Promise<void> {
  if (!images.length) throw badRequest('names is required: the images to save');
  await withScratchFile(ex.backend.deps.scratchDir, 'save.tar', async (dest) => {
    await ex.backend.call('images.save', { images, dest }).catch(whenNotFound(`No such image: ${images.join(', ')}`));
    await sendTarFile(ex.res, dest);
  });
}

async function load(ex: Exchange): Promise<void> {
  // `quiet` only hides progress bars, of which there are none.
  const loaded = await withScratchFile(ex.backend.deps.scratchDir, 'load.tar', async (path) => {
    await receiveFile(ex.req, path);
    // auto: a docker-archive, or the OCI archive newer docker clients save.
    return ex.backend.call('images.import', { path, kind: 'auto' }).catch(badArchive);
  });
  // dockerd's progress stream: a JSON message per image, the CLI prints each `stream`.
  ex.res.writeHead(200, { 'Content-Type': 'application/json' });
  for (const image of loaded) {
    const lines = image.names.length ? repoTags(image.names).map((t) => `Loaded image: ${t}`) : [`Loaded image ID: ${image.id}`];
    for (const line of lines) ex.res.write(`${JSON.stringify({ stream: `${line}\n` })}\n`);
  }
  ex.res.end();
}

/**
 * `docker import FILE NAME`: `/images/create?fromSrc=-` with the tar as the body, imported as a
 * one-layer image (images.import's rootfs kind). Answers the image id as dockerd's stream does.
 */
/** The agent says the archive's content is bad (not a tar, a layer it cannot read): the client's 400, not a 500. */
function badArchive(error: unknown): never {
  if (error instanceof OnggiError && (error.kind === 'invalid_layer' || error.kind === 'invalid_image')) throw badRequest(error.message);
  throw error;
}

export async function importRootfs(ex: Exchange): Promise<void> {
  const fromSrc = ex.query.get('fromSrc');
  if (fromSrc !== '-') throw unsupported('image import from a URL (fromSrc other than -)');
  for (const option of ['changes', 'message'])
    if (ex.query.getAll(option).some(Boolean)) throw unsupportedOption(`${option} on image import`);
  const repo = ex.query.get('repo');
  if (!repo) throw badRequest('image import needs a name (docker import FILE NAME): Onggi keeps no unnamed images');
  const tag = ex.query.get('tag');
  const name = tag ? `${repo}:${tag}` : repo;
  const [image] = await withScratchFile(ex.backend.deps.scratchDir, 'import.tar', async (path) => {
    await receiveFile(ex.req, path);
    return ex.backend.call('images.import', { path, kind: 'rootfs', name }).catch(badArchive);
  });
  ex.res.writeHead(200, { 'Content-Type': 'application/json' });
  ex.res.end(`${JSON.stringify({ status: image?.id ?? '' })}\n`);
}

export function imageArchiveRoutes(router: Router): void {
  router
    // Before `/images/{name*}/…`: `get` would otherwise read as an image called "get".
    .add('GET', '/images/get', (ex) => save(ex, ex.query.getAll('names')))
    .add('GET', '/images/{name*}/get', (ex) => save(ex, [ex.params.name ?? '']))
    .add('POST', '/images/load', load);
}
