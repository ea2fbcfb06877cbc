// Desktop folders a machine may see (Docker Desktop's "file sharing"): stored with the machine's
// record, served by the host core over the machine's SSH connection (electron/core/shares/).
import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { MachineName } from './names.js';

/** A folder of this computer, absolute in the desktop's own syntax (`/home/me/app`, `C:\Users\me\app`). */
export const DesktopFolder = lazySchema(() =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(4096)
    .refine((path) => !path.includes('\0'), 'must not contain NUL'),
);

export const SharedFolder = lazySchema(() =>
  z.strictObject({
    path: DesktopFolder,
    readOnly: z.boolean().default(false),
  }),
);
export type SharedFolder = z.infer<typeof SharedFolder>;

export const SharedFolders = lazySchema(() => z.array(SharedFolder).max(64));

export const ShareParams = lazySchema(() =>
  z.strictObject({ machine: MachineName, path: DesktopFolder, readOnly: z.boolean().optional() }),
);
export const UnshareParams = lazySchema(() => z.strictObject({ machine: MachineName, path: DesktopFolder }));

/** A desktop path resolved for a container's bind mount: where the machine sees it. */
export const ShareResolveParams = lazySchema(() => z.strictObject({ machine: MachineName, path: DesktopFolder }));
export const ShareResolution = lazySchema(() =>
  z.strictObject({
    desktopPath: DesktopFolder,
    /** The shared folder that holds it. */
    share: SharedFolder,
    /** The same folder on the machine (under the agent's run dir), mounted. */
    machinePath: z.string().max(4096),
  }),
);
export type ShareResolution = z.infer<typeof ShareResolution>;

export const shareMethods = {
  /** Adds (or changes) a shared folder of a machine; the folder must exist on this computer. */
  'machines.share': { params: ShareParams, result: SharedFolders },
  'machines.unshare': { params: UnshareParams, result: SharedFolders },
  'machines.shares': { params: lazySchema(() => z.strictObject({ machine: MachineName })), result: SharedFolders },
  /**
   * Mounts the shared folder holding a desktop path on the machine (reused when mounted) and says
   * where the machine sees the path; a path in no shared folder is refused with the command that
   * would share it.
   */
  'machines.resolveShare': { params: ShareResolveParams, result: ShareResolution },
} as const;

/**
 * The label that records, per container path, the desktop folder behind a bind mounted through a
 * share: `onggi.shared-folder:/app` = `/home/me/app → /run/onggi/shares/…`. The agent reads it back
 * into inspect's mounts (`desktopPath`); the window's Kernel tab and `onggi inspect` show that.
 */
export const SHARE_LABEL_PREFIX = 'onggi.shared-folder:';

const SHARE_LABEL_ARROW = ' → ';

/**
 * A bind of a desktop path made through the machine's share: the machine's side as the source (a
 * missing folder is the desktop's, never made on the machine), read-only when the share is, and
 * the label that keeps the mapping. One way for the CLI's `-v` and the window's run dialog.
 */
export function bindThroughShare<M extends { target: string; source?: string; readonly?: boolean }>(
  mount: M,
  share: ShareResolution,
): { mount: M & { source: string; createSource: false }; label: [string, string] } {
  return {
    mount: { ...mount, source: share.machinePath, createSource: false, ...(share.share.readOnly ? { readonly: true } : {}) },
    label: [`${SHARE_LABEL_PREFIX}${mount.target}`, `${share.desktopPath}${SHARE_LABEL_ARROW}${share.machinePath}`],
  };
}

/**
 * The desktop path behind a bind, from the container's labels: only when the label still names
 * this mount's machine source (so a label set by hand to something else is not believed).
 */
export function desktopPathOf(
  labels: Readonly<Record<string, string>> | undefined,
  mount: { target: string; source?: string },
): string | undefined {
  const value = labels?.[`${SHARE_LABEL_PREFIX}${mount.target}`];
  const suffix = `${SHARE_LABEL_ARROW}${mount.source ?? ''}`;
  if (value === undefined || mount.source === undefined || !value.endsWith(suffix) || value.length === suffix.length) return undefined;
  return value.slice(0, -suffix.length);
}
