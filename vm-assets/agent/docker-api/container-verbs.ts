// /containers/{id}/top, changes, stats, update and export: thin routes over the agent's container
// verbs (shared/container-verbs.ts), each answer in Docker's shape.
import type { Stats } from 'node:fs';
import { lstat, mkdir, readFile, readdir, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { availableParallelism, totalmem } from 'node:os';
import { DockerContainerUpdate } from '../../../shared/docker-api.js';
import type { ContainerStats } from '../../../shared/containers.js';
import { limits, refuseUnknown } from './container-spec.js';
import { badRequest, unsupportedOption, whenNotFound } from './errors.js';
import { parseJson, queryBool, sendJson } from './http-io.js';
import type { Exchange, Router } from './router.js';
import { receiveFile, sendTarFile, withScratchFile } from './scratch.js';
import { extractArchive } from '../images/import.js';

const container = (ex: Exchange) => ex.params.id ?? '';
const missing = (ex: Exchange) => whenNotFound(`No such container: ${container(ex)}`, 'params.container');

/** Docker's Kind numbers for a change: 0 modified, 1 added, 2 deleted. */
const CHANGE_KIND = { C: 0, A: 1, D: 2 } as const;

/** The machine's CPU time in ns, as dockerd's system_cpu_usage (the `cpu` line of /proc/stat, in USER_HZ ticks). */
async function systemCpuNs(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
  const ticks = line
    .split(/\s+/)
    .slice(1, 8)
    .reduce((sum, field) => sum + (Number(field) || 0), 0);
  // USER_HZ is 100 on every Linux ABI the agent runs on.
  return ticks * 1e7;
}

interface Sample {
  stats: ContainerStats;
  system: number;
}

async function sample(ex: Exchange, id: string): Promise<Sample> {
  const [stats, system] = await Promise.all([ex.backend.call('containers.stats', { container: id }), systemCpuNs()]);
  return { stats, system };
}

function cpuStats(s: Sample | undefined, cpus: number) {
  return {
    cpu_usage: { total_usage: s?.stats.cpu.usageNs ?? 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: s?.system ?? 0,
    online_cpus: s ? cpus : 0,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

/** One stats document as dockerd writes it (the fields `docker stats` reads, zero where unknown). */
function statsDocument(name: string, id: string, now: Sample, before: Sample | undefined) {
  const cpus = availableParallelism();
  return {
    read: now.stats.at,
    preread: before?.stats.at ?? '0001-01-01T00:00:00Z',
    name: `/${name}`,
    id,
    num_procs: 0,
    pids_stats: { current: now.stats.pids.current, ...(now.stats.pids.limit === null ? {} : { limit: now.stats.pids.limit }) },
    cpu_stats: cpuStats(now, cpus),
    precpu_stats: cpuStats(before, cpus),
    memory_stats: { usage: now.stats.memory.usage, limit: now.stats.memory.limit ?? totalmem(), stats: {} },
    blkio_stats: { io_service_bytes_recursive: null },
    storage_stats: {},
    networks: {},
  };
}

/** Docker samples once a second; the first document of a stream has no previous sample. */
const STATS_INTERVAL_MS = 1000;

async function stats(ex: Exchange): Promise<void> {
  const detail = await ex.backend.call('containers.inspect', { container: container(ex) }).catch(missing(ex));
  const stream = queryBool(ex.query, 'stream', true);
  if (detail.state !== 'running') {
    // dockerd answers a stopped container with one all-zero document (docker stats shows 0%).
    const zero = {
      stats: {
        at: new Date().toISOString(),
        cpu: { usageNs: 0, limitCpus: null },
        memory: { usage: 0, limit: 0 },
        pids: { current: 0, limit: null },
      },
      system: 0,
    };
    return sendJson(ex.res, 200, statsDocument(detail.name, detail.id, zero, undefined));
  }
  if (!stream) {
    // `stream=false`: two samples a second apart, so the CPU percentage has a delta (`one-shot`: one).
    const first = await sample(ex, detail.id);
    if (queryBool(ex.query, 'one-shot')) return sendJson(ex.res, 200, statsDocument(detail.name, detail.id, first, undefined));
    await new Promise((resolve) => setTimeout(resolve, STATS_INTERVAL_MS));
    return sendJson(ex.res, 200, statsDocument(detail.name, detail.id, await sample(ex, detail.id), first));
  }
  ex.res.writeHead(200, { 'Content-Type': 'application/json' });
  let closed = false;
  ex.res.once('close', () => (closed = true));
  let before: Sample | undefined;
  while (!closed) {
    // The container stopped mid-stream: the stream ends, as dockerd's does.
    const now = await sample(ex, detail.id).catch(() => undefined);
    if (!now) break;
    ex.res.write(`${JSON.stringify(statsDocument(detail.name, detail.id, now, before))}\n`);
    before = now;
    await new Promise((resolve) => setTimeout(resolve, STATS_INTERVAL_MS));
  }
  ex.res.end();
}

/** Go's os.FileMode bits the docker CLI reads from the stat header (directory, symlink) over the permissions. */
function goFileMode(info: Stats): number {
  const type = info.isDirectory() ? 2 ** 31 : info.isSymbolicLink() ? 2 ** 27 : 0;
  return type + (info.mode & 0o7777);
}

/**
 * `docker cp CONTAINER:PATH DEST`: the path as a tar (its base name at the top) with dockerd's
 * X-Docker-Container-Path-Stat header; copied out by the agent's copyFrom first (the container's
 * links are never followed there), then tarred from the scratch copy.
 */
async function archive(ex: Exchange): Promise<void> {
  const path = ex.query.get('path');
  if (!path) throw badRequest('the path query parameter is required');
  await withScratchFile(ex.backend.deps.scratchDir, 'out', async (out) => {
    await mkdir(out, { mode: 0o700 });
    const { dest } = await ex.backend
      .call('containers.copyFrom', { container: container(ex), path, dest: out })
      .catch(whenNotFound(`Could not find the file ${path} in container ${container(ex)}`, 'params.path'))
      .catch(missing(ex));
    const info = await lstat(dest);
    const linkTarget = info.isSymbolicLink() ? await readlink(dest) : '';
    const pathStat = { name: basename(dest), size: info.size, mode: goFileMode(info), mtime: info.mtime.toISOString(), linkTarget };
    ex.res.writeHead(200, {
      'Content-Type': 'application/x-tar',
      'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(pathStat)).toString('base64'),
    });
    if (ex.req.method === 'HEAD') return void ex.res.end();
    // The status is sent: a failure now can only cut the tar short, which the client sees.
    await pipeline(tar.c({ cwd: out, portable: false }, [basename(dest)]), ex.res).catch(() => ex.res.destroy());
  });
}

/**
 * `docker cp SRC CONTAINER:DIR`: the client's tar unpacked on the machine with the image import's
 * protections (regular files, directories and links only, nothing outside), then each top entry
 * copied into DIR by the agent's copyTo, which resolves every path inside the container.
 */
async function putArchive(ex: Exchange): Promise<void> {
  const path = ex.query.get('path');
  if (!path) throw badRequest('the path query parameter is required');
  if (queryBool(ex.query, 'copyUIDGID')) throw unsupportedOption('copyUIDGID (docker cp -a)', 'copied files belong to root');
  await withScratchFile(ex.backend.deps.scratchDir, 'in', async (scratch) => {
    const tree = `${scratch}.d`;
    await mkdir(tree, { mode: 0o700 });
    await receiveFile(ex.req, `${scratch}.tar`);
    await extractArchive(`${scratch}.tar`, tree).catch((error: Error) => {
      throw badRequest(error.message);
    });
    for (const entry of await readdir(tree))
      await ex.backend
        .call('containers.copyTo', { container: container(ex), source: join(tree, entry), path })
        .catch(whenNotFound(`Could not find the file ${path} in container ${container(ex)}`, 'params.path'))
        .catch(missing(ex));
  });
  ex.res.writeHead(200).end();
}

export function containerVerbRoutes(router: Router): void {
  router
    .add('GET', '/containers/{id}/top', async (ex) => {
      const psArgs = ex.query.get('ps_args');
      if (psArgs && psArgs !== '-ef') throw unsupportedOption(`ps_args "${psArgs.slice(0, 100)}"`, 'top lists UID PID PPID CMD');
      const { processes } = await ex.backend.call('containers.top', { container: container(ex) }).catch(missing(ex));
      // Docker's top numbers processes as the machine does: the parent too, where it is in the container.
      const hostPid = new Map(processes.map((p) => [p.pid, p.hostPid]));
      sendJson(ex.res, 200, {
        Titles: ['UID', 'PID', 'PPID', 'CMD'],
        Processes: processes.map((p) => [p.user, String(p.hostPid), String(hostPid.get(p.ppid) ?? 0), p.command]),
      });
    })
    .add('GET', '/containers/{id}/changes', async (ex) => {
      const { changes } = await ex.backend.call('containers.diff', { container: container(ex) }).catch(missing(ex));
      sendJson(
        ex.res,
        200,
        changes.map((c) => ({ Path: c.path, Kind: CHANGE_KIND[c.kind] })),
      );
    })
    .add('GET', '/containers/{id}/stats', stats)
    .add('GET', '/containers/{id}/archive', archive)
    .add('PUT', '/containers/{id}/archive', putArchive)
    .add('POST', '/containers/{id}/update', async (ex) => {
      const body = parseJson(DockerContainerUpdate, await ex.body());
      refuseUnknown(body, ['Memory', 'MemorySwap', 'NanoCpus', 'CpuShares', 'CpusetCpus', 'PidsLimit', 'BlkioWeight'], 'update ', {
        MemorySwappiness: [-1],
      });
      if (body.PidsLimit !== undefined && body.PidsLimit !== null && body.PidsLimit < 0)
        throw unsupportedOption('PidsLimit -1', 'a pids limit can be changed, not removed');
      const changes = { ...limits(body), ...(body.BlkioWeight ? { blkioWeight: body.BlkioWeight } : {}) };
      if (!Object.keys(changes).length)
        throw badRequest(
          'update names nothing Onggi can change (Memory, MemorySwap, NanoCpus, CpuShares, CpusetCpus, PidsLimit, BlkioWeight)',
        );
      await ex.backend.call('containers.update', { container: container(ex), ...changes }).catch(missing(ex));
      sendJson(ex.res, 200, { Warnings: [] });
    })
    .add('GET', '/containers/{id}/export', async (ex) => {
      await withScratchFile(ex.backend.deps.scratchDir, 'export.tar', async (dest) => {
        await ex.backend.call('containers.export', { container: container(ex), dest }).catch(missing(ex));
        await sendTarFile(ex.res, dest);
      });
    });
}
