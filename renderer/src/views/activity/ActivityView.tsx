// Activity: every command and file write the agent performed on the machine, as the line a person
// would have typed (formatActivity), with its result and duration, as it happens. Filter by
// container or network; select lines and copy them as a shell script.
import { useId, useMemo, useRef, useState, type MouseEvent } from 'react';
import { formatActivity } from '../../../../shared/activity-format.js';
import type { ActivityEntry } from '../../../../shared/agent-rpc.js';
import { StaleNotice, useNotCurrent } from '../../components/Freshness';
import { Icon } from '../../components/icons';
import { MachineNotReady, useMachineLoad } from '../../components/MachinePicker';
import { VirtualTable } from '../../components/VirtualTable';
import { formatClock, formatDateTime, formatMilliseconds, formatNumber, useLanguage, useT } from '../../i18n';
import { copyText } from '../../lib/clipboard';
import { useActivity } from '../../stores';
import { activityKey, shellScript } from '../../stores/activity';
import { useToasts } from '../../stores/toasts';
import { MachineViewHeader } from '../MachineViewHeader';

const ROW_HEIGHT = 50;
const COLUMNS = '44px 100px 96px 84px minmax(0, 1fr)';
const ALL = '';

export interface ActivityFilter {
  container: string;
  network: string;
  result: '' | 'ok' | 'failed';
}

export function filterActivity(entries: readonly ActivityEntry[], filter: ActivityFilter): ActivityEntry[] {
  return entries.filter(
    (entry) =>
      (filter.container === ALL || entry.container === filter.container) &&
      (filter.network === ALL || entry.network === filter.network) &&
      (filter.result === '' || (filter.result === 'ok') === entry.ok),
  );
}

export function ActivityView() {
  const load = useActivity((state) => state.load);
  const status = useActivity((state) => state.status);
  const { name: machine, summary, usable } = useMachineLoad(load);
  return (
    <>
      <MachineViewHeader
        view="activity"
        refresh={{ onClick: () => void load(machine), loading: status === 'loading', disabled: !usable }}
      />
      {usable ? <ActivityBody machine={machine} /> : <MachineNotReady name={machine} summary={summary} />}
    </>
  );
}

function ActivityBody({ machine }: { machine: string }) {
  const t = useT();
  const language = useLanguage();
  const ids = { container: useId(), network: useId(), result: useId() };
  const entries = useActivity((state) => state.entries);
  const status = useActivity((state) => state.status);
  const error = useActivity((state) => state.error);
  const stale = useActivity((state) => state.stale);
  const fetchedAt = useActivity((state) => state.fetchedAt);
  const load = useActivity((state) => state.load);
  const push = useToasts((state) => state.push);
  const notCurrent = useNotCurrent(stale, fetchedAt);
  const [filter, setFilter] = useState<ActivityFilter>({ container: ALL, network: ALL, result: '' });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [atEnd, setAtEnd] = useState(true);
  const anchor = useRef<number | null>(null);

  const shown = useMemo(() => filterActivity(entries, filter), [entries, filter]);
  const containers = useMemo(() => [...new Set(entries.flatMap((entry) => (entry.container ? [entry.container] : [])))].sort(), [entries]);
  const networks = useMemo(() => [...new Set(entries.flatMap((entry) => (entry.network ? [entry.network] : [])))].sort(), [entries]);
  const selectedEntries = shown.filter((entry) => selected.has(activityKey(entry)));
  const allSelected = shown.length > 0 && selectedEntries.length === shown.length;

  const toggle = (index: number, event: MouseEvent<HTMLInputElement>): void => {
    const entry = shown[index];
    if (!entry) return;
    const key = activityKey(entry);
    const on = !selected.has(key);
    const next = new Set(selected);
    const [from, to] =
      event.shiftKey && anchor.current !== null ? [Math.min(anchor.current, index), Math.max(anchor.current, index)] : [index, index];
    for (let i = from; i <= to; i++) {
      const other = shown[i];
      if (!other) continue;
      if (on) next.add(activityKey(other));
      else next.delete(activityKey(other));
    }
    anchor.current = index;
    setSelected(next);
  };

  const copyScript = async (): Promise<void> => {
    const lines = selectedEntries.map((entry) => formatActivity(entry));
    try {
      await copyText(shellScript(lines));
      push({ tone: 'ok', title: t('activity.copied', { count: formatNumber(language, lines.length) }) });
    } catch (caught) {
      push({ tone: 'bad', title: t('common.copyFailed'), detail: caught instanceof Error ? caught.message : String(caught) });
    }
  };

  return (
    <div className="view-fill">
      {notCurrent && <StaleNotice fetchedAt={fetchedAt} onRefresh={() => void load(machine)} refreshing={status === 'loading'} />}
      {status === 'error' && (
        <div className="callout callout--bad" role="alert">
          <Icon name="alert" />
          <p>{t('activity.listError', { message: error ?? '' })}</p>
          <button type="button" className="button button--small" onClick={() => void load(machine)}>
            {t('machines.retry')}
          </button>
        </div>
      )}
      <div className="toolbar">
        <div className="filter">
          <label htmlFor={ids.container}>{t('activity.filter.container')}</label>
          <select id={ids.container} value={filter.container} onChange={(event) => setFilter({ ...filter, container: event.target.value })}>
            <option value={ALL}>{t('activity.filter.allContainers')}</option>
            {containers.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="filter">
          <label htmlFor={ids.network}>{t('activity.filter.network')}</label>
          <select id={ids.network} value={filter.network} onChange={(event) => setFilter({ ...filter, network: event.target.value })}>
            <option value={ALL}>{t('activity.filter.allNetworks')}</option>
            {networks.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="filter">
          <label htmlFor={ids.result}>{t('activity.filter.result')}</label>
          <select
            id={ids.result}
            value={filter.result}
            onChange={(event) =>
              setFilter({ ...filter, result: event.target.value === 'ok' || event.target.value === 'failed' ? event.target.value : '' })
            }
          >
            <option value="">{t('activity.filter.anyResult')}</option>
            <option value="ok">{t('activity.ok')}</option>
            <option value="failed">{t('activity.failed')}</option>
          </select>
        </div>
        <span className="toolbar-spacer" />
        <span className="muted toolbar-count" aria-live="polite">
          {selectedEntries.length > 0
            ? t('activity.selected', { count: formatNumber(language, selectedEntries.length), total: formatNumber(language, shown.length) })
            : t('activity.count', { total: formatNumber(language, shown.length) })}
        </span>
        <button
          type="button"
          className="button button--small"
          onClick={() => setSelected(new Set())}
          disabled={selectedEntries.length === 0}
        >
          {t('activity.clearSelection')}
        </button>
        <button
          type="button"
          className="button button--small button--primary"
          onClick={() => void copyScript()}
          disabled={selectedEntries.length === 0}
        >
          <Icon name="copy" size={14} />
          {t('activity.copyScript')}
        </button>
      </div>
      <div className={notCurrent ? 'table-area is-stale' : 'table-area'} aria-busy={status === 'loading'}>
        {entries.length === 0 && status === 'loading' ? (
          <div className="loading" role="status">
            <span className="spinner" aria-hidden="true" />
            {t('activity.loading')}
          </div>
        ) : (
          <VirtualTable
            label={t('activity.tableLabel', { machine })}
            className="activity-table"
            rowCount={shown.length}
            rowHeight={ROW_HEIGHT}
            columns={COLUMNS}
            scrollToIndex={atEnd ? shown.length - 1 : undefined}
            onScrollChange={setAtEnd}
            rowKey={(index) => {
              const entry = shown[index];
              return entry ? activityKey(entry) : String(index);
            }}
            rowProps={(index) => {
              const entry = shown[index];
              return {
                'aria-selected': entry ? selected.has(activityKey(entry)) : false,
                className: entry && !entry.ok ? 'is-failed' : undefined,
              };
            }}
            empty={
              <div className="empty empty--inline">
                <Icon name="activity" size={28} />
                <p>{entries.length === 0 ? t('activity.empty') : t('activity.noMatches')}</p>
              </div>
            }
            header={
              <>
                <div role="columnheader" className="vt-cell vt-cell--check">
                  <input
                    type="checkbox"
                    aria-label={t('activity.selectAll')}
                    checked={allSelected}
                    ref={(element) => {
                      if (element) element.indeterminate = selectedEntries.length > 0 && !allSelected;
                    }}
                    onChange={() => setSelected(allSelected ? new Set() : new Set(shown.map(activityKey)))}
                  />
                </div>
                <div role="columnheader" className="vt-cell">
                  {t('activity.column.time')}
                </div>
                <div role="columnheader" className="vt-cell">
                  {t('activity.column.result')}
                </div>
                <div role="columnheader" className="vt-cell">
                  {t('activity.column.duration')}
                </div>
                <div role="columnheader" className="vt-cell">
                  {t('activity.column.command')}
                </div>
              </>
            }
            renderRow={(index) => {
              const entry = shown[index];
              if (!entry) return null;
              const line = formatActivity(entry);
              const scope = entry.container
                ? t('activity.scope.container', { name: entry.container })
                : entry.network
                  ? t('activity.scope.network', { name: entry.network })
                  : t('activity.scope.machine');
              return (
                <>
                  <div role="cell" className="vt-cell vt-cell--check">
                    <input
                      type="checkbox"
                      aria-label={t('activity.select', { line })}
                      checked={selected.has(activityKey(entry))}
                      onChange={() => undefined}
                      onClick={(event) => toggle(index, event)}
                    />
                  </div>
                  <div role="cell" className="vt-cell mono muted" title={formatDateTime(language, entry.at)}>
                    {formatClock(entry.at)}
                  </div>
                  <div role="cell" className="vt-cell">
                    <span className={`result result--${entry.ok ? 'ok' : 'failed'}`}>
                      {entry.ok ? t('activity.ok') : t('activity.failed')}
                    </span>
                  </div>
                  <div role="cell" className="vt-cell mono muted numeric">
                    {formatMilliseconds(language, entry.durationMs)}
                  </div>
                  <div role="cell" className="vt-cell activity-cell">
                    <code className="activity-text" title={line}>
                      {line}
                    </code>
                    <span className="activity-meta">
                      <span className="scope">{scope}</span>
                      {entry.error && (
                        <span className="activity-error" title={entry.error}>
                          {entry.error}
                        </span>
                      )}
                    </span>
                  </div>
                </>
              );
            }}
          />
        )}
      </div>
    </div>
  );
}
