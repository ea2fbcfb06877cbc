// A remote machine's connection on its card: Connect (reading its info dials and deploys the
// agent), the deploy progress bar while the agent is uploaded and started, the countdown to the
// next reconnect after the link was lost, and Remove (after a confirmation).
import { useState } from 'react';
import { errorMessage } from '../../../../shared/errors.js';
import type { MachineSummary } from '../../../../shared/host-api.js';
import type { DeployProgress } from '../../../../shared/machines.js';
import { countsDown, deployPercent, secondsUntil, useNow } from '../../components/machine-status';
import { Icon } from '../../components/icons';
import { ConfirmDialog } from '../../components/Modal';
import { useT, type MessageKey } from '../../i18n';
import { useMachines } from '../../stores';
import { useToasts } from '../../stores/toasts';

/** States from which Connect makes sense: nothing is connecting and the link is not up. */
const CONNECTABLE = new Set<MachineSummary['state']>(['stopped', 'lost', 'error']);

export function ConnectButton({ machine }: { machine: MachineSummary }) {
  const t = useT();
  const loadInfo = useMachines((state) => state.loadInfo);
  const loading = useMachines((state) => state.info[machine.name]?.status === 'loading');
  if (!CONNECTABLE.has(machine.state)) return null;
  return (
    <button
      type="button"
      className="button button--small"
      onClick={() => void loadInfo(machine.name)}
      disabled={loading}
      aria-label={t('machine.connect', { machine: machine.name })}
    >
      <Icon name="play" size={14} />
      {t('machine.connectShort')}
    </button>
  );
}

export function RemoveMachineButton({ machine }: { machine: MachineSummary }) {
  const t = useT();
  const remove = useMachines((state) => state.remove);
  const push = useToasts((state) => state.push);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirm = async (): Promise<void> => {
    setConfirming(false);
    setBusy(true);
    try {
      await remove(machine.name);
      push({ tone: 'ok', title: t('machine.removed', { machine: machine.name }) });
    } catch (error) {
      push({ tone: 'bad', title: t('machine.removeFailed', { machine: machine.name }), detail: errorMessage(error) });
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        className="button button--small"
        onClick={() => setConfirming(true)}
        disabled={busy}
        aria-label={t('machine.remove', { machine: machine.name })}
      >
        <Icon name="trash" size={14} />
        {t('machine.removeShort')}
      </button>
      {confirming && (
        <ConfirmDialog
          danger
          title={t('machine.remove.title', { machine: machine.name })}
          body={<p>{t(machine.provider === 'vagrant' ? 'machine.remove.bodyVagrant' : 'machine.remove.bodySsh')}</p>}
          confirmLabel={t('machine.removeShort')}
          onCancel={() => setConfirming(false)}
          onConfirm={() => void confirm()}
        />
      )}
    </>
  );
}

const phaseLabels: Record<DeployProgress['phase'], MessageKey> = {
  probe: 'deploy.phase.probe',
  upload: 'deploy.phase.upload',
  install: 'deploy.phase.install',
  start: 'deploy.phase.start',
  handshake: 'deploy.phase.handshake',
  done: 'deploy.phase.done',
  stage: 'deploy.phase.stage',
};

function phaseText(t: ReturnType<typeof useT>, progress: DeployProgress | undefined): string {
  if (!progress) return t('deploy.phase.probe');
  if (progress.phase === 'upload' && progress.part)
    return t(progress.part === 'runtime' ? 'deploy.phase.uploadRuntime' : 'deploy.phase.uploadAgent');
  if (progress.phase === 'stage' && progress.detail) return `${t(phaseLabels.stage)}: ${progress.detail}`;
  return t(phaseLabels[progress.phase]);
}

/** The agent deploy's progress while the machine deploys: a labelled bar and the phase in words. */
export function DeployBar({ machine }: { machine: MachineSummary }) {
  const t = useT();
  const progress = useMachines((state) => state.deploy[machine.name]);
  const percent = deployPercent(machine, progress);
  if (percent === undefined) return null;
  const phase = phaseText(t, progress);
  return (
    <div className="deploy-progress">
      <p className="deploy-progress-text">
        <span>{phase}</span>
        <span className="mono">{t('deploy.percent', { percent })}</span>
      </p>
      <div
        className="progress progress--large"
        role="progressbar"
        aria-label={t('deploy.label', { machine: machine.name })}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={t('deploy.valueText', { percent, phase })}
      >
        <span style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}

/** "Retrying in 5 s" under a lost machine's badge, counting down once a second. */
export function RetryCountdown({ machine }: { machine: MachineSummary }) {
  const t = useT();
  const active = countsDown(machine);
  const now = useNow(active);
  const seconds = active ? secondsUntil(machine.retryAt, now) : undefined;
  if (seconds === undefined) return null;
  return (
    <span className="retry-countdown" role="status">
      {seconds > 0 ? t('machine.retryIn', { seconds }) : t('machine.retryingNow')}
    </span>
  );
}
