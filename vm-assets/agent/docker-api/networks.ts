// /networks/*: bridge networks (Docker's `bridge` is the agent's default network).
import { DockerNetworkConnect, DockerNetworkCreate } from '../../../shared/docker-api.js';
import type { NetworkDetail, NetworkSummary } from '../../../shared/networks.js';
import { DockerError, badRequest, unsupportedOption, whenNotFound } from './errors.js';
import { checkFilterKeys, parseJson, queryFilters, sendJson } from './http-io.js';
import type { Exchange, Router } from './router.js';

/** Docker's `none` network: no interface at all; listed so compose and the CLI find it. */
const NONE = {
  Name: 'none',
  Id: '0'.repeat(64),
  Created: '1970-01-01T00:00:00Z',
  Scope: 'local',
  Driver: 'null',
  EnableIPv6: false,
  IPAM: { Driver: 'default', Options: null, Config: [] },
  Internal: false,
  Attachable: false,
  Ingress: false,
  ConfigFrom: { Network: '' },
  ConfigOnly: false,
  Containers: {},
  Options: {},
  Labels: {},
};

function document(n: NetworkSummary, detail?: NetworkDetail) {
  return {
    Name: n.isDefault ? 'bridge' : n.name,
    Id: n.id,
    Created: n.createdAt,
    Scope: 'local',
    Driver: 'bridge',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: Object.fromEntries(
      (detail?.endpoints ?? []).map((e) => [
        e.containerId,
        {
          Name: e.containerName,
          EndpointID: e.hostVeth,
          MacAddress: e.mac,
          IPv4Address: `${e.ip}/${n.subnet.split('/')[1] ?? ''}`,
          IPv6Address: '',
        },
      ]),
    ),
    Options: { 'com.docker.network.bridge.name': n.bridge },
    Labels: {},
  };
}

/** Docker's name for the default network is `bridge`; the agent's own name for it is used underneath. */
async function agentName(ex: Exchange, name: string): Promise<string> {
  if (name !== 'bridge') return name;
  const list = await ex.backend.call('networks.list', undefined);
  return list.find((n) => n.isDefault)?.name ?? name;
}

export function networkRoutes(router: Router): void {
  router
    .add('GET', '/networks', async (ex) => {
      const filters = queryFilters(ex.query);
      checkFilterKeys(filters, ['name', 'id', 'driver', 'label', 'type', 'scope']);
      const list = await ex.backend.call('networks.list', undefined);
      const docs = [...list.map((n) => document(n)), NONE].filter(
        (doc) =>
          (!filters.name || filters.name.some((name) => doc.Name.includes(name))) &&
          (!filters.id || filters.id.some((id) => doc.Id.startsWith(id))) &&
          (!filters.driver || filters.driver.includes(doc.Driver)) &&
          (!filters.label || filters.label.length === 0) &&
          (!filters.scope || filters.scope.includes('local')),
      );
      sendJson(ex.res, 200, docs);
    })
    .add('GET', '/networks/{id}', async (ex) => {
      const name = ex.params.id ?? '';
      if (name === 'none' || name === NONE.Id) return sendJson(ex.res, 200, NONE);
      const detail = await ex.backend
        .call('networks.inspect', { network: await agentName(ex, name) })
        .catch(whenNotFound(`network ${name} not found`));
      sendJson(ex.res, 200, document(detail, detail));
    })
    .add('POST', '/networks/create', async (ex) => {
      const body = parseJson(DockerNetworkCreate, await ex.body());
      if (body.Driver && body.Driver !== 'bridge') throw unsupportedOption(`network driver ${body.Driver}`, 'only bridge networks');
      for (const flag of ['Internal', 'EnableIPv6'] as const) if (body[flag]) throw unsupportedOption(flag);
      if (body.Options && Object.keys(body.Options).length)
        throw unsupportedOption(`network Options (${Object.keys(body.Options).join(', ')})`);
      // Said in the answer's Warning, not refused: compose labels every network it makes and sets
      // Attachable (a swarm notion); neither changes what a bridge does.
      const warnings = [
        ...(body.Labels && Object.keys(body.Labels).length ? ['network labels are not kept by Onggi'] : []),
        ...(body.Attachable ? ['Attachable (swarm) has no effect on an Onggi bridge'] : []),
      ];
      const configs = body.IPAM?.Config ?? [];
      if (configs.length > 1) throw unsupportedOption('more than one IPAM config');
      if (configs[0]?.IPRange) throw unsupportedOption('IPAM IPRange');
      const existing = await ex.backend.call('networks.list', undefined);
      if (existing.some((n) => n.name === body.Name)) throw new DockerError(409, `network with name ${body.Name} already exists`);
      const network = await ex.backend.call('networks.create', {
        name: body.Name,
        ...(configs[0]?.Subnet ? { subnet: configs[0].Subnet } : {}),
        ...(configs[0]?.Gateway ? { gateway: configs[0].Gateway } : {}),
      });
      sendJson(ex.res, 201, { Id: network.id, Warning: warnings.join('; ') });
    })
    .add('POST', '/networks/{id}/connect', async (ex) => {
      const body = parseJson(DockerNetworkConnect, await ex.body());
      // Aliases resolve as the container's name does, for the network's other containers (compose
      // sends the service name and the short id).
      const ip = body.EndpointConfig?.IPAMConfig?.IPv4Address;
      const aliases = body.EndpointConfig?.Aliases;
      const name = ex.params.id ?? '';
      await ex.backend
        .call('networks.connect', {
          network: await agentName(ex, name),
          container: body.Container,
          ...(ip ? { ip } : {}),
          ...(aliases?.length ? { aliases } : {}),
        })
        .catch(whenNotFound(`network ${name} not found`));
      ex.res.writeHead(200).end();
    })
    .add('POST', '/networks/{id}/disconnect', async (ex) => {
      const body = parseJson(DockerNetworkConnect, await ex.body());
      const name = ex.params.id ?? '';
      await ex.backend
        .call('networks.disconnect', { network: await agentName(ex, name), container: body.Container })
        .catch(whenNotFound(`network ${name} not found`));
      ex.res.writeHead(200).end();
    })
    .add('DELETE', '/networks/{id}', async (ex) => {
      const name = ex.params.id ?? '';
      if (name === 'bridge' || name === 'none') throw new DockerError(403, `${name} is a pre-defined network and cannot be removed`);
      await ex.backend.call('networks.remove', { network: name }).catch(whenNotFound(`network ${name} not found`));
      ex.res.writeHead(204).end();
    })
    .add('POST', '/networks/prune', () => {
      throw badRequest('POST /networks/prune is not supported by Onggi (remove networks by name)');
    });
}
