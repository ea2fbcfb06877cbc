// The run dialog's mounts: one row per mount — a folder of the machine (bind), on a remote machine
// a folder of this computer (through a shared folder: desktop-mounts.ts), a volume (named, or
// anonymous when the name is left empty) or a tmpfs — each to a path in the container, optionally
// read-only. The rows become ContainerSpec.mounts (run-form.ts); the schema's error for a row is
// shown under the list, naming the row.
import { useId } from 'react';
import type { MountSpecInput } from '../../../../shared/volumes.js';
import { Icon } from '../../components/icons';
import { useT } from '../../i18n';
import type { DesktopRowError } from './desktop-mounts';

export interface MountRow {
  /** `desktop`: a folder of this computer, reached on a remote machine through a shared folder. */
  type: 'bind' | 'desktop' | 'volume' | 'tmpfs';
  /** bind: the path on the machine; desktop: the path on this computer; volume: its name (empty: anonymous); tmpfs: unused. */
  source: string;
  target: string;
  readonly: boolean;
}

export const emptyMountRow: MountRow = { type: 'bind', source: '', target: '', readonly: false };

/**
 * The spec's mounts; rows left wholly empty are skipped. A missing bind source is refused, as
 * `--mount` does (not made, as `-v` would): a typo in the window must not create folders. A
 * desktop folder's row becomes its bind through the share (`desktop`, by row index, from
 * resolveDesktopRows); until it is resolved it is left out.
 */
export function mountsFromRows(rows: readonly MountRow[], desktop?: ReadonlyMap<number, MountSpecInput>): MountSpecInput[] {
  return rows.flatMap((row, index): MountSpecInput[] => {
    if (row.source.trim() === '' && row.target.trim() === '') return [];
    if (row.type === 'desktop') {
      const resolved = desktop?.get(index);
      return resolved ? [resolved] : [];
    }
    return [
      {
        type: row.type,
        target: row.target.trim(),
        ...(row.type !== 'tmpfs' && row.source.trim() !== '' ? { source: row.source.trim() } : {}),
        ...(row.readonly ? { readonly: true } : {}),
      },
    ];
  });
}

/** The desktop-folder rows' part of the dialog (remote machines only): picking, the host's refusals, sharing. */
export interface DesktopRowsProps {
  machine: string;
  /** Opens the native folder dialog for a row; absent in browser mode (the path is typed). */
  onPick?: (index: number) => void;
  errors: ReadonlyMap<number, DesktopRowError>;
  /** Shares the row's folder with the machine (machines.share). */
  onShare: (index: number) => void;
  /** Rows whose folder was shared from here. */
  shared: ReadonlySet<number>;
  busy: boolean;
}

export function MountRows({
  rows,
  error,
  onChange,
  desktop,
}: {
  rows: readonly MountRow[];
  error?: string;
  onChange: (rows: MountRow[]) => void;
  desktop?: DesktopRowsProps;
}) {
  const t = useT();
  const idBase = useId();
  const set = (index: number, change: Partial<MountRow>): void =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));
  const sourceLabel = (row: MountRow, index: number): string =>
    t(row.type === 'volume' ? 'run.mounts.volumeName' : row.type === 'desktop' ? 'run.mounts.desktopPath' : 'run.mounts.hostPath', {
      row: index + 1,
    });
  const placeholders: Record<MountRow['type'], string> = {
    bind: '/srv/site',
    desktop: '~/app',
    volume: t('run.mounts.volumeName.placeholder'),
    tmpfs: '',
  };
  return (
    <fieldset className="form-wide fieldset">
      <legend>{t('run.mounts')}</legend>
      {rows.map((row, index) => {
        const rowError = row.type === 'desktop' ? desktop?.errors.get(index) : undefined;
        const errorId = `${idBase}-${index}-error`;
        return (
          <div key={index} className="form-wide mount-row">
            <div className="form-row">
              <select
                name={index === 0 ? 'mounts' : undefined}
                aria-label={t('run.mounts.type', { row: index + 1 })}
                value={row.type}
                onChange={(event) => set(index, { type: event.target.value as MountRow['type'] })}
              >
                <option value="bind">{t('run.mounts.bind')}</option>
                {(desktop || row.type === 'desktop') && <option value="desktop">{t('run.mounts.desktop')}</option>}
                <option value="volume">{t('run.mounts.volume')}</option>
                <option value="tmpfs">{t('run.mounts.tmpfs')}</option>
              </select>
              <input
                className="mono"
                aria-label={sourceLabel(row, index)}
                placeholder={placeholders[row.type]}
                disabled={row.type === 'tmpfs'}
                value={row.type === 'tmpfs' ? '' : row.source}
                onChange={(event) => set(index, { source: event.target.value })}
                spellCheck={false}
                {...(rowError ? { 'aria-invalid': true, 'aria-describedby': errorId } : {})}
              />
              {row.type === 'desktop' && desktop?.onPick && (
                <button
                  type="button"
                  className="button button--small"
                  aria-label={t('run.mounts.choose.label', { row: index + 1 })}
                  onClick={() => desktop.onPick?.(index)}
                >
                  <Icon name="folder" size={16} />
                  {t('run.mounts.choose')}
                </button>
              )}
              <input
                className="mono"
                aria-label={t('run.mounts.target', { row: index + 1 })}
                placeholder="/data"
                value={row.target}
                onChange={(event) => set(index, { target: event.target.value })}
                spellCheck={false}
              />
              <label className="checkbox">
                <input type="checkbox" checked={row.readonly} onChange={(event) => set(index, { readonly: event.target.checked })} />
                <span>{t('run.mounts.readonly')}</span>
              </label>
              <button
                type="button"
                className="icon-button icon-button--danger"
                aria-label={t('run.mounts.remove', { row: index + 1 })}
                onClick={() => onChange(rows.filter((_, i) => i !== index))}
              >
                <Icon name="trash" size={16} />
              </button>
            </div>
            {rowError && (
              <div id={errorId} className="field-error mount-row-error" role="alert">
                <Icon name="alert" size={14} />
                <span>{rowError.kind === 'required' ? t('run.error.required') : rowError.message}</span>
                {rowError.kind === 'refused' && rowError.unshared !== undefined && desktop && (
                  <button type="button" className="button button--small" disabled={desktop.busy} onClick={() => desktop.onShare(index)}>
                    <Icon name="plus" size={14} />
                    {t(row.readonly ? 'run.mounts.shareReadOnly' : 'run.mounts.share', { machine: desktop.machine })}
                  </button>
                )}
              </div>
            )}
            {row.type === 'desktop' && !rowError && desktop?.shared.has(index) && (
              <p className="field-hint" role="status">
                {t('run.mounts.shared', { machine: desktop.machine })}
              </p>
            )}
          </div>
        );
      })}
      {desktop && !desktop.onPick && rows.some((row) => row.type === 'desktop') && (
        <p className="field-hint form-wide">{t('run.mounts.desktop.typed')}</p>
      )}
      {error && (
        <p className="field-error" role="alert">
          <Icon name="alert" size={14} />
          <span>{error}</span>
        </p>
      )}
      <button type="button" className="button button--small" onClick={() => onChange([...rows, { ...emptyMountRow }])}>
        <Icon name="plus" size={16} />
        {t('run.mounts.add')}
      </button>
    </fieldset>
  );
}
