// A machine's list of shared desktop folders: what may be added, and which share holds a path.
// Paths are the desktop's own (posix or win32 by the platform layer); `~` is this account's home.
import { stat } from 'node:fs/promises';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { SharedFolder } from '../../../shared/shares.js';
import { desktopPath, expandHome, type PlatformFacts } from '../platform/platform.js';

type Facts = Pick<PlatformFacts, 'os' | 'homedir'>;

/** The absolute, normalized form of a desktop path the user typed (`~/app`, `C:\Users\me\app\`). */
export function desktopFolder(path: string, facts: Facts, field = 'params.path'): string {
  const p = desktopPath(facts);
  const expanded = expandHome(path, facts);
  if (!p.isAbsolute(expanded)) {
    throw new OnggiError(
      ErrorCode.InvalidParams,
      'invalid_params',
      `${path}: a folder of this computer must be an absolute path (or start with ~)`,
      field,
    );
  }
  const normalized = p.normalize(expanded);
  // No trailing separator, except for a root (`/`, `C:\`).
  return normalized.length > p.parse(normalized).root.length ? normalized.replace(/[\\/]+$/, '') : normalized;
}

/** The list with `path` shared (an existing folder of this computer); sharing it again changes read-only. */
export async function withShare(shares: readonly SharedFolder[], path: string, readOnly: boolean, facts: Facts): Promise<SharedFolder[]> {
  const folder = desktopFolder(path, facts);
  // absent or unreadable: refused just below as not a folder
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory())
    throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', `${folder} is not a folder on this computer`, 'params.path');
  const others = shares.filter((share) => !samePath(share.path, folder, facts));
  return [...others, { path: folder, readOnly }];
}

export function withoutShare(shares: readonly SharedFolder[], path: string, facts: Facts, machine: string): SharedFolder[] {
  const folder = desktopFolder(path, facts);
  const kept = shares.filter((share) => !samePath(share.path, folder, facts));
  if (kept.length === shares.length) {
    throw new OnggiError(ErrorCode.NotFound, 'not_found', `${folder} is not shared with ${machine}`, 'params.path');
  }
  return kept;
}

/** The share holding a desktop path, and the path's components below it; undefined when none does. */
export function shareHolding(
  shares: readonly SharedFolder[],
  path: string,
  facts: Facts,
): { share: SharedFolder; path: string; parts: string[] } | undefined {
  const p = desktopPath(facts);
  const folder = desktopFolder(path, facts);
  let best: { share: SharedFolder; path: string; parts: string[] } | undefined;
  for (const share of shares) {
    const rel = p.relative(share.path, folder);
    if (rel === '' || (!rel.startsWith('..') && !p.isAbsolute(rel))) {
      const parts = rel === '' ? [] : rel.split(p.sep);
      // The innermost share wins (its read-only setting is the one the user meant for that folder).
      if (!best || parts.length < best.parts.length) best = { share, path: folder, parts };
    }
  }
  return best;
}

/** The error for a desktop path in no shared folder: it names the command that shares it. */
export function notShared(machine: string, path: string, facts: Facts): OnggiError {
  const folder = desktopFolder(path, facts);
  return new OnggiError(
    ErrorCode.InvalidParams,
    'not_shared',
    `${folder} is not in a folder shared with ${machine}: share it first with \`onggi machine share ${machine} ${quoteArg(folder)}\` (add --read-only to keep the machine from writing), or on the machine's card in the window`,
    'params.path',
  );
}

function samePath(a: string, b: string, facts: Facts): boolean {
  return facts.os === 'win32' || facts.os === 'darwin' ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/** A path as the user would type it back in a shell (quoted when it holds blanks or quotes). */
function quoteArg(path: string): string {
  return /^[\w@%+=:,./\\~-]+$/.test(path) ? path : `"${path.replace(/"/g, '\\"')}"`;
}
