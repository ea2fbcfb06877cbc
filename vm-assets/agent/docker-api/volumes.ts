// /volumes/*: named and anonymous volumes under the agent's state root (driver `local`).
import { DockerVolumeCreate } from '../../../shared/docker-api.js';
import type { VolumeSummary } from '../../../shared/volumes.js';
import { OnggiError } from '../../../shared/errors.js';
import { unsupportedOption, whenNotFound } from './errors.js';
import { checkFilterKeys, labelsMatch, parseJson, queryBool, queryFilters, sendJson } from './http-io.js';
import type { Router } from './router.js';

function document(v: VolumeSummary) {
  return {
    Name: v.name,
    Driver: 'local',
    Mountpoint: v.mountpoint,
    CreatedAt: v.createdAt,
    Labels: v.labels,
    Scope: 'local',
    Options: null,
    ...(v.size === undefined ? {} : { UsageData: { Size: v.size, RefCount: v.containers.length } }),
  };
}

export function volumeRoutes(router: Router): void {
  router
    .add('GET', '/volumes', async (ex) => {
      const filters = queryFilters(ex.query);
      checkFilterKeys(filters, ['name', 'label', 'dangling']);
      const list = (await ex.backend.call('volumes.list', {})).filter(
        (v) =>
          (!filters.name || filters.name.some((n) => v.name.includes(n))) &&
          labelsMatch(filters.label, v.labels) &&
          (!filters.dangling || filters.dangling.includes(String(v.containers.length === 0))),
      );
      sendJson(ex.res, 200, { Volumes: list.map(document), Warnings: [] });
    })
    .add('POST', '/volumes/create', async (ex) => {
      const body = parseJson(DockerVolumeCreate, await ex.body());
      if (body.Driver && body.Driver !== 'local') throw unsupportedOption(`volume driver ${body.Driver}`, 'only local volumes');
      if (body.DriverOpts && Object.keys(body.DriverOpts).length) throw unsupportedOption('volume DriverOpts');
      const volume = await ex.backend.call('volumes.create', {
        ...(body.Name ? { name: body.Name } : {}),
        ...(body.Labels && Object.keys(body.Labels).length ? { labels: body.Labels } : {}),
      });
      sendJson(ex.res, 201, document(volume));
    })
    .add('POST', '/volumes/prune', async (ex) => {
      const filters = queryFilters(ex.query);
      checkFilterKeys(filters, ['all']);
      const all = filters.all?.some((v) => v === 'true' || v === '1') ?? false;
      const pruned = await ex.backend.call('volumes.prune', { all });
      sendJson(ex.res, 200, { VolumesDeleted: pruned.volumes, SpaceReclaimed: pruned.reclaimed });
    })
    .add('GET', '/volumes/{name}', async (ex) => {
      const name = ex.params.name ?? '';
      sendJson(
        ex.res,
        200,
        document(await ex.backend.call('volumes.inspect', { volume: name }).catch(whenNotFound(`get ${name}: no such volume`))),
      );
    })
    .add('DELETE', '/volumes/{name}', async (ex) => {
      const name = ex.params.name ?? '';
      if (queryBool(ex.query, 'force')) {
        // force only means "no error when it is missing" in Docker; a used volume is still refused.
        await ex.backend.call('volumes.remove', { volume: name }).catch((error: unknown) => {
          if (!(error instanceof OnggiError && error.kind === 'not_found')) throw error;
        });
      } else await ex.backend.call('volumes.remove', { volume: name }).catch(whenNotFound(`get ${name}: no such volume`));
      ex.res.writeHead(204).end();
    });
}
