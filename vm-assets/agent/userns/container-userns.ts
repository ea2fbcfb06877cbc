// What --userns=auto changes in a container's start: the helper's maps and idmapped layers, and
// the few directories of the machine's that root inside must own (its overlay's upper root, its
// fresh volumes), since files owned by the machine's root show up inside as nobody (65534).
import { chownSync, statSync } from 'node:fs';
import type { UsernsMaps } from '../../../shared/userns.js';
import type { RunSpec } from '../runtime/helper-protocol.js';
import type { ResolvedMount } from '../runtime/mounts.js';
import type { VolumeStore } from '../volumes/store.js';

/**
 * The helper's run options for a container's maps. The layers are idmapped mounts (the kernel
 * shifts ids as it reads them; nothing is copied): measured here on 6.18, idmapping two layers
 * costs ~0.03 ms and the overlay mounts as fast as without, where a chowned copy of the layers
 * would cost a full copy per image and range (see the report in the branch's notes). Only the
 * lowerdirs are idmapped: an idmapped upper makes overlayfs refuse its own work dir (EOVERFLOW:
 * the mounter's uid 0 is not in the map) and mount read-only, so the upper holds the range's ids.
 */
export function usernsRunOptions(
  maps: UsernsMaps | undefined,
  overlay: string | undefined,
): Pick<RunSpec, 'uidMap' | 'gidMap' | 'idmapLayers'> {
  const uid = maps?.uidMap[0];
  const gid = maps?.gidMap[0];
  if (!uid || !gid) return {};
  return { uidMap: uid, gidMap: gid, ...(overlay === undefined ? {} : { idmapLayers: true }) };
}

/**
 * Gives the container's root (the range's first ids) the directories it must be able to write
 * that the agent made as the machine's root: the overlay's upper dir (the container's `/`) and its
 * volumes' data dirs. Only while they still belong to the machine's root: what the container
 * chowned since is its own business.
 */
export function chownForUserns(maps: UsernsMaps | undefined, dirs: readonly string[]): void {
  const uid = maps?.uidMap[0]?.host;
  const gid = maps?.gidMap[0]?.host;
  if (uid === undefined || gid === undefined) return;
  for (const dir of dirs) {
    const stat = statSync(dir, { throwIfNoEntry: false });
    if (stat && stat.uid === 0 && stat.gid === 0) chownSync(dir, uid, gid);
  }
}

/** The data directories of a container's volumes. */
export function volumeDirs(mounts: readonly ResolvedMount[], volumes: VolumeStore | undefined): string[] {
  return mounts.flatMap((mount) => (mount.type === 'volume' && mount.source && volumes ? [volumes.dataDir(mount.source)] : []));
}
