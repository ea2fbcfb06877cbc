import type { ContainerStats, ContainerSummary } from '../../shared/containers.js';
import { CLOCK_TOLERANCE_MS, type MachineClock } from '../../shared/clock.js';
import type { MachineInfo } from '../../shared/host-api.js';
import { formatPortMappings } from '../../shared/units.js';
import { ago, containerStatus } from '../../shared/container-status.js';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return [days ? `${days}d` : '', hours ? `${hours}h` : '', `${minutes}m`].filter(Boolean).join(' ');
}

/** `key: value` lines with the keys aligned, like `docker info`. */
export function formatInfo(machine: string, info: MachineInfo): string {
  const v1 = info.cgroup.controllers.filter((c) => c.version === 1).map((c) => c.name);
  const v2 = info.cgroup.controllers.filter((c) => c.version === 2).map((c) => c.name);
  const rows: [string, string][] = [
    ['Machine', machine],
    ['Hostname', info.hostname],
    ['OS', info.distro.prettyName],
    ['Kernel', `${info.kernelRelease} (${info.kernelVersion})`],
    ['Architecture', `${info.machine} (${info.arch})`],
    ['CPUs', String(info.cpus)],
    ['Memory', formatBytes(info.memoryBytes)],
    ['Uptime', formatDuration(info.uptimeSeconds)],
    ['Cgroup version', `${info.cgroup.version} (${info.cgroup.mode}, /sys/fs/cgroup is ${info.cgroup.rootFsType})`],
    ['Cgroup v1 controllers', v1.join(' ') || '-'],
    ['Cgroup v2 controllers', v2.join(' ') || '-'],
    ['Agent', `${info.agent.version} build ${info.agent.buildId.slice(0, 12)} pid ${info.agent.pid}`],
    ...(info.clock ? [['Clock', formatClock(info.clock)] as [string, string]] : []),
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${value}`).join('\n');
}

/** `+0.004 s (within 1 s of this computer)`, or how far off it is and what Onggi did about it. */
export function formatClock(clock: MachineClock): string {
  const seconds = (ms: number): string => `${ms >= 0 ? '+' : '-'}${(Math.abs(ms) / 1000).toFixed(3)} s`;
  const off = Math.abs(clock.offsetMs) > CLOCK_TOLERANCE_MS;
  const parts = [`${seconds(clock.offsetMs)} against this computer (±${Math.ceil(clock.rttMs / 2)} ms)`];
  if (clock.corrected) parts.push(`stepped from ${seconds(clock.corrected.offsetBeforeMs)} by ${clock.corrected.method}`);
  if (clock.error) parts.push(clock.error);
  else if (off && clock.policy === 'report')
    parts.push('not corrected: the machine keeps its own time (add it with --clock correct if Onggi runs it)');
  return parts.join('; ');
}

/** `docker ps`'s table. */
export function formatContainerTable(list: readonly ContainerSummary[]): string {
  const rows = [
    ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
    ...list.map((c) => {
      const command = c.command.join(' ');
      return [
        c.id.slice(0, 12),
        c.image,
        `"${command.length > 20 ? `${command.slice(0, 19)}…` : command}"`,
        `${ago(c.createdAt)} ago`,
        containerStatus(c),
        formatPortMappings(c.ports),
        c.name,
      ];
    }),
  ];
  return formatTable(rows);
}

/** Columns padded to their widest cell, three spaces apart, as Docker prints its tables. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return (
    rows
      .map((row) =>
        row
          .map((cell, column) => cell.padEnd((widths[column] ?? 0) + 3))
          .join('')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export function formatStats(container: string, stats: ContainerStats): string {
  const limit = (value: number | null, format: (n: number) => string) => (value === null ? 'no limit' : format(value));
  return (
    [
      `Container: ${container}`,
      `CPU time:  ${(stats.cpu.usageNs / 1e9).toFixed(3)} s (limit ${stats.cpu.limitCpus ?? 'none'} cpus)`,
      `Memory:    ${formatBytes(stats.memory.usage)} / ${limit(stats.memory.limit, formatBytes)}`,
      `PIDs:      ${stats.pids.current} / ${limit(stats.pids.limit, String)}`,
    ].join('\n') + '\n'
  );
}
