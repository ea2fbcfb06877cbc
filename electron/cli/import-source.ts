// Where the tarball of `onggi image import FILE` is: a file on this computer (uploaded to a remote
// machine first) or a path on the machine. Each is read with its own path rules: the desktop's
// (`C:\data\x.tar`, relative to the current folder) for a desktop file, POSIX for the machine's —
// never resolved against the desktop's current folder (on Windows `/srv/x.tar` would become
// `C:\srv\x.tar`, a path the machine does not have).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { OnggiError } from '../../shared/errors.js';
import { ErrorCode } from '../../shared/jsonrpc.js';
import { desktopPath, type PlatformFacts } from '../core/platform/platform.js';

export type ImportSource = { where: 'desktop'; path: string } | { where: 'machine'; path: string };

export interface ImportSourceContext {
  /** The machine importing; `local` is this computer itself (Linux only). */
  machine: string;
  facts: Pick<PlatformFacts, 'os'>;
  /** The desktop's current folder. */
  cwd: string;
  /** Whether a desktop path is a regular file (default: stat). */
  isFile?: (file: string) => Promise<boolean>;
}

export async function importSource(file: string, context: ImportSourceContext): Promise<ImportSource> {
  const desktop = desktopPath(context.facts);
  const onDesktop = desktop.resolve(context.cwd, file);
  // The local machine's files are this computer's: the desktop's rules are the machine's.
  if (context.machine === 'local') return { where: 'machine', path: onDesktop };
  const isFile =
    context.isFile ??
    ((candidate: string) =>
      stat(candidate).then(
        (info) => info.isFile(),
        () => false,
      ));
  if (await isFile(onDesktop)) return { where: 'desktop', path: onDesktop };
  if (!path.posix.isAbsolute(file)) {
    throw new OnggiError(
      ErrorCode.InvalidParams,
      'file_not_found',
      `${onDesktop} is not a file on this computer, and a path on the machine must be absolute (e.g. /srv/image.tar)`,
      'file',
    );
  }
  return { where: 'machine', path: path.posix.normalize(file) };
}
