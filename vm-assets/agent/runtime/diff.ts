// `diff`: what a container changed against its image, read from the overlay's upper directory.
// The upper dir holds every file the container created or changed (A or C, by whether the image
// has it), a 0:0 character device for every path it deleted (D), and the xattr
// trusted.overlay.opaque=y on a directory it removed and made again (the image's entries in it are
// gone: each one a D).
import { execFile } from 'node:child_process';
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FileChange } from '../../../shared/container-verbs.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { byCodeUnits } from '../../../shared/code-unit-order.js';

const execFileP = promisify(execFile);

export function isWhiteout(stat: Stats): boolean {
  return stat.isCharacterDevice() && stat.rdev === 0;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    // Absent (or under a non-directory): not there.
    return undefined;
  }
}

/** Whether the image (its layers, top first, in overlay form) has `rel`: the topmost layer that says anything decides. */
export function inImage(layersTopFirst: readonly string[], rel: string): boolean {
  const parts = rel.split('/').filter(Boolean);
  for (const layer of layersTopFirst) {
    for (let depth = 1; depth <= parts.length; depth += 1) {
      const stat = lstatOrUndefined(join(layer, ...parts.slice(0, depth)));
      if (stat === undefined) break;
      if (isWhiteout(stat)) return false;
      if (depth === parts.length) return true;
    }
  }
  return false;
}

/** The directories under `upper` marked opaque, relative (one getfattr for the whole tree; Node cannot read xattrs). */
export async function opaqueDirs(upper: string): Promise<Set<string>> {
  let stdout: string;
  try {
    ({ stdout } = await execFileP(
      'getfattr',
      ['-R', '-P', '--absolute-names', '-e', 'text', '-m', '^trusted\\.overlay\\.opaque$', '-d', upper],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    ));
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string };
    if (failure.code === 'ENOENT')
      throw new OnggiError(
        ErrorCode.OperationFailed,
        'operation_failed',
        'reading overlay markers needs getfattr (Debian package attr) on the machine',
      );
    // getfattr exits non-zero when one file vanished under it; what it printed still stands.
    stdout = failure.stdout ?? '';
  }
  const dirs = new Set<string>();
  let file: string | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) file = unescapeGetfattr(line.slice('# file: '.length));
    else if (line === 'trusted.overlay.opaque="y"' && file !== undefined) dirs.add(file.slice(upper.length).replace(/^\/+/, ''));
  }
  return dirs;
}

/** getfattr writes unusual bytes in a name as \NNN (octal). */
function unescapeGetfattr(text: string): string {
  return Buffer.from(
    text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))),
    'latin1',
  ).toString('utf8');
}

export async function changes(upper: string, layersTopFirst: readonly string[]): Promise<FileChange[]> {
  const opaque = await opaqueDirs(upper);
  const out: FileChange[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(upper, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const stat = lstatSync(join(upper, path));
      if (isWhiteout(stat)) {
        out.push({ kind: 'D', path: `/${path}` });
        continue;
      }
      const existed = inImage(layersTopFirst, path);
      out.push({ kind: existed ? 'C' : 'A', path: `/${path}` });
      if (!stat.isDirectory()) continue;
      if (opaque.has(path) && existed) {
        // The image's entries that the container did not make again are gone.
        const mine = new Set(readdirSync(join(upper, path)));
        const theirs = new Set<string>();
        for (const layer of layersTopFirst)
          for (const entry of lstatOrUndefined(join(layer, path))?.isDirectory() ? readdirSync(join(layer, path)) : []) theirs.add(entry);
        for (const entry of [...theirs].sort())
          if (!mine.has(entry) && inImage(layersTopFirst, `${path}/${entry}`)) out.push({ kind: 'D', path: `/${path}/${entry}` });
      }
      walk(path);
    }
  };
  walk('');
  return out.sort((a, b) => byCodeUnits(a.path, b.path));
}
