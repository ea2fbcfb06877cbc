import { createServer } from 'node:net';
// /containers/*: create, start, stop, kill, wait, list, inspect, remove, logs, attach, resize,
// pause/unpause, rename and top, each a call to the agent's container handlers.
import { DockerContainerCreate } from '../../../shared/docker-api.js';
import type { AgentEvent } from '../../../shared/agent-rpc.js';
import type { ContainerSummary } from '../../../shared/containers.js';
import { OnggiError } from '../../../shared/errors.js';
import { Attachments } from './attach.js';
import { containerSpecFrom } from './container-spec.js';
import { dockerNetworkName, inspectDocument, listEntry, dockerState, type DefaultNetwork } from './container-view.js';
import { DockerError, badRequest, notFound, whenNotFound } from './errors.js';
import { checkFilterKeys, labelsMatch, parseJson, queryBool, queryFilters, queryInt, sendJson } from './http-io.js';
import { streamLogs } from './logs.js';
import type { Exchange, Router } from './router.js';

const LIST_FILTERS = ['label', 'name', 'status', 'id', 'ancestor', 'network', 'exited'];

function matches(c: ContainerSummary, filters: Record<string, string[]>, networks: string[]): boolean {
  const any = (key: string, test: (value: string) => boolean) => !filters[key] || filters[key].some(test);
  return (
    labelsMatch(filters.label, c.labels ?? {}) &&
    // Docker's name filter is a regular expression over the name; a plain substring is what clients send.
    any('name', (n) => c.name.includes(n.replace(/^\//, ''))) &&
    any('status', (s) => s === dockerState(c.state, c.paused)) &&
    any('id', (id) => c.id.startsWith(id)) &&
    any('ancestor', (image) => c.image === image || c.imageId === image || c.image.startsWith(`${image}:`)) &&
    any('network', (n) => networks.includes(n)) &&
    any('exited', (code) => c.state === 'exited' && String(c.exitCode) === code)
  );
}

export function containerRoutes(router: Router): void {
  let attachments: Attachments | undefined;
  const attachmentsOf = (ex: Exchange) => (attachments ??= new Attachments(ex.backend));
  const id = (ex: Exchange) => ex.params.id ?? '';

  router
    .add('POST', '/containers/create', async (ex) => {
      const body = parseJson(DockerContainerCreate, await ex.body());
      const name = ex.query.get('name') ?? undefined;
      if (ex.query.get('platform'))
        throw badRequest('the platform query parameter is not supported by Onggi (pull the platform you want first)');
      const created = await ex.backend
        .call('containers.create', await containerSpecFrom(body, name?.replace(/^\//, '') || undefined, freeTcpPort))
        .catch((error: unknown) => {
          // Docker's words for a missing image: the CLI reads the 404 and pulls.
          if (error instanceof OnggiError && error.kind === 'not_found' && error.field === 'params.image')
            throw notFound(`No such image: ${body.Image}`);
          throw error;
        });
      sendJson(ex.res, 201, { Id: created.id, Warnings: [] });
    })
    .add('GET', '/containers/json', async (ex) => {
      const filters = queryFilters(ex.query);
      checkFilterKeys(filters, LIST_FILTERS);
      const all = queryBool(ex.query, 'all') || Boolean(filters.status?.some((s) => s !== 'running')) || Boolean(filters.exited);
      let list = await ex.backend.call('containers.list', { all });
      const details = new Map((await Promise.all(list.map((c) => networksOf(ex, c.id)))).map((n, i) => [list[i]?.id, n]));
      const defaultNetwork = await defaultNetworkOf(ex);
      list = list.filter((c) =>
        matches(
          c,
          filters,
          // Docker's filter takes a network's name or id.
          (details.get(c.id) ?? []).flatMap((n) => [dockerNetworkName(n.network, defaultNetwork), n.networkId]),
        ),
      );
      const limit = queryInt(ex.query, 'limit');
      if (limit !== undefined && limit > 0) list = list.slice(0, limit);
      sendJson(
        ex.res,
        200,
        list.map((c) => listEntry(c, details.get(c.id), defaultNetwork)),
      );
    })
    .add('GET', '/containers/{id}/json', async (ex) => {
      const detail = await inspect(ex);
      // An image removed under a container (rmi -f) leaves its config fields empty, as dockerd's do.
      const image = await ex.backend.call('images.inspect', { image: detail.imageId }).catch(() => undefined);
      const networks = await ex.backend.call('networks.list', undefined);
      const byDefault = networks.find((n) => n.isDefault);
      sendJson(
        ex.res,
        200,
        inspectDocument(
          detail,
          image,
          new Set(networks.filter((n) => !n.isDefault).map((n) => n.id)),
          byDefault && { id: byDefault.id, name: byDefault.name },
        ),
      );
    })
    .add('POST', '/containers/{id}/start', async (ex) => {
      if (ex.query.get('detachKeys')) throw badRequest('detachKeys on start is not supported by Onggi');
      const before = await inspect(ex);
      if (before.state === 'running') return void ex.res.writeHead(304).end();
      const waiting = attachmentsOf(ex).takeWaiting(before.id);
      const start = ex.backend.call('containers.start', { container: before.id, ...(waiting.length ? { waitForAttach: true } : {}) });
      // The runtime holds output until an attacher connects: let ours go once the console exists.
      void start.finally(() => waiting.forEach((release) => release())).catch(() => undefined);
      await start;
      ex.res.writeHead(204).end();
    })
    .add('POST', '/containers/{id}/stop', async (ex) => {
      const before = await inspect(ex);
      if (before.state !== 'running') return void ex.res.writeHead(304).end();
      const t = queryInt(ex.query, 't');
      await ex.backend.call('containers.stop', { container: before.id, ...(t !== undefined && t >= 0 ? { timeoutSeconds: t } : {}) });
      ex.res.writeHead(204).end();
    })
    .add('POST', '/containers/{id}/restart', async (ex) => {
      const t = queryInt(ex.query, 't');
      const before = await inspect(ex);
      if (before.state === 'running')
        await ex.backend.call('containers.stop', { container: before.id, ...(t !== undefined && t >= 0 ? { timeoutSeconds: t } : {}) });
      await ex.backend.call('containers.start', { container: before.id });
      ex.res.writeHead(204).end();
    })
    .add('POST', '/containers/{id}/kill', async (ex) => {
      const signal = ex.query.get('signal') || undefined;
      const before = await inspect(ex);
      if (before.state !== 'running') throw new DockerError(409, `Container ${before.id} is not running`);
      await ex.backend.call('containers.kill', { container: before.id, ...(signal ? { signal } : {}) });
      ex.res.writeHead(204).end();
    })
    .add('POST', '/containers/{id}/wait', async (ex) => {
      const condition = ex.query.get('condition') || 'not-running';
      if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw badRequest(`invalid condition: "${condition}"`);
      const before = await inspect(ex);
      // Headers first, as dockerd does: `docker run` waits for them before it starts the container.
      ex.res.writeHead(200, { 'Content-Type': 'application/json' });
      ex.res.flushHeaders();
      const result = await waitFor(ex, before.id, condition, before.state === 'running' || before.state === 'created');
      ex.res.end(JSON.stringify({ StatusCode: result.exitCode, Error: null }));
    })
    .add('DELETE', '/containers/{id}', async (ex) => {
      if (queryBool(ex.query, 'link')) throw badRequest('links are not supported by Onggi');
      await ex.backend
        .call('containers.remove', { container: id(ex), force: queryBool(ex.query, 'force'), volumes: queryBool(ex.query, 'v') })
        .catch(whenNotFound(`No such container: ${id(ex)}`, 'params.container'));
      ex.res.writeHead(204).end();
    })
    .add('GET', '/containers/{id}/logs', (ex) => streamLogs(ex))
    .add('POST', '/containers/{id}/attach', (ex) => attachmentsOf(ex).attach(ex))
    .add('POST', '/containers/{id}/resize', (ex) => attachmentsOf(ex).resize(ex))
    .add('POST', '/containers/{id}/pause', async (ex) => {
      await ex.backend.call('containers.pause', { container: id(ex) });
      ex.res.writeHead(204).end();
    })
    .add('POST', '/containers/{id}/unpause', async (ex) => {
      await ex.backend.call('containers.unpause', { container: id(ex) });
      ex.res.writeHead(204).end();
    })
    .add('POST', '/containers/{id}/rename', async (ex) => {
      const name = ex.query.get('name');
      if (!name) throw badRequest('the name query parameter is required');
      await ex.backend.call('containers.rename', { container: id(ex), name });
      ex.res.writeHead(204).end();
    })
    .add('POST', '/containers/prune', async (ex) => {
      const filters = queryFilters(ex.query);
      checkFilterKeys(filters, []);
      const pruned = await ex.backend.call('containers.prune', {});
      sendJson(ex.res, 200, { ContainersDeleted: pruned.containers.map((c) => c.id), SpaceReclaimed: pruned.reclaimed ?? 0 });
    });
}

/** The container the path names, or Docker's 404. */
function inspect(ex: Exchange) {
  const selector = ex.params.id ?? '';
  return ex.backend
    .call('containers.inspect', { container: selector })
    .catch(whenNotFound(`No such container: ${selector}`, 'params.container'));
}

/** A TCP port free on this machine now (the agent runs in the machine's network namespace). */
function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '0.0.0.0', () => {
      const address = probe.address();
      probe.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** The machine's default network, which Docker clients know as `bridge`. */
async function defaultNetworkOf(ex: Exchange): Promise<DefaultNetwork | undefined> {
  const found = (await ex.backend.call('networks.list', undefined)).find((n) => n.isDefault);
  return found && { id: found.id, name: found.name };
}

/** A container's networks (for the list's NetworkSettings and its network filter). */
async function networksOf(ex: Exchange, id: string) {
  // A container removed between the list and this inspect is shown without networks.
  const detail = await ex.backend.call('containers.inspect', { container: id }).catch(() => undefined);
  return detail?.networks ?? [];
}

/**
 * `wait`: not-running answers when it has ended; `removed` also waits for an --rm container to be
 * gone (the runtime removes it right after the exit is recorded, on container.state's heels).
 */
async function waitFor(ex: Exchange, id: string, condition: string, live: boolean): Promise<{ exitCode: number }> {
  // The exit code as the event carried it: an --rm container may be gone before we could ask.
  let exitCode: number | undefined;
  if (live || condition === 'next-exit') {
    // A created container: wait for it to start, then end (docker run waits before starting).
    await new Promise<void>((resolve) => {
      const finish = (): void => {
        ex.backend.events.unsubscribe(listener);
        resolve();
      };
      const listener = (event: AgentEvent): void => {
        if (event.type === 'container.state' && event.id === id && (event.state === 'exited' || event.state === 'dead')) {
          exitCode = event.exitCode ?? undefined;
          finish();
        }
      };
      ex.backend.events.subscribe(listener, ['container.state']);
      // Already over (ended between inspect and subscribe): the record says so.
      void ex.backend.call('containers.inspect', { container: id }).then((d) => {
        if (d.state === 'exited' || d.state === 'dead') finish();
      }, finish);
      ex.res.once('close', finish);
    });
  }
  // An --rm container may already be gone: its exit code came with the event.
  const after = await ex.backend.call('containers.wait', { container: id }).catch(() => undefined);
  if (condition === 'removed') await untilRemoved(ex, id);
  return { exitCode: after?.exitCode ?? exitCode ?? 0 };
}

async function untilRemoved(ex: Exchange, id: string): Promise<void> {
  const gone = () =>
    ex.backend.call('containers.inspect', { container: id }).then(
      () => false,
      () => true,
    );
  // The runtime removes an --rm container right after it records the exit; a removed container
  // emits nothing, so look again on each turn of the event loop's timers (bounded).
  for (let i = 0; i < 600 && !(await gone()); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
}
