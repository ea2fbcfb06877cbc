// `cp` both ways and `export`: work on a container's merged rootfs, mounted for the time it takes
// when the container is stopped, and with a running container frozen meanwhile, so none of its
// processes can swap a directory for a symlink between our resolving a path and using it (the
// race of CVE-2018-15664). Paths inside are resolved with the rootfs as `/` (rootfs-path.ts), and
// writes never follow a link that is already there: they replace it.
import { cp, chmod, copyFile, lstat, mkdir, readdir, readlink, rm, stat, symlink } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { ContainerRecord } from './container-record.js';
import type { ContainerRuntime, RuntimeAccess } from './container-runtime.js';
import { isMounted, mountRootfs, unmountRootfs } from './rootfs.js';
import { resolveInRootfs } from './rootfs-path.js';

/** Runs `work` with the container's rootfs mounted at the path it is given and nothing in the container running. */
export function withQuietRootfs<T>(
  runtime: ContainerRuntime,
  selector: string,
  work: (merged: string, record: ContainerRecord, access: RuntimeAccess) => Promise<T>,
): Promise<T> {
  return runtime.withContainer(selector, async (record, access) => {
    const paths = access.paths(record.id);
    const scope = access.scope(record);
    if (record.state === 'running') {
      const freeze = !record.paused;
      if (freeze) await access.cgroups.freeze(record.id, true, scope);
      try {
        return await work(paths.merged, record, access);
      } finally {
        if (freeze) await access.cgroups.freeze(record.id, false, scope);
      }
    }
    const mounted = await isMounted(paths.merged);
    if (!mounted) await mountRootfs(access.activity, record.layerDirs, paths, scope);
    try {
      return await work(paths.merged, record, access);
    } finally {
      if (!mounted) await unmountRootfs(access.activity, paths, scope);
    }
  });
}

function notFound(message: string, field: string): OnggiError {
  return new OnggiError(ErrorCode.NotFound, 'not_found', message, field);
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch {
    // Not there (or under something that is not a directory): the caller decides what that means.
    return undefined;
  }
}

/**
 * `cp CONTAINER:PATH DEST`: the container's PATH (a symlink as the last component is copied as
 * the link itself, as `docker cp` does) to DEST on the machine; into DEST when it is a directory.
 */
export function copyFromContainer(runtime: ContainerRuntime, selector: string, path: string, dest: string): Promise<{ dest: string }> {
  return withQuietRootfs(runtime, selector, async (merged) => {
    const source = resolveInRootfs(merged, path, { followLast: false });
    if (!(await lstatOrUndefined(source))) throw notFound(`no ${path} in the container`, 'params.path');
    // A dest that is not there yet is the name to copy to.
    const target = (await stat(dest).catch(() => undefined))?.isDirectory() ? join(dest, basename(source) || 'rootfs') : dest;
    // Links inside are copied as links, never followed (they point into the container's world).
    await cp(source, target, { recursive: true, dereference: false, verbatimSymlinks: true, force: true, preserveTimestamps: true });
    return { dest: target };
  });
}

/**
 * `cp SOURCE CONTAINER:PATH`: SOURCE on the machine into the container, into PATH when it is a
 * directory there. Every entry's place is resolved inside the rootfs, and a link found where a
 * file goes is replaced, not written through.
 */
export function copyToContainer(runtime: ContainerRuntime, selector: string, source: string, path: string): Promise<{ path: string }> {
  return withQuietRootfs(runtime, selector, async (merged) => {
    if (!(await lstatOrUndefined(source))) throw notFound(`no ${source} on the machine`, 'params.source');
    const there = await lstatOrUndefined(resolveInRootfs(merged, path));
    const target = there?.isDirectory() ? posix.join(path, basename(source)) : path;
    const parent = await lstatOrUndefined(resolveInRootfs(merged, posix.dirname(posix.normalize(`/${target}`))));
    if (!parent?.isDirectory()) throw notFound(`the container has no directory ${posix.dirname(target)} to copy into`, 'params.path');
    await copyIn(merged, source, posix.normalize(`/${target}`));
    return { path: target };
  });
}

async function copyIn(merged: string, source: string, inside: string): Promise<void> {
  const info = await lstat(source);
  const dest = resolveInRootfs(merged, inside, { followLast: false });
  const existing = await lstatOrUndefined(dest);
  if (info.isDirectory()) {
    if (existing && !existing.isDirectory()) await rm(dest, { force: true });
    if (!existing?.isDirectory()) await mkdir(dest, { mode: info.mode & 0o7777 });
    for (const name of await readdir(source)) await copyIn(merged, join(source, name), posix.join(inside, name));
    return;
  }
  if (existing) await rm(dest, { recursive: true, force: true });
  if (info.isSymbolicLink()) await symlink(await readlink(source), dest);
  else if (info.isFile()) {
    await copyFile(source, dest);
    await chmod(dest, info.mode & 0o7777);
  } else throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', `${source} is not a file, directory or symlink`, 'params.source');
}

/** `export`: the container's whole filesystem as a tar at `dest` on the machine (GNU tar keeps owners, modes, devices and links). */
export function exportRootfs(runtime: ContainerRuntime, selector: string, dest: string): Promise<{ dest: string }> {
  return withQuietRootfs(runtime, selector, async (merged, record, access) => {
    await access.activity.run(['tar', '--numeric-owner', '-C', merged, '-cf', dest, '.'], access.scope(record));
    return { dest };
  });
}
