import type { MachineState } from '../../../shared/host-api.js';
import { useT } from '../i18n';
import { stateLabels } from './machine-status';

/** Which colour family a state belongs to. */
export function stateTone(state: MachineState): 'ok' | 'busy' | 'idle' | 'warn' | 'bad' {
  switch (state) {
    case 'ready':
      return 'ok';
    case 'starting':
    case 'connecting':
    case 'deploying':
      return 'busy';
    case 'stopped':
      return 'idle';
    case 'lost':
      return 'warn';
    case 'error':
      return 'bad';
  }
}

export function StateBadge({ state }: { state: MachineState }) {
  const t = useT();
  return (
    <span className={`badge badge--${stateTone(state)}`} data-state={state}>
      <span className="badge-dot" aria-hidden="true" />
      <span className="visually-hidden">{t('state.label')}: </span>
      <span>{t(stateLabels[state])}</span>
    </span>
  );
}
