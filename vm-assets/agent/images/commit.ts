// `commit`: a new image from a container — its image's layers plus one more made from the
// container's upper dir (whiteouts turned back into OCI `.wh.` entries), with the container's
// command and environment as the config (as Docker does) and `--change` instructions on top.
import { rm } from 'node:fs/promises';
import { formatImageRef, parseImageRef } from '../../../shared/image-ref.js';
import type { ImageSummary } from '../../../shared/images.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { withQuietRootfs } from '../runtime/rootfs-copy.js';
import { commitOwnImage, unpackInto } from './layer-install.js';
import { overlayDirToTar } from './layer-tar.js';
import { machinePlatform } from './platform.js';
import type { ImageStore } from './store.js';

export interface CommitOptions {
  container: string;
  reference?: string | undefined;
  changes?: string[] | undefined;
  author?: string | undefined;
  message?: string | undefined;
}

type ConfigSection = Record<string, unknown> & { Env?: string[] };

function changeError(index: number, message: string): OnggiError {
  return new OnggiError(ErrorCode.InvalidParams, 'invalid_params', message, `params.changes.${index}`);
}

/** A Dockerfile-style argument: the JSON form (`["a","b"]`) as is, the shell form through /bin/sh -c. */
function commandForm(text: string, index: number): string[] {
  if (text.trim().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw changeError(index, `"${text}" is not a JSON array of strings`);
    }
    if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string'))
      throw changeError(index, 'must be a JSON array of strings');
    return parsed;
  }
  return ['/bin/sh', '-c', text];
}

/** Applies `--change` lines (`CMD …`, `ENV K=V`; `CMD=…` is taken too) to a config's `config` section. */
export function applyChanges(config: ConfigSection, changes: readonly string[]): ConfigSection {
  const next: ConfigSection = { ...config };
  changes.forEach((change, index) => {
    const match = /^\s*([A-Za-z]+)[\s=]+([\s\S]*)$/.exec(change);
    if (!match?.[1] || match[2] === undefined) throw changeError(index, `"${change}" is not INSTRUCTION ARGS (e.g. CMD ["sh"] or ENV A=b)`);
    const [instruction, args] = [match[1].toUpperCase(), match[2].trim()];
    switch (instruction) {
      case 'CMD':
        next.Cmd = commandForm(args, index);
        break;
      case 'ENTRYPOINT':
        next.Entrypoint = commandForm(args, index);
        break;
      case 'ENV': {
        const pair = /^([A-Za-z_][A-Za-z0-9_]*)(?:=|\s+)([\s\S]*)$/.exec(args);
        if (!pair?.[1]) throw changeError(index, `ENV "${args}" must be NAME=value`);
        const name = pair[1];
        next.Env = [...(next.Env ?? []).filter((entry) => !entry.startsWith(`${name}=`)), `${name}=${pair[2] ?? ''}`];
        break;
      }
      case 'WORKDIR':
        if (!args.startsWith('/')) throw changeError(index, 'WORKDIR must be an absolute path');
        next.WorkingDir = args;
        break;
      case 'USER':
        next.User = args;
        break;
      case 'LABEL': {
        const [key, ...value] = args.split('=');
        if (!key || value.length === 0) throw changeError(index, 'LABEL must be key=value');
        next.Labels = { ...(next.Labels as Record<string, string> | undefined), [key]: value.join('=').replace(/^"(.*)"$/, '$1') };
        break;
      }
      case 'EXPOSE':
        next.ExposedPorts = {
          ...(next.ExposedPorts as Record<string, unknown> | undefined),
          [args.includes('/') ? args : `${args}/tcp`]: {},
        };
        break;
      default:
        throw changeError(index, `${instruction} cannot be changed by commit (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL and EXPOSE can)`);
    }
  });
  return next;
}

export async function commitContainer(runtime: ContainerRuntime, store: ImageStore, options: CommitOptions): Promise<ImageSummary> {
  const names = options.reference === undefined ? [] : [formatImageRef(parseImageRef(options.reference))];
  const record = runtime.find(options.container);
  const base = store.inspect(record.imageId);
  const tarFile = `${store.tempPath('commit')}.tar`;
  const temp = await store.newLayerTemp('commit');
  let installed = false;
  try {
    // A running container is frozen while its upper dir is copied (Docker pauses it too).
    await withQuietRootfs(runtime, options.container, async (_merged, _record, access) => {
      await overlayDirToTar(
        access.activity,
        access.paths(record.id).upper,
        `${store.tempPath('commit-staging')}`,
        tarFile,
        access.scope(record),
        record.userns,
      );
    });
    const layer = await unpackInto(store, tarFile, temp, 'the committed layer', undefined);
    const unpin = store.pin([...base.layerDetails.map((l) => l.diffId), layer.diffId]);
    try {
      await store.installLayer(layer.diffId, temp, layer.size);
      installed = true;
      const blobBytes = await store.readBlob(record.imageId);
      const platform = machinePlatform();
      const blob = (blobBytes ? JSON.parse(blobBytes.toString('utf8')) : {}) as Record<string, unknown> & { config?: ConfigSection };
      const created = new Date().toISOString();
      const containerConfig: ConfigSection = {
        ...blob.config,
        Env: record.env.filter((entry) => !entry.startsWith('HOSTNAME=')),
        ...(record.spec.command ? { Cmd: record.spec.command } : {}),
        ...(record.spec.entrypoint ? { Entrypoint: record.spec.entrypoint } : {}),
      };
      const config = {
        ...blob,
        architecture: blob.architecture ?? platform.architecture,
        os: blob.os ?? platform.os,
        created,
        ...(options.author ? { author: options.author } : {}),
        container: record.id,
        config: applyChanges(containerConfig, options.changes ?? []),
        rootfs: { type: 'layers', diff_ids: [...base.layerDetails.map((l) => l.diffId), layer.diffId] },
        history: [
          ...((blob.history as unknown[] | undefined) ?? []),
          { created, created_by: `onggi commit ${record.name}`, ...(options.message ? { comment: options.message } : {}) },
        ],
      };
      const layers = [
        ...base.layerDetails.map(({ diffId, digest, size }) => ({ diffId, digest, size })),
        { diffId: layer.diffId, digest: null, size: layer.size },
      ];
      return await commitOwnImage(store, config, layers, platform, names, 'the committed config');
    } finally {
      unpin();
    }
  } finally {
    await rm(tarFile, { force: true });
    if (!installed) await rm(temp, { recursive: true, force: true });
  }
}
