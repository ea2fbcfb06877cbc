import type { ContainerState, ContainerSummary } from '../../../shared/containers.js';
import { useT, type MessageKey } from '../i18n';

const labels: Record<ContainerState, MessageKey> = {
  created: 'containerState.created',
  running: 'containerState.running',
  exited: 'containerState.exited',
  dead: 'containerState.dead',
};

export function containerTone(container: Pick<ContainerSummary, 'state' | 'exitCode' | 'oomKilled'>): 'ok' | 'idle' | 'bad' | 'busy' {
  if (container.state === 'running') return 'ok';
  if (container.state === 'dead' || container.oomKilled) return 'bad';
  if (container.state === 'exited' && container.exitCode !== null && container.exitCode !== 0) return 'bad';
  if (container.state === 'created') return 'busy';
  return 'idle';
}

/**
 * The state as a coloured badge: `Running`, `Exited (137)`; an OOM kill is a badge of its own
 * beside it, so the two stack in the list's narrow State column instead of one being cut off.
 */
export function ContainerStateBadge({
  container,
}: {
  container: Pick<ContainerSummary, 'state' | 'exitCode' | 'oomKilled'> & Partial<Pick<ContainerSummary, 'error'>>;
}) {
  const t = useT();
  const exited = container.state === 'exited' && container.exitCode !== null;
  // A dead container (one the agent could not recover) says why on hover; the detail shows it in full.
  const why = container.state === 'dead' ? (container.error ?? undefined) : undefined;
  return (
    <>
      <span className={`badge badge--${containerTone(container)}`} data-state={container.state} title={why}>
        <span className="badge-dot" aria-hidden="true" />
        <span className="visually-hidden">{t('state.label')}: </span>
        <span>{exited ? t('containerState.exitedWith', { code: container.exitCode ?? 0 }) : t(labels[container.state])}</span>
      </span>
      {container.oomKilled && <span className="badge badge--bad">{t('containerState.oom')}</span>}
    </>
  );
}
