// The container list: windowed (VirtualTable), one checkbox per row for multi-select (Shift+click
// selects a range), the name opens the detail panel, and each row carries its own actions.
import { memo, useRef, type MouseEvent } from 'react';
import type { ContainerSummary } from '../../../../shared/containers.js';
import { ContainerStateBadge } from '../../components/ContainerStateBadge';
import { HealthBadge } from './VerbTabs';
import { Icon } from '../../components/icons';
import { VirtualTable } from '../../components/VirtualTable';
import { formatAgo, formatDateTime, useLanguage, useT, type MessageKey } from '../../i18n';
import { shortId } from '../../lib/images';
import type { ContainerAction } from '../../stores/containers';
import { formatActivity } from '../../../../shared/activity-format.js';
import { formatPortMappings } from '../../../../shared/units.js';
import { PrivilegedBadge } from './PrivilegedBadge';

export const CONTAINER_ROW_HEIGHT = 52;
const COLUMNS = '44px minmax(140px, 1.2fr) minmax(100px, 1fr) 132px minmax(150px, 1fr) minmax(100px, 1fr) 96px 112px';

export interface ContainersTableProps {
  containers: readonly ContainerSummary[];
  selected: ReadonlySet<string>;
  onSelectionChange: (selected: Set<string>) => void;
  openId?: string;
  onOpen: (id: string) => void;
  pending: Readonly<Record<string, ContainerAction>>;
  onAction: (action: ContainerAction, container: ContainerSummary) => void;
  label: string;
  initialHeight?: number;
}

export function ContainersTable({
  containers,
  selected,
  onSelectionChange,
  openId,
  onOpen,
  pending,
  onAction,
  label,
  initialHeight,
}: ContainersTableProps) {
  const t = useT();
  const anchor = useRef<number | null>(null);
  const allSelected = containers.length > 0 && containers.every((container) => selected.has(container.id));
  const someSelected = !allSelected && containers.some((container) => selected.has(container.id));

  const toggle = (index: number, event: MouseEvent<HTMLInputElement>): void => {
    const container = containers[index];
    if (!container) return;
    const next = new Set(selected);
    const on = !selected.has(container.id);
    if (event.shiftKey && anchor.current !== null) {
      const [from, to] = anchor.current < index ? [anchor.current, index] : [index, anchor.current];
      for (let i = from; i <= to; i++) {
        const id = containers[i]?.id;
        if (id) {
          if (on) next.add(id);
          else next.delete(id);
        }
      }
    } else if (on) next.add(container.id);
    else next.delete(container.id);
    anchor.current = index;
    onSelectionChange(next);
  };

  return (
    <VirtualTable
      label={label}
      className="containers-table"
      rowCount={containers.length}
      rowHeight={CONTAINER_ROW_HEIGHT}
      columns={COLUMNS}
      initialHeight={initialHeight}
      rowKey={(index) => containers[index]?.id ?? String(index)}
      rowProps={(index) => {
        const id = containers[index]?.id ?? '';
        return { 'aria-selected': selected.has(id), className: id === openId ? 'is-open' : undefined };
      }}
      header={
        <>
          <div role="columnheader" className="vt-cell vt-cell--check">
            <input
              type="checkbox"
              aria-label={t('containers.selectAll')}
              checked={allSelected}
              ref={(element) => {
                if (element) element.indeterminate = someSelected;
              }}
              onChange={() => onSelectionChange(allSelected ? new Set() : new Set(containers.map((container) => container.id)))}
            />
          </div>
          <div role="columnheader" className="vt-cell">
            {t('containers.column.name')}
          </div>
          <div role="columnheader" className="vt-cell">
            {t('containers.column.image')}
          </div>
          <div role="columnheader" className="vt-cell">
            {t('containers.column.state')}
          </div>
          <div role="columnheader" className="vt-cell">
            {t('containers.column.ports')}
          </div>
          <div role="columnheader" className="vt-cell">
            {t('containers.column.command')}
          </div>
          <div role="columnheader" className="vt-cell">
            {t('containers.column.created')}
          </div>
          <div role="columnheader" className="vt-cell vt-cell--actions">
            <span className="visually-hidden">{t('containers.column.actions')}</span>
          </div>
        </>
      }
      renderRow={(index) => {
        const container = containers[index];
        if (!container) return null;
        return (
          <ContainerCells
            container={container}
            index={index}
            selected={selected.has(container.id)}
            open={container.id === openId}
            pending={pending[container.id]}
            onToggle={toggle}
            onOpen={onOpen}
            onAction={onAction}
          />
        );
      }}
    />
  );
}

const pendingLabels: Record<ContainerAction, MessageKey> = {
  start: 'containers.pending.start',
  stop: 'containers.pending.stop',
  kill: 'containers.pending.kill',
  remove: 'containers.pending.remove',
  pause: 'containers.pending.pause',
  unpause: 'containers.pending.unpause',
};

/**
 * One row's cells. Memoized: while the table scrolls, rows that stay in view keep their props, so
 * only the rows entering the window render (the frame-time benchmark scrolls 1,000 rows).
 */
const ContainerCells = memo(function ContainerCells({
  container,
  index,
  selected,
  open,
  pending,
  onToggle,
  onOpen,
  onAction,
}: {
  container: ContainerSummary;
  index: number;
  selected: boolean;
  open: boolean;
  pending: ContainerAction | undefined;
  onToggle: (index: number, event: MouseEvent<HTMLInputElement>) => void;
  onOpen: (id: string) => void;
  onAction: (action: ContainerAction, container: ContainerSummary) => void;
}) {
  const t = useT();
  const language = useLanguage();
  const running = container.state === 'running';
  const name = container.name;
  const command = formatActivity({ kind: 'command', argv: container.command });
  const ports = formatPortMappings(container.ports, '→');
  return (
    <>
      <div role="cell" className="vt-cell vt-cell--check">
        <input
          type="checkbox"
          aria-label={t('containers.select', { name })}
          checked={selected}
          onChange={() => undefined}
          onClick={(event) => onToggle(index, event)}
        />
      </div>
      <div role="cell" className="vt-cell vt-cell--name">
        <button type="button" className="link-button" aria-expanded={open} onClick={() => onOpen(container.id)}>
          {name}
        </button>
        <PrivilegedBadge container={container} />
        <span className="cell-sub mono">{shortId(container.id)}</span>
      </div>
      <div role="cell" className="vt-cell vt-cell--truncate mono" title={container.image}>
        {container.image}
      </div>
      <div role="cell" className="vt-cell vt-cell--state">
        <ContainerStateBadge container={container} />
        <HealthBadge container={container} />
      </div>
      <div role="cell" className="vt-cell vt-cell--truncate mono" title={ports}>
        {ports}
      </div>
      <div role="cell" className="vt-cell vt-cell--truncate mono muted" title={command}>
        {command}
      </div>
      <div role="cell" className="vt-cell muted" title={formatDateTime(language, container.createdAt)}>
        {formatAgo(language, container.createdAt)}
      </div>
      <div role="cell" className="vt-cell vt-cell--actions">
        {pending ? (
          <span className="row-pending" role="status">
            <span className="spinner spinner--small" aria-hidden="true" />
            <span className="visually-hidden">{t(pendingLabels[pending], { name })}</span>
          </span>
        ) : (
          <>
            {running ? (
              <RowAction icon="stop" label={t('containers.action.stop', { name })} onClick={() => onAction('stop', container)} />
            ) : (
              <RowAction icon="play" label={t('containers.action.start', { name })} onClick={() => onAction('start', container)} />
            )}
            <RowAction
              icon="kill"
              label={t('containers.action.kill', { name })}
              onClick={() => onAction('kill', container)}
              disabled={!running}
            />
            <RowAction icon="trash" label={t('containers.action.remove', { name })} onClick={() => onAction('remove', container)} danger />
          </>
        )}
      </div>
    </>
  );
});

function RowAction({
  icon,
  label,
  onClick,
  disabled,
  danger,
}: {
  icon: 'play' | 'stop' | 'kill' | 'trash';
  label: string;
  onClick: () => void;
  disabled?: boolean;
  danger?: boolean;
}) {
  return (
    <button
      type="button"
      className={danger ? 'icon-button icon-button--danger' : 'icon-button'}
      aria-label={label}
      title={label}
      onClick={onClick}
      disabled={disabled}
    >
      <Icon name={icon} size={16} />
    </button>
  );
}
