// `docker save` and `docker load`: GET /images/{name}/get, GET /images/get?names=…, POST
// /images/load, over the agent's images.save and images.import (docker-archive tars, written and
// read on the machine, passed through scratch files).
import { badRequest, whenNotFound } from './errors.js';
import { repoTags } from './images.js';
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
    return ex.backend.call('images.import', { path, kind: 'docker-archive' });
  });
  // dockerd's progress stream: a JSON message per image, the CLI prints each `stream`.
  ex.res.writeHead(200, { 'Content-Type': 'application/json' });
  for (const image of loaded) {
    const lines = image.names.length ? repoTags(image.names).map((t) => `Loaded image: ${t}`) : [`Loaded image ID: ${image.id}`];
    for (const line of lines) ex.res.write(`${JSON.stringify({ stream: `${line}\n` })}\n`);
  }
  ex.res.end();
}

export function imageArchiveRoutes(router: Router): void {
  router
    // Before `/images/{name*}/…`: `get` would otherwise read as an image called "get".
    .add('GET', '/images/get', (ex) => save(ex, ex.query.getAll('names')))
    .add('GET', '/images/{name*}/get', (ex) => save(ex, [ex.params.name ?? '']))
    .add('POST', '/images/load', load);
}
