// Containers: the list of one machine's containers (windowed), actions on one or many, the run
// dialog, and the detail panel of the container whose name was clicked.
import { useId, useMemo, useState } from 'react';
import type { ContainerSpec, ContainerSummary } from '../../../../shared/containers.js';
import { StaleNotice, useNotCurrent } from '../../components/Freshness';
import { Icon, type IconName } from '../../components/icons';
import { MachineNotReady, useMachineLoad } from '../../components/MachinePicker';
import { ConfirmDialog } from '../../components/Modal';
import { formatNumber, useLanguage, useT, type MessageKey } from '../../i18n';
import { useClient, useContainers, useImages } from '../../stores';
import type { ContainerAction } from '../../stores/containers';
import { useToasts } from '../../stores/toasts';
import { MachineViewHeader } from '../MachineViewHeader';
import { ContainerDetailPanel, type DetailTab } from './ContainerDetail';
import { ContainersTable } from './ContainersTable';
import type { DesktopFolders } from './desktop-mounts';
import { RunDialog } from './RunDialog';

const failedLabels: Record<ContainerAction, MessageKey> = {
  start: 'containers.failed.start',
  stop: 'containers.failed.stop',
  kill: 'containers.failed.kill',
  remove: 'containers.failed.remove',
  pause: 'pause.failed',
  unpause: 'pause.resumeFailed',
};

const confirmLabels: Record<'kill' | 'remove', { one: MessageKey; many: MessageKey; body: MessageKey; button: MessageKey }> = {
  kill: {
    one: 'containers.confirm.kill.one',
    many: 'containers.confirm.kill.many',
    body: 'containers.confirm.kill.body',
    button: 'containers.bulk.kill',
  },
  remove: {
    one: 'containers.confirm.remove.one',
    many: 'containers.confirm.remove.many',
    body: 'containers.confirm.remove.body',
    button: 'containers.bulk.remove',
  },
};

interface Confirmation {
  action: 'kill' | 'remove';
  containers: ContainerSummary[];
}

export function ContainersView() {
  const t = useT();
  const load = useContainers((state) => state.load);
  const status = useContainers((state) => state.status);
  const loadImages = useImages((state) => state.load);
  const [runOpen, setRunOpen] = useState(false);
  // A container just run with a terminal: its detail opens on the Terminal tab, at its console.
  const [consoleOf, setConsoleOf] = useState<string>();
  const { name: machine, summary, usable } = useMachineLoad(load);

  return (
    <>
      <MachineViewHeader
        view="containers"
        refresh={{ onClick: () => void load(machine), loading: status === 'loading', disabled: !usable }}
      >
        <button
          type="button"
          className="button button--primary"
          disabled={!usable}
          onClick={() => {
            void loadImages(machine);
            setRunOpen(true);
          }}
        >
          <Icon name="plus" size={16} />
          {t('containers.run')}
        </button>
      </MachineViewHeader>
      {usable ? (
        <ContainersBody machine={machine} onRun={() => setRunOpen(true)} consoleOf={consoleOf} />
      ) : (
        <MachineNotReady name={machine} summary={summary} />
      )}
      {runOpen && (
        <RunContainer
          machine={machine}
          remote={summary !== undefined && summary.provider !== 'local'}
          onClose={() => setRunOpen(false)}
          onConsole={setConsoleOf}
        />
      )}
    </>
  );
}

function RunContainer({
  machine,
  remote,
  onClose,
  onConsole,
}: {
  machine: string;
  /** Not this computer: folders of this computer are reached through the machine's shared folders. */
  remote: boolean;
  onClose: () => void;
  onConsole: (id: string) => void;
}) {
  const t = useT();
  const client = useClient();
  const images = useImages((state) => state.images);
  const run = useContainers((state) => state.run);
  const push = useToasts((state) => state.push);
  const desktopFolders = useMemo<DesktopFolders | undefined>(() => {
    if (!remote) return undefined;
    const pick = client.pickFolder;
    return {
      machine,
      ...(pick ? { pick: () => pick({ title: t('run.mounts.choose.title') }) } : {}),
      resolve: (path) => client.call('machines.resolveShare', { machine, path }),
      share: async (path, readOnly) => {
        await client.call('machines.share', { machine, path, readOnly });
      },
    };
  }, [client, machine, remote, t]);
  return (
    <RunDialog
      images={images}
      {...(desktopFolders ? { desktopFolders } : {})}
      onClose={onClose}
      onRun={async (spec: ContainerSpec) => {
        const started = await run(spec);
        push({ tone: 'ok', title: t('containers.started', { name: started.name }) });
        if (spec.tty) onConsole(started.id);
      }}
    />
  );
}

function ContainersBody({ machine, onRun, consoleOf }: { machine: string; onRun: () => void; consoleOf: string | undefined }) {
  const t = useT();
  const language = useLanguage();
  const filterId = useId();
  const containers = useContainers((state) => state.containers);
  const status = useContainers((state) => state.status);
  const error = useContainers((state) => state.error);
  const stale = useContainers((state) => state.stale);
  const fetchedAt = useContainers((state) => state.fetchedAt);
  const pending = useContainers((state) => state.pending);
  const load = useContainers((state) => state.load);
  const act = useContainers((state) => state.act);
  const push = useToasts((state) => state.push);
  const notCurrent = useNotCurrent(stale, fetchedAt);

  const [filter, setFilter] = useState('');
  const [chosen, setSelected] = useState<Set<string>>(new Set());
  const [openId, setOpenId] = useState<string>();
  const [tab, setTab] = useState<DetailTab>('logs');
  const [confirmation, setConfirmation] = useState<Confirmation>();
  // A new console to show: adjusted while rendering (React's way to follow a prop), not in an effect.
  const [consoleShown, setConsoleShown] = useState<string>();
  if (consoleOf !== consoleShown) {
    setConsoleShown(consoleOf);
    if (consoleOf) {
      setOpenId(consoleOf);
      setTab('terminal');
    }
  }

  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    if (!needle) return containers;
    return containers.filter(
      (container) =>
        container.name.toLowerCase().includes(needle) || container.image.toLowerCase().includes(needle) || container.id.startsWith(needle),
    );
  }, [containers, filter]);

  // Rows that went away (removed here or elsewhere) leave the selection and the panel.
  const ids = useMemo(() => new Set(containers.map((container) => container.id)), [containers]);
  const selected = useMemo(() => new Set([...chosen].filter((id) => ids.has(id))), [chosen, ids]);
  const selectedRows = containers.filter((container) => selected.has(container.id));
  const open = openId !== undefined ? containers.find((container) => container.id === openId) : undefined;

  const perform = async (action: ContainerAction, targets: ContainerSummary[]): Promise<void> => {
    const failures = await act(
      action,
      targets.map((container) => container.id),
    );
    for (const failure of failures) {
      push({ tone: 'bad', title: t(failedLabels[action], { name: failure.name }), detail: failure.message });
    }
    if (action === 'remove') {
      const removed = targets.length - failures.length;
      if (removed > 0) push({ tone: 'ok', title: t('containers.removed', { count: formatNumber(language, removed) }) });
    }
  };

  const request = (action: ContainerAction, targets: ContainerSummary[]): void => {
    if (targets.length === 0) return;
    if (action === 'kill' || action === 'remove') setConfirmation({ action, containers: targets });
    else void perform(action, targets);
  };

  const running = selectedRows.filter((container) => container.state === 'running');
  const stopped = selectedRows.filter((container) => container.state !== 'running');
  // Each acts on the selected containers it applies to, and is off when none are.
  const bulkActions: Array<{
    action: Extract<ContainerAction, 'start' | 'stop' | 'kill' | 'remove'>;
    icon: IconName;
    targets: ContainerSummary[];
    danger?: boolean;
  }> = [
    { action: 'start', icon: 'play', targets: stopped },
    { action: 'stop', icon: 'stop', targets: running },
    { action: 'kill', icon: 'kill', targets: running },
    { action: 'remove', icon: 'trash', targets: selectedRows, danger: true },
  ];

  return (
    <div className="view-fill">
      {notCurrent && <StaleNotice fetchedAt={fetchedAt} onRefresh={() => void load(machine)} refreshing={status === 'loading'} />}
      {status === 'error' && (
        <div className="callout callout--bad" role="alert">
          <Icon name="alert" />
          <p>{t('containers.listError', { message: error ?? '' })}</p>
          <button type="button" className="button button--small" onClick={() => void load(machine)}>
            {t('machines.retry')}
          </button>
        </div>
      )}
      <div className="toolbar">
        <div className="search">
          <Icon name="search" size={16} />
          <label htmlFor={filterId} className="visually-hidden">
            {t('containers.filter')}
          </label>
          <input
            id={filterId}
            type="search"
            placeholder={t('containers.filter')}
            value={filter}
            onChange={(event) => setFilter(event.target.value)}
          />
        </div>
        <span className="muted toolbar-count">
          {filter
            ? t('containers.countFiltered', {
                shown: formatNumber(language, shown.length),
                total: formatNumber(language, containers.length),
              })
            : t('containers.count', { total: formatNumber(language, containers.length) })}
        </span>
        <span className="toolbar-spacer" />
        <div className={selectedRows.length > 0 ? 'bulk' : 'bulk bulk--idle'} role="group" aria-label={t('containers.bulk')}>
          <span className="bulk-count" aria-live="polite">
            {selectedRows.length > 0
              ? t('containers.selected', { count: formatNumber(language, selectedRows.length) })
              : t('containers.noneSelected')}
          </span>
          {bulkActions.map(({ action, icon, targets, danger }) => (
            <button
              key={action}
              type="button"
              className={danger ? 'button button--small button--danger-outline' : 'button button--small'}
              disabled={targets.length === 0}
              onClick={() => request(action, targets)}
            >
              <Icon name={icon} size={14} />
              {t(`containers.bulk.${action}`)}
            </button>
          ))}
        </div>
      </div>
      <div className={notCurrent ? 'table-area is-stale' : 'table-area'} aria-busy={status === 'loading'}>
        {containers.length === 0 && status === 'ready' ? (
          <div className="empty">
            <span className="empty-icon">
              <Icon name="containers" size={32} />
            </span>
            <h2>{t('containers.empty.title')}</h2>
            <p>{t('containers.empty.body')}</p>
            <button type="button" className="button button--primary" onClick={onRun}>
              <Icon name="plus" size={16} />
              {t('containers.run')}
            </button>
          </div>
        ) : containers.length === 0 && status === 'loading' ? (
          <div className="loading" role="status">
            <span className="spinner" aria-hidden="true" />
            {t('containers.loading')}
          </div>
        ) : (
          <ContainersTable
            label={t('containers.tableLabel', { machine })}
            containers={shown}
            selected={selected}
            onSelectionChange={setSelected}
            openId={open?.id}
            onOpen={(id) => setOpenId((current) => (current === id ? undefined : id))}
            pending={pending}
            onAction={(action, container) => request(action, [container])}
          />
        )}
      </div>
      {open && (
        <ContainerDetailPanel
          key={open.id}
          machine={machine}
          container={open}
          tab={tab}
          onTab={setTab}
          onClose={() => setOpenId(undefined)}
        />
      )}
      {confirmation && (
        <ConfirmDialog
          danger
          title={
            confirmation.containers.length === 1
              ? t(confirmLabels[confirmation.action].one, { name: confirmation.containers[0]?.name ?? '' })
              : t(confirmLabels[confirmation.action].many, { count: formatNumber(language, confirmation.containers.length) })
          }
          body={
            <>
              <p>{t(confirmLabels[confirmation.action].body)}</p>
              {confirmation.containers.length > 1 && (
                <ul className="confirm-list">
                  {confirmation.containers.slice(0, 8).map((container) => (
                    <li key={container.id} className="mono">
                      {container.name}
                    </li>
                  ))}
                  {confirmation.containers.length > 8 && (
                    <li>{t('containers.confirm.more', { count: confirmation.containers.length - 8 })}</li>
                  )}
                </ul>
              )}
            </>
          }
          confirmLabel={t(confirmLabels[confirmation.action].button)}
          onCancel={() => setConfirmation(undefined)}
          onConfirm={() => {
            const { action, containers: targets } = confirmation;
            setConfirmation(undefined);
            void perform(action, targets);
          }}
        />
      )}
    </div>
  );
}
