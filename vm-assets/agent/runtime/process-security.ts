// What a running container's first process may do, as the kernel says it (/proc/PID/status and
// its uid/gid maps), not as the spec asked: the Security section of inspect and the Kernel tab.
import { capabilityNames, type ProcessSecurity } from '../../../shared/capabilities.js';
import { readProcFile } from './proc.js';

const SECCOMP_MODES = ['disabled', 'strict', 'filter'] as const;

function field(status: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
}

/** `/proc/PID/uid_map` lines: inside outside count. */
export function parseIdMap(text: string): ProcessSecurity['uidMap'] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((parts) => parts.length === 3 && parts.every(Number.isFinite))
    .map(([inside = 0, outside = 0, count = 0]) => ({ inside, outside, count }));
}

/** Undefined when the process is gone (or /proc is not readable). */
export function readProcessSecurity(pid: number): ProcessSecurity | undefined {
  const status = readProcFile(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const masks = {
    effective: field(status, 'CapEff') ?? '0',
    permitted: field(status, 'CapPrm') ?? '0',
    bounding: field(status, 'CapBnd') ?? '0',
  };
  const filters = field(status, 'Seccomp_filters');
  return {
    pid,
    effective: capabilityNames(masks.effective),
    permitted: capabilityNames(masks.permitted),
    bounding: capabilityNames(masks.bounding),
    masks,
    seccomp: SECCOMP_MODES[Number(field(status, 'Seccomp') ?? 0)] ?? 'disabled',
    seccompFilters: filters === undefined ? null : Number(filters),
    noNewPrivs: field(status, 'NoNewPrivs') === '1',
    uidMap: parseIdMap(readProcFile(`/proc/${pid}/uid_map`) ?? ''),
    gidMap: parseIdMap(readProcFile(`/proc/${pid}/gid_map`) ?? ''),
  };
}
