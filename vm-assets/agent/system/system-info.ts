// system.info, read from the kernel and the distro every time it is asked, never cached
// constants: the window shows what this machine is right now.
import { readFile } from 'node:fs/promises';
import { availableParallelism, hostname, machine } from 'node:os';
import type { MachineNamespaces, SystemInfo } from '../../../shared/system-info.js';
import { namespaceInodes } from '../runtime/proc.js';
import { detectCgroups } from './cgroups.js';
import { readOsRelease } from './os-release.js';

export interface AgentIdentity {
  version: string;
  buildId: string;
  startedAt: string;
}

const ARCH_NAMES: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', arm64: 'arm64', armv7l: 'arm', riscv64: 'riscv64' };

export function normalizeArch(unameMachine: string): string {
  return ARCH_NAMES[unameMachine] ?? unameMachine;
}

export function parseMemTotal(meminfo: string): number {
  const match = /^MemTotal:\s+(\d+)\s+kB$/m.exec(meminfo);
  return match?.[1] ? Number(match[1]) * 1024 : 0;
}

async function readTrimmed(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).trim();
}

/**
 * The machine's namespaces are PID 1's, not the agent's: the agent may sit in namespaces of its own
 * (a systemd unit's private mount namespace; a nested agent's netns), and "shared with the machine"
 * must mean what a login on the machine sees. PID 1's links need the agent to be root (ptrace
 * access); without them the agent's own are the best it knows, and it says so.
 */
export async function readMachineNamespaces(initPid = 1): Promise<MachineNamespaces> {
  const [init, agent] = await Promise.all([namespaceInodes(initPid), namespaceInodes(process.pid)]);
  return Object.keys(init).length > 0 ? { machine: init, machineFrom: 'init', agent } : { machine: agent, machineFrom: 'agent', agent };
}

export async function readSystemInfo(identity: AgentIdentity): Promise<SystemInfo> {
  const [kernelRelease, kernelVersion, uptime, meminfo, osRelease, cgroup, namespaces] = await Promise.all([
    readTrimmed('/proc/sys/kernel/osrelease'),
    readTrimmed('/proc/sys/kernel/version'),
    readTrimmed('/proc/uptime'),
    readFile('/proc/meminfo', 'utf8'),
    readOsRelease(),
    detectCgroups(),
    readMachineNamespaces(),
  ]);
  const unameMachine = machine();
  return {
    hostname: hostname(),
    kernelRelease,
    kernelVersion,
    machine: unameMachine,
    arch: normalizeArch(unameMachine),
    distro: {
      id: osRelease.ID ?? 'linux',
      name: osRelease.NAME ?? 'Linux',
      version: osRelease.VERSION_ID ?? '',
      prettyName: osRelease.PRETTY_NAME ?? osRelease.NAME ?? 'Linux',
    },
    cgroup,
    cpus: availableParallelism(),
    memoryBytes: parseMemTotal(meminfo),
    uptimeSeconds: Number(uptime.split(/\s+/)[0] ?? 0),
    agent: { version: identity.version, buildId: identity.buildId, pid: process.pid, startedAt: identity.startedAt },
    namespaces,
  };
}
