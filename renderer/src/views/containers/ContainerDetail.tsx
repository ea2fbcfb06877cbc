// The detail panel for one container: Logs, Terminal, Stats, Kernel and Inspect. The record from
// containers.inspect is read when the panel opens and again whenever the container's state
// changes (a restart gives it new namespaces and a new pid).
import { useEffect, useState } from 'react';
import type { ContainerDetail as Detail, ContainerSummary } from '../../../../shared/containers.js';
import { errorMessage } from '../../../../shared/errors.js';
import { formatPortMappings } from '../../../../shared/units.js';
import { ContainerStateBadge } from '../../components/ContainerStateBadge';
import { Icon } from '../../components/icons';
import { Tabs, type TabSpec } from '../../components/Tabs';
import { useT } from '../../i18n';
import { shortId } from '../../lib/images';
import { useClient, useHost } from '../../stores';
import { InspectTab } from './InspectTab';
import { KernelTab } from './KernelTab';
import { LogsTab } from './LogsTab';
import { StatsTab } from './StatsTab';
import { TerminalTab } from './TerminalTab';
import { ChangesTab, HealthBadge, PauseButton, ProcessesTab } from './VerbTabs';

export type DetailTab = 'logs' | 'terminal' | 'stats' | 'kernel' | 'inspect' | 'processes' | 'changes';

export interface DetailState {
  status: 'loading' | 'ready' | 'error';
  data?: Detail;
  error?: string;
}

/** containers.inspect for one container, read again when its state or start time changes. */
export function useContainerDetail(machine: string, container: ContainerSummary): DetailState & { reload: () => void } {
  const client = useClient();
  const online = useHost((state) => state.connection === 'open');
  const [round, setRound] = useState(0);
  // The answer is kept with the request it answers: a newer request shows as loading (with the
  // previous data still there) until its own answer arrives, without a reset inside the effect.
  const key = `${machine}\n${container.id}\n${container.state}\n${container.startedAt ?? ''}\n${round}`;
  const [answer, setAnswer] = useState<{ key: string; data?: Detail; error?: string }>({ key: '' });
  useEffect(() => {
    if (!online) return;
    let current = true;
    client.call('containers.inspect', { machine, container: container.id }).then(
      (data) => current && setAnswer({ key, data }),
      (error: unknown) => current && setAnswer((previous) => ({ key, data: previous.data, error: errorMessage(error) })),
    );
    return () => {
      current = false;
    };
  }, [client, machine, container.id, key, online]);
  const state: DetailState =
    answer.key !== key
      ? { status: 'loading', ...(answer.data ? { data: answer.data } : {}) }
      : answer.error !== undefined
        ? { status: 'error', error: answer.error, ...(answer.data ? { data: answer.data } : {}) }
        : { status: 'ready', ...(answer.data ? { data: answer.data } : {}) };
  return { ...state, reload: () => setRound((value) => value + 1) };
}

export function ContainerDetailPanel({
  machine,
  container,
  tab,
  onTab,
  onClose,
}: {
  machine: string;
  container: ContainerSummary;
  tab: DetailTab;
  onTab: (tab: DetailTab) => void;
  onClose: () => void;
}) {
  const t = useT();
  const detail = useContainerDetail(machine, container);
  const tabs: TabSpec<DetailTab>[] = [
    { key: 'logs', label: t('detail.tab.logs'), icon: 'logs' },
    { key: 'terminal', label: t('detail.tab.terminal'), icon: 'terminals' },
    { key: 'stats', label: t('detail.tab.stats'), icon: 'chart' },
    { key: 'kernel', label: t('detail.tab.kernel'), icon: 'kernel' },
    { key: 'inspect', label: t('detail.tab.inspect'), icon: 'code' },
    { key: 'processes', label: t('detail.tab.processes'), icon: 'cpu' },
    { key: 'changes', label: t('detail.tab.changes'), icon: 'layers' },
  ];
  return (
    <section className="detail card" aria-label={t('detail.label', { name: container.name })}>
      <header className="detail-header">
        <span className="detail-icon">
          <Icon name="containers" size={20} />
        </span>
        <div className="detail-title">
          <h2>{container.name}</h2>
          <p className="muted">
            <span className="mono">{shortId(container.id)}</span> · <span className="mono">{container.image}</span>
            {container.pid !== null && (
              <>
                {' '}
                · {t('detail.pid')} <span className="mono">{container.pid}</span>
              </>
            )}
            {(container.ports?.length ?? 0) > 0 && (
              <>
                {' '}
                · {t('detail.ports')} <span className="mono">{formatPortMappings(container.ports, '→')}</span>
              </>
            )}
          </p>
        </div>
        <ContainerStateBadge container={container} />
        <HealthBadge container={container} />
        <PauseButton container={container} />
        <button type="button" className="icon-button" onClick={onClose} aria-label={t('detail.close', { name: container.name })}>
          <Icon name="close" size={18} />
        </button>
      </header>
      {container.error && (
        <div className="callout callout--bad" role="alert">
          <Icon name="alert" />
          <p>{container.error}</p>
        </div>
      )}
      <Tabs label={t('detail.tabs', { name: container.name })} tabs={tabs} selected={tab} onSelect={onTab}>
        {tab === 'logs' && <LogsTab machine={machine} container={container} />}
        {tab === 'terminal' && <TerminalTab machine={machine} container={container} />}
        {tab === 'stats' && <StatsTab machine={machine} container={container} />}
        {tab === 'kernel' && <KernelTab machine={machine} container={container} detail={detail} />}
        {tab === 'inspect' && <InspectTab detail={detail} />}
        {tab === 'processes' && <ProcessesTab machine={machine} container={container} />}
        {tab === 'changes' && <ChangesTab machine={machine} container={container} />}
      </Tabs>
    </section>
  );
}
