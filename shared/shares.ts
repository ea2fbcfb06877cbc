// Desktop folders a machine may see (Docker Desktop's "file sharing"): stored with the machine's
// record, served by the host core over the machine's SSH connection (electron/core/shares/).
import * as z from 'zod';
import { MachineName } from './names.js';

/** A folder of this computer, absolute in the desktop's own syntax (`/home/me/app`, `C:\Users\me\app`). */
export const DesktopFolder = z
  .string()
  .min(1, 'must not be empty')
  .max(4096)
  .refine((path) => !path.includes('\0'), 'must not contain NUL');

export const SharedFolder = z.strictObject({
  path: DesktopFolder,
  readOnly: z.boolean().default(false),
});
export type SharedFolder = z.infer<typeof SharedFolder>;

export const SharedFolders = z.array(SharedFolder).max(64);

export const ShareParams = z.strictObject({ machine: MachineName, path: DesktopFolder, readOnly: z.boolean().optional() });
export const UnshareParams = z.strictObject({ machine: MachineName, path: DesktopFolder });

/** A desktop path resolved for a container's bind mount: where the machine sees it. */
export const ShareResolveParams = z.strictObject({ machine: MachineName, path: DesktopFolder });
export const ShareResolution = z.strictObject({
  desktopPath: DesktopFolder,
  /** The shared folder that holds it. */
  share: SharedFolder,
  /** The same folder on the machine (under the agent's run dir), mounted. */
  machinePath: z.string().max(4096),
});
export type ShareResolution = z.infer<typeof ShareResolution>;

export const shareMethods = {
  /** Adds (or changes) a shared folder of a machine; the folder must exist on this computer. */
  'machines.share': { params: ShareParams, result: SharedFolders },
  'machines.unshare': { params: UnshareParams, result: SharedFolders },
  'machines.shares': { params: z.strictObject({ machine: MachineName }), result: SharedFolders },
  /**
   * Mounts the shared folder holding a desktop path on the machine (reused when mounted) and says
   * where the machine sees the path; a path in no shared folder is refused with the command that
   * would share it.
   */
  'machines.resolveShare': { params: ShareResolveParams, result: ShareResolution },
} as const;
