// Docker's STATUS words for a container (`Up 5 seconds (healthy)`, `Exited (3) 2 minutes ago`):
// one formatter for the CLI's ps and the Docker API's container list.
import type { ContainerSummary } from './containers.js';

export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} seconds`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} minutes`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} hours`;
  return `${Math.round(seconds / 86_400)} days`;
}

/** Docker's note after `Up …`: ` (Paused)`, ` (healthy)`, ` (health: starting)`. */
function runningNote(c: ContainerSummary): string {
  if (c.paused) return ' (Paused)';
  if (c.health?.status === 'starting') return ' (health: starting)';
  return c.health ? ` (${c.health.status})` : '';
}

export function containerStatus(c: ContainerSummary): string {
  if (c.state === 'running') return `Up ${ago(c.startedAt)}${runningNote(c)}`;
  if (c.state === 'exited') return `Exited (${c.exitCode ?? '?'}) ${ago(c.finishedAt)} ago${c.oomKilled ? ' (OOM killed)' : ''}`;
  if (c.state === 'dead') {
    // Why it is dead (the agent could not recover it) belongs in the list: it says what to do.
    const why = c.error ?? 'could not be recovered';
    return `Dead: ${why.length > 80 ? `${why.slice(0, 79)}…` : why}`;
  }
  return c.state === 'created' ? (c.error ? `Created (start failed: ${c.error.slice(0, 60)})` : 'Created') : c.state;
}
