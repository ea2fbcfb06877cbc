// Each running container's network namespace under a name `ip netns` knows (/run/netns/onggi-NAME),
// so `ip netns list`, `ip netns exec onggi-web ip addr` and the seeds' labs work on our
// containers as they do on namespaces made by hand. `ip netns attach` bind-mounts the process's
// /proc/PID/ns/net there (and makes /run/netns a shared mount first, as iproute2 always does);
// `ip netns delete` unmounts and removes it. The bind mount would keep a dead container's
// namespace alive, so every stop removes it, and a restarted agent removes the ones whose
// container is no longer running. Only names this agent made are ever removed or replaced: they
// are recorded (before `attach`, dropped after `delete`, so a crash between leaves the record a
// superset) in a file of the agent's state; another agent on the machine (a test's, one deployed
// over SSH to the same host) keeps its own.
//
// Registration runs beside the start, not in it: the container is running and reachable before
// its name exists (a spawn of `ip` on every start's critical path would cost what the structure
// issue works to save), and a stop waits for a registration still in flight before it removes.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import type { ActivityLog, ActivityScope } from '../activity/activity-log.js';
import { writeFileAtomic } from '../state/atomic-write.js';
import { coalescedSave } from '../state/coalesced-save.js';
import { runIpBatchEach } from './commands.js';
import { netnsInode } from './kernel.js';

/** Where iproute2 keeps named namespaces (its NETNS_RUN_DIR, fixed at build time). */
export const NETNS_RUN_DIR = '/run/netns';

/** The prefix a production agent uses; an agent under test gets one of its own (ONGGI_NETNS_PREFIX). */
export const DEFAULT_NETNS_PREFIX = 'onggi-';

/** A name `ip` accepts as a file name under /run/netns (container names are already [a-zA-Z0-9][a-zA-Z0-9_.-]*). */
const SAFE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** How long a registration waits for others starting with it to share one record write and one `ip` (see enqueue). */
const BATCH_WINDOW_MS = 20;

interface PendingName {
  name: string;
  pid: number;
  scope: ActivityScope;
  settle: (error?: Error) => void;
}

export class NetnsNames {
  /** Container id → the name registered for it and the registration (in flight or done). */
  private readonly registered = new Map<string, { name: string; done: Promise<void> }>();
  /** Registrations waiting for the next batch (see enqueue). */
  private readonly pending: PendingName[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  /** Every name this agent made and has not removed yet (the record file's content). */
  private owned = new Set<string>();
  private readonly dir = NETNS_RUN_DIR;
  /** The record written whole; registrations of containers starting together share writes. */
  private readonly saveRecord = coalescedSave(() =>
    // Not fsynced: a power loss also ends every namespace the names could hold.
    writeFileAtomic(this.record, JSON.stringify([...this.owned]), { durable: false }),
  );

  /** record: the file (in the agent's state) listing the names this agent made. */
  constructor(
    private readonly activity: ActivityLog,
    readonly prefix: string,
    private readonly record: string,
    private readonly log: (message: string, error: unknown) => void,
  ) {}

  nameFor(containerName: string): string | undefined {
    const name = `${this.prefix}${containerName}`;
    return SAFE.test(name) && name.length <= 255 ? name : undefined;
  }

  /** The name a running container's namespace is registered under, if any. */
  nameOf(containerId: string): string | undefined {
    return this.registered.get(containerId)?.name;
  }

  /** Registers the container's namespace in the background; failures go to the activity log and the daemon's. */
  register(containerId: string, containerName: string, pid: number): void {
    const name = this.nameFor(containerName);
    if (name === undefined) return;
    const scope: ActivityScope = { container: containerName };
    const previous = this.registered.get(containerId)?.done ?? Promise.resolve();
    const done = previous
      .then(
        () =>
          new Promise<void>((resolve, reject) =>
            this.enqueue({ name, pid, scope, settle: (error) => (error ? reject(error) : resolve()) }),
          ),
      )
      .then(
        () => undefined,
        (error: unknown) => this.log(`container ${containerName}: its network namespace could not be named ${name}`, error),
      );
    this.registered.set(containerId, { name, done });
  }

  /**
   * Registrations wait BATCH_WINDOW_MS for others: 100 containers starting together spawned 100
   * `ip netns attach` and rewrote the record about once each (a fork of the agent, an exec and a
   * new file per start, bench case 3); now a burst shares a few record writes and `ip` processes.
   */
  private enqueue(entry: PendingName): void {
    this.pending.push(entry);
    this.flushTimer ??= setTimeout(() => void this.flush(), BATCH_WINDOW_MS);
  }

  private async flush(): Promise<void> {
    this.flushTimer = undefined;
    const batch = this.pending.splice(0);
    const attach: PendingName[] = [];
    for (const entry of batch) {
      try {
        if (await this.needsAttach(entry)) attach.push(entry);
        else entry.settle();
      } catch (error) {
        entry.settle(error as Error);
      }
    }
    try {
      // Recorded before `attach`: a crash between leaves the record a superset, never a name we forgot.
      for (const { name } of attach) this.owned.add(name);
      if (attach.length > 0) await this.saveRecord();
    } catch (error) {
      for (const entry of attach) entry.settle(error as Error);
      return;
    }
    const errors = await runIpBatchEach(
      this.activity,
      attach.map(({ name, pid, scope }) => ({ line: ['netns', 'attach', name, String(pid)], scope })),
    ).catch((error: unknown) => attach.map(() => error as Error));
    for (const [index, entry] of attach.entries()) entry.settle(errors[index]);
  }

  /** False when the name already is this namespace; throws when it is someone else's; removes a stale one of ours. */
  private async needsAttach({ name, pid, scope }: PendingName): Promise<boolean> {
    // Already this namespace (an agent restarted beside its running containers): a bind-mounted
    // nsfs file stats as the namespace's own inode.
    const inode = await netnsInode(pid);
    // Absent is the usual answer: nothing registered under the name yet.
    const current = await stat(join(this.dir, name)).catch(() => undefined);
    if (current !== undefined && inode !== null && current.ino === inode) return false;
    if (current !== undefined) {
      // Someone else's name (made by hand, or by another agent): left alone.
      if (!this.owned.has(name)) throw new Error(`${join(this.dir, name)} exists and is not Onggi's`);
      // Ours, left by a container of the same name that ended while the agent was away.
      await this.removeName(name, scope);
    }
    return true;
  }

  /** Removes the container's name (after a registration still in flight). */
  async unregister(containerId: string, containerName: string): Promise<void> {
    const entry = this.registered.get(containerId);
    if (!entry) return;
    this.registered.delete(containerId);
    await entry.done;
    await this.removeName(entry.name, { container: containerName }).catch((error: unknown) =>
      this.log(`the network namespace name ${entry.name} could not be removed`, error),
    );
  }

  /** After the agent (re)started: names of ours without a running container go; running containers get theirs. */
  async reconcile(running: ReadonlyArray<{ id: string; name: string; pid: number }>): Promise<void> {
    this.owned = new Set(await this.readRecord());
    const wanted = new Map<string, { id: string; name: string; pid: number }>();
    for (const container of running) {
      const name = this.nameFor(container.name);
      if (name !== undefined) wanted.set(name, container);
    }
    for (const name of [...this.owned]) {
      if (!wanted.has(name))
        await this.removeName(name, {}).catch((error: unknown) =>
          this.log(`the stale network namespace name ${name} could not be removed`, error),
        );
    }
    for (const container of wanted.values()) this.register(container.id, container.name, container.pid);
    await Promise.all([...this.registered.values()].map((entry) => entry.done));
  }

  /** `ip netns delete NAME` when the name exists (a missing one is already what we want); then it is no longer ours. */
  private async removeName(name: string, scope: ActivityScope): Promise<void> {
    // A registration that failed (the name was someone else's) owns nothing to remove.
    if (!this.owned.has(name)) return;
    // Absent: already what we want (removed by hand, or never made).
    if ((await stat(join(this.dir, name)).catch(() => undefined)) !== undefined)
      await this.activity.run(['ip', 'netns', 'delete', name], scope);
    await this.own(name, false);
  }

  /** The names recorded by the last agent; none when there is no record or it cannot be read (then none are removed). */
  private async readRecord(): Promise<string[]> {
    let text: string;
    try {
      text = await readFile(this.record, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.log(`${this.record} cannot be read`, error);
      return [];
    }
    try {
      const parsed = z.array(z.string().max(255)).safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
      this.log(`${this.record} is not a list of names`, parsed.error);
    } catch (error) {
      this.log(`${this.record} is not JSON`, error);
    }
    return [];
  }

  private async own(name: string, owned: boolean): Promise<void> {
    if (this.owned.has(name) === owned) return;
    if (owned) this.owned.add(name);
    else this.owned.delete(name);
    await this.saveRecord();
  }
}
