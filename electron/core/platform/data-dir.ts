// The data folder shared by the app, the CLI and browser mode, made ready for use. Before the
// platform layer, the CLI and `onggi serve` kept their data in ~/.config/onggi on every OS while
// the app used Electron's userData; on macOS and Windows that old folder is moved once to the
// place the platform layer names, so a VM made by the CLI stays visible to the app.
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dataDir, desktopPath, type PlatformFacts } from './platform.js';

export interface DataDirMove {
  from: string;
  to: string;
}

/** Where the CLI kept its data before (XDG rules on every OS). */
export function legacyDataDir(facts: PlatformFacts): string {
  const p = desktopPath(facts);
  return p.join(facts.env.XDG_CONFIG_HOME || p.join(facts.homedir, '.config'), 'onggi');
}

/**
 * The data folder for this desktop, after moving the legacy one there when that is due: only on
 * macOS and Windows, only without ONGGI_HOME, only when the new folder does not exist yet (an
 * existing one is never merged into or overwritten). The move is one rename; across volumes
 * (EXDEV) the copy is made under a temporary name and renamed into place before the old folder is
 * removed, so at every instant one complete copy exists under a name Onggi reads.
 */
export function prepareDataDir(facts: PlatformFacts, onMove?: (move: DataDirMove) => void): string {
  const target = dataDir(facts);
  if (facts.os === 'linux' || facts.env.ONGGI_HOME) return target;
  const legacy = legacyDataDir(facts);
  const p = desktopPath(facts);
  if (!existsSync(legacy) || existsSync(target) || p.resolve(legacy) === p.resolve(target)) return target;
  moveDir(legacy, target, p.dirname(target));
  onMove?.({ from: legacy, to: target });
  return target;
}

function moveDir(from: string, to: string, parent: string): void {
  mkdirSync(parent, { recursive: true });
  try {
    renameSync(from, to);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Someone else moved it first (another Onggi process starting): theirs is the move.
    if (code === 'ENOENT' || code === 'EEXIST' || code === 'ENOTEMPTY') return;
    if (code !== 'EXDEV') throw error;
  }
  const temp = `${to}.moving-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  cpSync(from, temp, { recursive: true, preserveTimestamps: true, errorOnExist: true });
  try {
    renameSync(temp, to);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTEMPTY') return; // another process won: keep the old folder as it is
    throw error;
  }
  rmSync(from, { recursive: true, force: true });
}
