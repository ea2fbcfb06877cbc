// The run dialog's folders of this computer on a remote machine: each row's desktop path is asked
// of the host (`machines.resolveShare`: the shared folder holding it is mounted on the machine)
// and becomes a bind of the machine's side, with the mapping label — the CLI's `-v ~/app:/app`
// through the same shared bindThroughShare. A path in no shared folder stays on its row with the
// host's refusal, which names the command that would share it; the row can then share it.
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import { bindThroughShare, type ShareResolution } from '../../../../shared/shares.js';
import type { MountSpecInput } from '../../../../shared/volumes.js';
import type { MountRow } from './MountRows';

/** What the dialog needs of the host for desktop folders on the chosen (remote) machine. */
export interface DesktopFolders {
  machine: string;
  /** The native folder dialog (the Electron window); absent in browser mode, where the path is typed. */
  pick?: () => Promise<string | null>;
  resolve: (path: string) => Promise<ShareResolution>;
  share: (path: string, readOnly: boolean) => Promise<void>;
}

export interface ResolvedDesktopRows {
  /** By row index: the bind of the machine's side of the row's folder. */
  mounts: Map<number, MountSpecInput>;
  /** `onggi.shared-folder:TARGET` → `DESKTOP → MACHINE`, for inspect and the Kernel tab. */
  labels: Record<string, string>;
}

/** A desktop row's failure: its path left empty, or the host's refusal (`unshared`: the folder to share). */
export type DesktopRowError = { kind: 'required' } | { kind: 'refused'; message: string; unshared?: string };

export async function resolveDesktopRows(
  rows: readonly MountRow[],
  resolve: DesktopFolders['resolve'],
): Promise<{ ok: true; resolved: ResolvedDesktopRows } | { ok: false; errors: Map<number, DesktopRowError> }> {
  const resolved: ResolvedDesktopRows = { mounts: new Map(), labels: {} };
  const errors = new Map<number, DesktopRowError>();
  for (const [index, row] of rows.entries()) {
    if (row.type !== 'desktop' || (row.source.trim() === '' && row.target.trim() === '')) continue;
    const path = row.source.trim();
    if (path === '') {
      errors.set(index, { kind: 'required' });
      continue;
    }
    try {
      const mount: MountSpecInput = { type: 'bind', target: row.target.trim(), ...(row.readonly ? { readonly: true } : {}) };
      const through = bindThroughShare(mount, await resolve(path));
      resolved.mounts.set(index, through.mount);
      resolved.labels[through.label[0]] = through.label[1];
    } catch (error) {
      const unshared = error instanceof OnggiError && error.kind === 'not_shared';
      errors.set(index, { kind: 'refused', message: errorMessage(error), ...(unshared ? { unshared: path } : {}) });
    }
  }
  return errors.size > 0 ? { ok: false, errors } : { ok: true, resolved };
}
