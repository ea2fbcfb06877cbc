// `volumes.*`: the volume store with the runtime's knowledge of which containers use each volume
// (a volume in use is never removed or pruned).
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { Handlers } from '../../../shared/rpc-dispatch.js';
import type { VolumePruneResult, VolumeSummary, volumeMethods } from '../../../shared/volumes.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import type { ConnectionContext } from '../rpc/handlers.js';
import { diskUsage } from '../system/du.js';
import type { VolumeRecord, VolumeStore } from './store.js';

export class VolumeService {
  constructor(
    private readonly store: VolumeStore,
    private readonly runtime: ContainerRuntime | Error,
  ) {}

  /** Containers using the volume; none where containers cannot run. */
  users(name: string): string[] {
    return this.runtime instanceof Error ? [] : this.runtime.usingVolume(name);
  }

  private async summary(record: VolumeRecord, withSize: boolean): Promise<VolumeSummary> {
    return {
      name: record.name,
      createdAt: record.createdAt,
      anonymous: record.anonymous,
      mountpoint: this.store.dataDir(record.name),
      labels: record.labels,
      containers: this.users(record.name),
      ...(withSize ? { size: await diskUsage(this.store.dir(record.name)) } : {}),
    };
  }

  private async record(name: string): Promise<VolumeRecord> {
    const record = await this.store.get(name);
    if (!record) throw new OnggiError(ErrorCode.NotFound, 'not_found', `no volume "${name}"`, 'params.volume');
    return record;
  }

  async create(params: { name?: string | undefined; labels?: Record<string, string> | undefined } = {}): Promise<VolumeSummary> {
    const { record } = await this.store.create(params.name, { labels: params.labels ?? {} });
    return this.summary(record, false);
  }

  async list(withSize = false): Promise<VolumeSummary[]> {
    const { records } = await this.store.list();
    return Promise.all(records.map((record) => this.summary(record, withSize)));
  }

  async inspect(name: string): Promise<VolumeSummary> {
    return this.summary(await this.record(name), true);
  }

  async remove(name: string): Promise<{ name: string }> {
    await this.record(name);
    const users = this.users(name);
    if (users.length > 0)
      throw new OnggiError(
        ErrorCode.Conflict,
        'in_use',
        `volume ${name} is in use by container${users.length > 1 ? 's' : ''} ${users.join(', ')}: remove ${users.length > 1 ? 'them' : 'it'} first`,
        'params.volume',
      );
    await this.store.remove(name);
    return { name };
  }

  /** Unused anonymous volumes, or with `all` every unused one (Docker 23's `volume prune [-a]`). */
  async prune({ all = false, dryRun = false } = {}): Promise<VolumePruneResult> {
    const result: VolumePruneResult = { dryRun, volumes: [], reclaimed: 0 };
    const { records } = await this.store.list();
    for (const record of records.filter((r) => (all || r.anonymous) && this.users(r.name).length === 0)) {
      const bytes = await diskUsage(this.store.dir(record.name));
      if (!dryRun) {
        // A container took it meanwhile: then it stays, as rm would refuse it.
        if (this.users(record.name).length > 0) continue;
        await this.store.remove(record.name);
      }
      result.volumes.push(record.name);
      result.reclaimed += bytes;
    }
    return result;
  }
}

export function createVolumeHandlers(service: VolumeService | Error): Handlers<typeof volumeMethods, ConnectionContext> {
  const volumes = (): VolumeService => {
    if (service instanceof Error)
      throw new OnggiError(ErrorCode.Unavailable, 'volumes_unavailable', `volumes are unavailable on this machine: ${service.message}`);
    return service;
  };
  return {
    'volumes.create': (params) => volumes().create(params ?? {}),
    'volumes.list': (params) => volumes().list(params?.size ?? false),
    'volumes.inspect': ({ volume }) => volumes().inspect(volume),
    'volumes.remove': ({ volume }) => volumes().remove(volume),
    'volumes.prune': (params) => volumes().prune(params ?? {}),
  };
}
