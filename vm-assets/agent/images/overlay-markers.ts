// Turning OCI whiteouts into overlayfs ones needs two syscalls Node does not have: mknod (a 0:0
// character device marks a deleted path) and setxattr (`trusted.overlay.opaque=y` marks a
// directory whose lower contents are hidden). The init helper does both, one call per layer with
// every path, recorded in the activity log like any privileged step:
//
//   onggi-init whiteout ROOT RELPATH...
//   onggi-init opaque ROOT RELPATH...
//
// Where the helper has not been built (a development checkout), coreutils `mknod` and attr's
// `setfattr` do the same, one path per call, when they are installed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ActivityLog } from '../activity/activity-log.js';

export interface OverlayMarker {
  /** How the markers are made, for messages: `onggi-init` or `mknod/setfattr`. */
  readonly name: string;
  whiteouts(root: string, paths: readonly string[]): Promise<void>;
  opaques(root: string, paths: readonly string[]): Promise<void>;
}

/** Keeps one argv well under ARG_MAX even for a layer that deletes thousands of files. */
const BATCH_BYTES = 96 * 1024;

function batches(paths: readonly string[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const path of paths) {
    if (current.length > 0 && bytes + path.length + 1 > BATCH_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(path);
    bytes += path.length + 1;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export class HelperMarker implements OverlayMarker {
  readonly name = 'onggi-init';
  constructor(
    private readonly activity: ActivityLog,
    private readonly helper: string,
  ) {}

  async whiteouts(root: string, paths: readonly string[]): Promise<void> {
    for (const batch of batches(paths)) await this.activity.run([this.helper, 'whiteout', root, ...batch]);
  }

  async opaques(root: string, paths: readonly string[]): Promise<void> {
    for (const batch of batches(paths)) await this.activity.run([this.helper, 'opaque', root, ...batch]);
  }
}

/** The fallback: coreutils mknod and attr's setfattr, one path per call. */
export class ToolMarker implements OverlayMarker {
  readonly name = 'mknod/setfattr';
  constructor(
    private readonly activity: ActivityLog,
    private readonly setfattr: string | undefined,
  ) {}

  async whiteouts(root: string, paths: readonly string[]): Promise<void> {
    for (const path of paths) await this.activity.run(['mknod', join(root, path), 'c', '0', '0']);
  }

  async opaques(root: string, paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    if (!this.setfattr) {
      throw new Error(
        'this layer has opaque directories, which need the onggi-init helper (or setfattr from the attr package): neither is installed',
      );
    }
    for (const path of paths) await this.activity.run([this.setfattr, '-n', 'trusted.overlay.opaque', '-v', 'y', join(root, path)]);
  }
}

function findOnPath(name: string): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The helper when it exists, else the tools. `helper` may be undefined (not built yet). */
export function overlayMarker(activity: ActivityLog, helper: string | undefined): OverlayMarker {
  if (helper && existsSync(helper)) return new HelperMarker(activity, helper);
  return new ToolMarker(activity, findOnPath('setfattr'));
}
