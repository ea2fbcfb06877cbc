// The agent's memory of its networks: each network, and for each container the networks it is
// attached to with the address, MAC and veth names it was given (the IPAM: an address is taken
// exactly while an attachment holds it). One file, written atomically after every change, so a
// daemon killed at any instant restarts with a consistent picture to reconcile the kernel against.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as z from 'zod';
import { lazySchema } from '../../../shared/lazy-schema.js';
import { writeFileAtomic } from '../state/atomic-write.js';

export const NetworkRecord = lazySchema(() =>
  z.object({
    id: z.string(),
    name: z.string(),
    bridge: z.string(),
    subnet: z.string(),
    gateway: z.string(),
    isDefault: z.boolean(),
    createdAt: z.string(),
    /**
     * Whether its bridge and rules exist in the kernel. A user network is made at once; the default
     * network only when a container first needs it, so starting the agent on a machine changes
     * nothing in its network until a container runs.
     */
    materialized: z.boolean().default(true),
  }),
);
export type NetworkRecord = z.infer<typeof NetworkRecord>;

export const Attachment = lazySchema(() =>
  z.object({
    networkId: z.string(),
    ip: z.string(),
    mac: z.string(),
    /** eth0, eth1, … inside the container. */
    iface: z.string(),
    /** The veth end on the machine, a port of the bridge. */
    hostVeth: z.string(),
    /** The container end's name while it is still on the machine side, before it moves into the container. */
    peerTemp: z.string(),
    /** `pending`: a connect to a running container that had not finished (rolled back on restart). */
    phase: z.enum(['pending', 'ready']),
    /** More names it has on this network (network-scoped, as Docker's aliases). */
    aliases: z.array(z.string()).optional(),
  }),
);
export type Attachment = z.infer<typeof Attachment>;

export const PortRecord = lazySchema(() =>
  z.object({
    hostIp: z.string(),
    hostPort: z.number().int(),
    containerPort: z.number().int(),
    protocol: z.enum(['tcp', 'udp']),
  }),
);
export type PortRecord = z.infer<typeof PortRecord>;

export const ContainerNetworks = lazySchema(() =>
  z.object({
    name: z.string(),
    hostname: z.string(),
    ports: z.array(PortRecord),
    attachments: z.array(Attachment),
    /** The container's --add-host lines, kept here so every rewrite of its hosts file has them. */
    extraHosts: z.array(z.object({ ip: z.string(), names: z.array(z.string()) })).optional(),
  }),
);
export type ContainerNetworks = z.infer<typeof ContainerNetworks>;

export const NetworkState = lazySchema(() =>
  z.object({
    version: z.literal(1),
    networks: z.array(NetworkRecord),
    containers: z.record(z.string(), ContainerNetworks),
    /**
     * Set (and saved) before this agent first changes the kernel's network, never cleared. Until
     * then it reaps nothing: bridges, veths or rules named like ours belong to another agent
     * sharing this netns (the test agents that run with ONGGI_DEFAULT_NETWORK=none).
     */
    madeKernelChanges: z.boolean().default(false),
  }),
);
export type NetworkState = z.infer<typeof NetworkState>;

export function emptyState(): NetworkState {
  return { version: 1, networks: [], containers: {}, madeKernelChanges: false };
}

export class NetworkStore {
  constructor(readonly path: string) {}

  async load(): Promise<NetworkState> {
    const text = await readFile(this.path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (text === undefined) return emptyState();
    return NetworkState.parse(JSON.parse(text));
  }

  async save(state: NetworkState): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path, `${JSON.stringify(state, null, 2)}\n`);
  }
}
