// Name resolution between containers: each container gets an /etc/hosts the agent keeps, listing
// its own addresses and the containers that share a user network with it. The file lives in the
// agent's state dir and is bind-mounted over the container's /etc/hosts before the container runs
// anything, so later updates are plain writes to a file the agent owns — never a write through the
// container's (untrusted, changeable) root filesystem.
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { splitHostMapping } from '../../../shared/run-options.js';
import type { ContainerNetworks, NetworkState } from './state.js';

export interface HostsEntry {
  ip: string;
  names: string[];
}

/** `extra`: the container's --add-host lines, after localhost as Docker writes them. */
export function renderHosts(own: readonly HostsEntry[], peers: readonly HostsEntry[], extra: readonly HostsEntry[] = []): string {
  const lines = ['# managed by onggi: rewritten when containers join or leave its networks', '127.0.0.1\tlocalhost'];
  lines.push('::1\tlocalhost ip6-localhost ip6-loopback');
  for (const entry of [...extra, ...own, ...peers]) lines.push(`${entry.ip}\t${[...new Set(entry.names)].join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** `--add-host NAME:IP` lines (checked by the spec's schema) as hosts entries, one per line as given. */
export function extraHostsEntries(mappings: readonly string[]): HostsEntry[] {
  return mappings.map((mapping) => {
    const { name, ip } = splitHostMapping(mapping);
    return { ip, names: [name] };
  });
}

/** Rewrites the file in place (same inode), so the bind mount in a running container sees the new content. */
export async function writeHostsFile(path: string, content: string): Promise<void> {
  const handle = await open(path, 'w', 0o644);
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

export async function removeHostsFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** Who is on which network, as the hosts files need it: the records, and which containers run (id → pid). */
export interface HostsView {
  state: NetworkState;
  active: ReadonlyMap<string, number>;
}

/** The per-container hosts files under one directory, rewritten only when their content changes. */
export class HostsFiles {
  private readonly written = new Map<string, string>();

  constructor(readonly dir: string) {}

  path(id: string): string {
    return join(this.dir, id);
  }

  /** Makes this container's file if it is missing (keeping its inode and content if not), for the helper to bind. */
  async prepare(id: string): Promise<string> {
    const path = this.path(id);
    // 'a': created when absent, never truncated (a running container's bind may hold it).
    await (await open(path, 'a', 0o644)).close();
    return path;
  }

  /** Rewrites the hosts files of these containers when their content changed (force: even when not running, or unchanged). */
  async update(view: HostsView, ids: readonly string[], force = false): Promise<void> {
    for (const id of new Set(ids)) {
      const membership = view.state.containers[id];
      if (!membership || membership.attachments.length === 0 || (!view.active.has(id) && !force)) continue;
      const content = renderHosts(ownEntries(membership), peerEntries(view, id), membership.extraHosts);
      if (!force && this.written.get(id) === content) continue;
      await writeHostsFile(this.path(id), content);
      this.written.set(id, content);
    }
  }

  async remove(id: string): Promise<void> {
    this.written.delete(id);
    await removeHostsFile(this.path(id));
  }
}

function ownEntries(membership: ContainerNetworks): HostsEntry[] {
  return membership.attachments
    .filter((a) => a.phase === 'ready')
    .map((a) => ({ ip: a.ip, names: [membership.hostname, membership.name, ...(a.aliases ?? [])] }));
}

const isUserNetwork = (state: NetworkState, networkId: string) => !state.networks.find((n) => n.id === networkId)?.isDefault;

/** Containers on the same user network (the default bridge, as Docker's, has no names). */
function peerEntries({ state, active }: HostsView, id: string): HostsEntry[] {
  const mine = new Set(
    (state.containers[id]?.attachments ?? [])
      .filter((a) => a.phase === 'ready' && isUserNetwork(state, a.networkId))
      .map((a) => a.networkId),
  );
  const entries: HostsEntry[] = [];
  for (const [otherId, other] of Object.entries(state.containers)) {
    if (otherId === id || !active.has(otherId)) continue;
    for (const a of other.attachments)
      if (a.phase === 'ready' && mine.has(a.networkId))
        entries.push({ ip: a.ip, names: [other.name, other.hostname, ...(a.aliases ?? [])] });
  }
  return entries;
}

/** Active containers that share a user network with this one (itself included). */
export function sharingWith({ state, active }: HostsView, id: string): string[] {
  const mine = new Set((state.containers[id]?.attachments ?? []).map((a) => a.networkId));
  return [...active.keys()].filter((other) =>
    (state.containers[other]?.attachments ?? []).some((a) => mine.has(a.networkId) && isUserNetwork(state, a.networkId)),
  );
}
