// Where `onggi run -v SOURCE:…` tells a folder of this computer from a path on the machine.
//
// On the `local` machine they are the same thing: nothing changes. On any other machine, a bind
// source is a desktop path when it is written as only the desktop writes paths (`~/app`, `./app`,
// `C:\Users\me\app`: mount-options.ts desktopWritten), or when it is an absolute path inside one of
// the machine's shared folders; such a path is mounted on the machine through its share
// (`machines.resolveShare`) and the container binds the machine's side. A desktop-written path in
// no shared folder is refused with the command that shares it. Any other absolute path is the
// machine's own, as before sharing existed.
import type { HostApi } from '../../shared/host-api.js';
import { bindThroughShare } from '../../shared/shares.js';
import type { MountSpecInput } from '../../shared/volumes.js';
import { shareHolding } from '../core/shares/shared-folders.js';
import { currentFacts } from '../core/platform/platform.js';
import { desktopWritten } from './mount-options.js';

export interface DesktopBinds {
  mounts: MountSpecInput[];
  /** `onggi.shared-folder:/app` → `/home/me/app → /run/onggi/shares/…` for each desktop bind. */
  labels: Record<string, string>;
}

/**
 * The mounts with desktop folders replaced by where the machine sees them. `written` holds the bind
 * sources exactly as the user typed them on `-v`, by container path.
 */
export async function shareDesktopBinds(
  api: HostApi,
  machine: string,
  mounts: readonly MountSpecInput[],
  written: ReadonlyMap<string, string>,
): Promise<DesktopBinds> {
  const binds = mounts.filter((mount) => mount.type === 'bind');
  if (binds.length === 0) return { mounts: [...mounts], labels: {} };
  const summary = (await api.call('machines.list', {})).find((entry) => entry.name === machine);
  if (!summary || summary.provider === 'local') return { mounts: [...mounts], labels: {} };
  const typedAsDesktop = (mount: MountSpecInput) => desktopWritten(written.get(mount.target) ?? '');
  const shares = await api.call('machines.shares', { machine });
  const facts = currentFacts();
  const labels: Record<string, string> = {};
  const resolved: MountSpecInput[] = [];
  for (const mount of mounts) {
    if (mount.type !== 'bind' || mount.source === undefined) {
      resolved.push(mount);
      continue;
    }
    const inShare = typedAsDesktop(mount) || isInShare(shares, mount.source, facts);
    if (!inShare) {
      resolved.push(mount);
      continue;
    }
    const through = bindThroughShare(mount, await api.call('machines.resolveShare', { machine, path: mount.source }));
    labels[through.label[0]] = through.label[1];
    resolved.push(through.mount);
  }
  return { mounts: resolved, labels };
}

function isInShare(shares: Parameters<typeof shareHolding>[0], source: string, facts: ReturnType<typeof currentFacts>): boolean {
  try {
    return shareHolding(shares, source, facts) !== undefined;
  } catch {
    return false; // not a desktop path at all (e.g. relative on this OS): the machine's own
  }
}
