// `top`: every process in the container's cgroup, numbered as the container sees it (the last
// NSpid of /proc/PID/status) and as the machine does, with its user and command line.
import { readFileSync } from 'node:fs';
import type { ContainerProcess } from '../../../shared/container-verbs.js';
import { readProcFile } from './proc.js';
import { resolveInRootfs } from './rootfs-path.js';

interface Status {
  nspid: number;
  ppid: number;
  uid: number;
}

function status(hostPid: number): Status | undefined {
  const text = readProcFile(`/proc/${hostPid}/status`);
  if (text === undefined) return undefined;
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  const nspid = field('NSpid');
  return {
    nspid: Number(nspid[nspid.length - 1] ?? hostPid),
    ppid: Number(field('PPid')[0] ?? 0),
    // The effective uid, as ps shows it.
    uid: Number(field('Uid')[1] ?? 0),
  };
}

/** uid → name from the container's own /etc/passwd (resolved inside its rootfs; never the machine's). */
function userNames(rootfs: string): Map<number, string> {
  let text = '';
  try {
    text = readFileSync(resolveInRootfs(rootfs, '/etc/passwd'), 'utf8');
  } catch {
    // An image without /etc/passwd names nobody: uids are shown as numbers, as ps does.
  }
  const names = new Map<number, string>();
  for (const fields of text.split('\n').map((line) => line.split(':')))
    if (fields[0] && /^\d+$/.test(fields[2] ?? '') && !names.has(Number(fields[2]))) names.set(Number(fields[2]), fields[0]);
  return names;
}

export function listProcesses(hostPids: readonly number[], rootfs: string): ContainerProcess[] {
  const names = userNames(rootfs);
  const seen = new Map<number, Status>();
  for (const pid of hostPids) {
    const info = status(pid);
    if (info) seen.set(pid, info);
  }
  const processes: ContainerProcess[] = [];
  for (const [hostPid, info] of seen) {
    const cmdline = (readProcFile(`/proc/${hostPid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
    const comm = (readProcFile(`/proc/${hostPid}/comm`) ?? '').trim();
    processes.push({
      pid: info.nspid,
      hostPid,
      // A parent outside the container (its supervisor) is 0, as the container's own ps shows.
      ppid: seen.get(info.ppid)?.nspid ?? 0,
      uid: info.uid,
      user: names.get(info.uid) ?? String(info.uid),
      command: cmdline || `[${comm}]`,
    });
  }
  return processes.sort((a, b) => a.pid - b.pid);
}
