// A container's output. While it runs, containers.logs follows it: the agent sends the tail and
// every new line as `container.log` events carrying the streamId asked for (the call itself only
// answers when the container ends). Search filters lines and marks the matches; stderr is its own
// colour and says so in words too.
import { useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import type { ContainerSummary, LogEntry } from '../../../../shared/containers.js';
import { errorMessage, OnggiError } from '../../../../shared/errors.js';
import { Icon } from '../../components/icons';
import { VirtualTable } from '../../components/VirtualTable';
import { formatClock, formatNumber, useLanguage, useT } from '../../i18n';
import { useClient, useHost } from '../../stores';

/** The most lines kept in the window; older ones scroll away (the file on the machine has them all). */
export const LOG_LIMIT = 10_000;
const TAIL = 2_000;
const LINE_HEIGHT = 22;

let streamCounter = 0;

export interface LogState {
  entries: LogEntry[];
  following: boolean;
  error?: string;
}

export function useContainerLogs(machine: string, container: Pick<ContainerSummary, 'id' | 'state' | 'startedAt'>): LogState {
  const client = useClient();
  const online = useHost((state) => state.connection === 'open');
  const running = container.state === 'running';
  // Lines are kept with the stream they came from, so a new stream starts empty without a reset
  // inside the effect.
  const key = `${machine}\n${container.id}\n${running}\n${container.startedAt ?? ''}\n${online}`;
  const [stream, setStream] = useState<LogState & { key: string }>({ key: '', entries: [], following: false });

  useEffect(() => {
    if (!online) return;
    let current = true;
    const streamId = `logs-${Date.now().toString(36)}-${(++streamCounter).toString(36)}`;
    const fresh = { key, entries: [], following: running };
    const update = (change: (previous: LogState & { key: string }) => LogState & { key: string }): void => {
      if (current) setStream((previous) => change(previous.key === key ? previous : fresh));
    };
    const append = (entries: readonly LogEntry[]): void => {
      if (entries.length === 0) return;
      update((previous) => {
        const all = [...previous.entries, ...entries];
        return { ...previous, entries: all.length > LOG_LIMIT ? all.slice(all.length - LOG_LIMIT) : all };
      });
    };
    const off = running
      ? client.onEvent((event) => {
          if (event.type !== 'machine.event' || event.machine !== machine) return;
          if (event.event.type === 'container.log' && event.event.streamId === streamId) append(event.event.entries);
        })
      : undefined;
    client.call('containers.logs', { machine, container: container.id, tail: TAIL, ...(running ? { follow: true, streamId } : {}) }).then(
      (result) => {
        append(result.entries);
        update((previous) => ({ ...previous, following: false }));
      },
      (error: unknown) => {
        // A followed stream answers only when the container ends; the client's patience for an
        // answer runs out first, while the lines keep arriving as events. That is not a failure.
        if (running && error instanceof OnggiError && error.kind === 'timeout') return;
        update((previous) => ({ ...previous, following: false, error: errorMessage(error) }));
      },
    );
    return () => {
      current = false;
      off?.();
    };
  }, [client, machine, container.id, running, key, online]);

  const state: LogState = stream.key === key ? stream : { entries: [], following: online && running };
  return state;
}

export function highlight(text: string, query: string): ReactNode {
  if (!query) return text;
  const lower = text.toLowerCase();
  const needle = query.toLowerCase();
  const parts: ReactNode[] = [];
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, from)) {
    if (at > from) parts.push(text.slice(from, at));
    parts.push(<mark key={at}>{text.slice(at, at + needle.length)}</mark>);
    from = at + needle.length;
  }
  if (from < text.length) parts.push(text.slice(from));
  return parts;
}

export function LogsTab({ machine, container }: { machine: string; container: ContainerSummary }) {
  const t = useT();
  const language = useLanguage();
  const searchId = useId();
  const logs = useContainerLogs(machine, container);
  const [query, setQuery] = useState('');
  const [timestamps, setTimestamps] = useState(false);
  const [atEnd, setAtEnd] = useState(true);

  const shown = useMemo(() => {
    if (!query) return logs.entries;
    const needle = query.toLowerCase();
    return logs.entries.filter((entry) => entry.log.toLowerCase().includes(needle));
  }, [logs.entries, query]);

  const columns = timestamps ? '110px 64px minmax(0, 1fr)' : '64px minmax(0, 1fr)';

  return (
    <div className="logs">
      <div className="toolbar">
        <div className="search">
          <Icon name="search" size={16} />
          <label htmlFor={searchId} className="visually-hidden">
            {t('logs.search')}
          </label>
          <input
            id={searchId}
            type="search"
            placeholder={t('logs.search')}
            value={query}
            onChange={(event) => setQuery(event.target.value)}
          />
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={timestamps} onChange={(event) => setTimestamps(event.target.checked)} />
          <span>{t('logs.timestamps')}</span>
        </label>
        <span className="toolbar-spacer" />
        <span className="muted" role="status">
          {query
            ? t('logs.countMatching', { shown: formatNumber(language, shown.length), total: formatNumber(language, logs.entries.length) })
            : t('logs.count', { total: formatNumber(language, logs.entries.length) })}
        </span>
        {logs.following && (
          <span className="live-tag">
            <span className="live-dot" aria-hidden="true" />
            {t('logs.following')}
          </span>
        )}
      </div>
      {logs.error && (
        <div className="callout callout--bad" role="alert">
          <Icon name="alert" />
          <p>{t('logs.error', { message: logs.error })}</p>
        </div>
      )}
      <VirtualTable
        label={t('logs.label', { name: container.name })}
        className="log-table"
        rowCount={shown.length}
        rowHeight={LINE_HEIGHT}
        columns={columns}
        overscan={20}
        initialHeight={320}
        scrollToIndex={atEnd ? shown.length - 1 : undefined}
        onScrollChange={setAtEnd}
        rowKey={(index) => String(index)}
        rowProps={(index) => ({ className: shown[index]?.stream === 'stderr' ? 'log-line log-line--stderr' : 'log-line' })}
        empty={<p className="log-empty muted">{query ? t('logs.noMatches') : t('logs.empty')}</p>}
        header={
          <>
            {timestamps && (
              <div role="columnheader" className="vt-cell">
                {t('logs.column.time')}
              </div>
            )}
            <div role="columnheader" className="vt-cell">
              {t('logs.column.stream')}
            </div>
            <div role="columnheader" className="vt-cell">
              {t('logs.column.line')}
            </div>
          </>
        }
        renderRow={(index) => {
          const entry = shown[index];
          if (!entry) return null;
          return (
            <>
              {timestamps && (
                <div role="cell" className="vt-cell log-time" title={entry.time}>
                  {formatClock(entry.time)}
                </div>
              )}
              <div role="cell" className="vt-cell log-stream">
                {entry.stream}
              </div>
              <div role="cell" className="vt-cell log-text">
                {highlight(entry.log.replace(/\n$/, ''), query)}
              </div>
            </>
          );
        }}
      />
    </div>
  );
}
