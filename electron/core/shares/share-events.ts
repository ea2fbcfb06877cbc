// Desktop edits reach inotify watchers on the machine (dev servers in watch mode inside containers).
// A FUSE mount gives no inotify of changes made elsewhere: the machine's kernel learns of a change only when something on the
// machine touches the file. So the desktop watches the shared folder (fs.watch, recursive: Linux
// since Node 20, macOS and Windows natively) and, for each changed path, the machine sets the
// path's times on the share's mount to what they are on the desktop: the kernel there emits IN_ATTRIB
// to every watcher of that inode (a container's bind is the same inode), and sharefs drops its cached
// attributes, so the next read sees the new content. The desktop side takes a SETSTAT that changes
// nothing as a no-op (sftp-server.ts), so the touch neither changes the file nor echoes back here.
//
// A path removed on the desktop has nothing to touch: the machine's kernel would keep answering
// `stat` from its cached entry (share-mount.ts caches entries and attributes long, for the stat
// storms). The machine drops it instead by removing it through the mount, which the desktop
// answers "done" without touching its disk (desktop-removals.ts): the kernel forgets the entry
// (and sharefs its listing of the folder), and watchers there see IN_DELETE.
//
// The touches run in one long-lived process per machine connection: the deployed agent's Node,
// as root, reading one JSON line `{path, atime, mtime}` or `{path, gone}` per path (the paths are
// ours: the mount point joined with a path the desktop reported under the shared folder). While
// the link is down the lines wait here and go out on the next connection; on the machine a touch
// that fails other than ENOENT (the share not served yet) is tried again for a while.
import { watch, type FSWatcher } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import type { ClientChannel } from 'ssh2';
import type { SharedFolder } from '../../../shared/shares.js';
import { knownSudoPassword, readsSudoPassword, sudoInput } from '../deploy/sudo.js';
import { shellCommand } from '../machines/ssh/quote.js';
import type { ShareMachine } from './share-mount.js';
import type { ShareRemovals } from './machine-removals.js';
import { desktopPath, type PlatformFacts } from '../platform/platform.js';

/** Events within this window are sent together (an editor's save is several events). */
const BATCH_MS = 30;
/** A touch failing because the share is not served yet is tried again this often, this many times. */
const RETRY_MS = 1000;
const RETRIES = 15;

const TOUCH_SCRIPT = [
  "const fs = require('fs');",
  'const touch = (t, tries) => {',
  '  try { fs.utimesSync(t.path, t.atime, t.mtime); }',
  `  catch (e) { if (e.code !== 'ENOENT' && tries > 0) setTimeout(() => touch(t, tries - 1), ${RETRY_MS}); }`,
  '};',
  // A folder is dropped with rmdir (unlink says EISDIR); ENOENT: the kernel had no entry to drop.
  'const drop = (t, tries) => {',
  "  try { try { fs.unlinkSync(t.path); } catch (e) { if (e.code === 'EISDIR') fs.rmdirSync(t.path); else throw e; } }",
  `  catch (e) { if (!['ENOENT', 'EACCES', 'ENOTEMPTY'].includes(e.code) && tries > 0) setTimeout(() => drop(t, tries - 1), ${RETRY_MS}); }`,
  '};',
  "require('readline').createInterface({ input: process.stdin }).on('line', (line) => {",
  `  try { const t = JSON.parse(line); if (t.gone) drop(t, ${RETRIES}); else touch(t, ${RETRIES}); } catch {}`,
  '});',
].join('\n');

/** A line for the machine; `drops`: the desktop path it drops (desktop-removals.ts). */
interface Line {
  json: string;
  drops?: string;
}

interface Watched {
  share: SharedFolder;
  mountpoint: string;
  watcher: TreeWatcher;
}

/**
 * A folder tree's changes, as paths relative to its root. On Linux one inotify watch per directory
 * (a directory's watch reports its entries): Node's own `recursive` there watches every file too —
 * 20,202 watches for a tree of 200 folders × 100 files, measured, and the setup crawled. macOS
 * (FSEvents) and Windows (ReadDirectoryChangesW) watch a tree natively.
 */
class TreeWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly facts: Pick<PlatformFacts, 'os'>,
    private readonly onChange: (relative: string) => void,
  ) {
    if (facts.os === 'linux') void this.add('');
    else this.watchDir('', true);
  }

  close(): void {
    this.closed = true;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private async add(relative: string): Promise<void> {
    if (this.closed || this.watchers.has(relative)) return;
    this.watchDir(relative, false);
    const p = desktopPath(this.facts);
    // gone already: its parent's watch reported it
    const entries = await readdir(p.join(this.root, relative), { withFileTypes: true }).catch(() => []);
    // Links are not followed: a linked folder may lie outside the share.
    await Promise.all(entries.filter((entry) => entry.isDirectory()).map((entry) => this.add(p.join(relative, entry.name))));
  }

  private watchDir(relative: string, recursive: boolean): void {
    const p = desktopPath(this.facts);
    let watcher: FSWatcher;
    try {
      watcher = watch(p.join(this.root, relative), { recursive }, (event, name) => {
        if (!name) return;
        const changed = p.join(relative, name.toString());
        this.onChange(changed);
        // A folder made (or moved in) is watched too; one removed ends its own watch ('error'/close).
        if (!recursive && event === 'rename') {
          void lstat(p.join(this.root, changed)).then(
            (stats) => (stats.isDirectory() ? this.add(changed) : undefined),
            () => undefined, // removed: nothing to watch
          );
        }
      });
    } catch {
      return; // removed between readdir and watch: its parent's watch reported it
    }
    watcher.on('error', () => {
      watcher.close();
      this.watchers.delete(relative);
    });
    this.watchers.set(relative, watcher);
  }
}

export class ShareEvents {
  private readonly watched = new Map<string, Watched>();
  private toucher: { connection: ShareMachine['connection']; channel: ClientChannel } | undefined;
  private pending = new Map<string, string>();
  /** Lines not sent (the link was down), by path: the latest per path. */
  private held = new Map<string, Line>();
  private timer: NodeJS.Timeout | undefined;
  private target: ShareMachine | undefined;
  /** Paths forwarded so far (tests and diagnostics). */
  forwarded = 0;

  constructor(
    private readonly facts: Pick<PlatformFacts, 'os'>,
    /** The machine's notes of removals, shared with its share servers. */
    private readonly removals: ShareRemovals,
  ) {}

  /** Forwards the share's desktop events to its mount on the machine (once per share). */
  watch(share: SharedFolder, mountpoint: string, target: ShareMachine): void {
    this.target = target;
    if (this.watched.has(share.path)) return;
    const watcher = new TreeWatcher(share.path, this.facts, (relative) => this.queue(share, mountpoint, relative));
    this.watched.set(share.path, { share, mountpoint, watcher });
  }

  unwatch(path: string): void {
    this.watched.get(path)?.watcher.close();
    this.watched.delete(path);
  }

  /** The machine's connection changed: touches go through the new one, those held first. */
  retarget(target: ShareMachine): void {
    this.target = target;
    if (this.held.size > 0) void this.send(new Map());
  }

  close(): void {
    for (const path of [...this.watched.keys()]) this.unwatch(path);
    clearTimeout(this.timer);
    this.toucher?.channel.close();
    this.toucher = undefined;
  }

  private queue(share: SharedFolder, mountpoint: string, name: string): void {
    const p = desktopPath(this.facts);
    const parts = name.split(p.sep).filter((part) => part !== '' && part !== '.');
    if (parts.includes('..')) return;
    const local = p.join(share.path, ...parts);
    const remote = [mountpoint, ...parts].join('/');
    this.pending.set(remote, local);
    // The folder holding it too: a new or removed name is a change of its directory.
    if (parts.length > 0) this.pending.set([mountpoint, ...parts.slice(0, -1)].join('/'), p.join(share.path, ...parts.slice(0, -1)));
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, BATCH_MS);
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    const lines = new Map<string, Line>();
    for (const [remote, local] of batch) {
      // gone on the desktop: the machine drops it (the module's comment)
      const stats = await lstat(local).catch(() => undefined);
      if (!stats) {
        // the machine's own removal: its kernel knows
        if (!this.removals.machine.removedLately(local))
          lines.set(remote, { json: JSON.stringify({ path: remote, gone: true }), drops: local });
        continue;
      }
      this.removals.machine.forget(local);
      if (!stats.isSymbolicLink()) {
        // a link is not touched: utimes would follow it
        lines.set(remote, {
          json: JSON.stringify({ path: remote, atime: Math.floor(stats.atimeMs / 1000), mtime: Math.floor(stats.mtimeMs / 1000) }),
        });
      }
    }
    await this.send(lines);
  }

  private async send(lines: Map<string, Line>): Promise<void> {
    const all = new Map([...this.held, ...lines]);
    this.held = new Map();
    if (all.size === 0) return;
    // link down: the lines are held below and go with the next connection
    const channel = await this.channel().catch(() => undefined);
    if (!channel) {
      this.held = new Map([...all, ...this.held]);
      return;
    }
    for (const line of all.values()) if (line.drops !== undefined) this.removals.desktop.expect(line.drops);
    channel.write(`${[...all.values()].map((line) => line.json).join('\n')}\n`);
    this.forwarded += all.size;
  }

  private async channel(): Promise<ClientChannel> {
    const target = this.target;
    if (!target) throw new Error('no machine');
    if (this.toucher && this.toucher.connection === target.connection && !target.connection.closed) return this.toucher.channel;
    const { connection, paths } = target;
    const channel = await connection.execChannel(shellCommand([...paths.privilege, paths.node, '-e', TOUCH_SCRIPT]));
    const password = readsSudoPassword(paths.privilege) ? knownSudoPassword(connection) : undefined;
    if (password !== undefined) channel.write(sudoInput(password));
    channel.on('close', () => {
      if (this.toucher?.channel === channel) this.toucher = undefined;
    });
    channel.resume(); // it prints nothing; never let its output stall the channel
    this.toucher = { connection, channel };
    return channel;
  }
}
