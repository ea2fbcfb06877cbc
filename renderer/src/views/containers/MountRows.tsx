// The run dialog's mounts: one row per mount — a folder of the machine (bind), a volume (named, or
// anonymous when the name is left empty) or a tmpfs — each to a path in the container, optionally
// read-only. The rows become ContainerSpec.mounts (run-form.ts); the schema's error for a row is
// shown under the list, naming the row.
import type { MountSpecInput } from '../../../../shared/volumes.js';
import { Icon } from '../../components/icons';
import { useT } from '../../i18n';

export interface MountRow {
  type: 'bind' | 'volume' | 'tmpfs';
  /** bind: the path on the machine; volume: its name (empty: anonymous); tmpfs: unused. */
  source: string;
  target: string;
  readonly: boolean;
}

export const emptyMountRow: MountRow = { type: 'bind', source: '', target: '', readonly: false };

/**
 * The spec's mounts; rows left wholly empty are skipped. A missing bind source is refused, as
 * `--mount` does (not made, as `-v` would): a typo in the window must not create folders.
 */
export function mountsFromRows(rows: readonly MountRow[]): MountSpecInput[] {
  return rows
    .filter((row) => row.source.trim() !== '' || row.target.trim() !== '')
    .map((row) => ({
      type: row.type,
      target: row.target.trim(),
      ...(row.type !== 'tmpfs' && row.source.trim() !== '' ? { source: row.source.trim() } : {}),
      ...(row.readonly ? { readonly: true } : {}),
    }));
}

export function MountRows({ rows, error, onChange }: { rows: readonly MountRow[]; error?: string; onChange: (rows: MountRow[]) => void }) {
  const t = useT();
  const set = (index: number, change: Partial<MountRow>): void =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));
  return (
    <fieldset className="form-wide fieldset">
      <legend>{t('run.mounts')}</legend>
      {rows.map((row, index) => (
        <div className="form-row" key={index}>
          <select
            name={index === 0 ? 'mounts' : undefined}
            aria-label={t('run.mounts.type', { row: index + 1 })}
            value={row.type}
            onChange={(event) => set(index, { type: event.target.value as MountRow['type'] })}
          >
            <option value="bind">{t('run.mounts.bind')}</option>
            <option value="volume">{t('run.mounts.volume')}</option>
            <option value="tmpfs">{t('run.mounts.tmpfs')}</option>
          </select>
          <input
            className="mono"
            aria-label={t(row.type === 'volume' ? 'run.mounts.volumeName' : 'run.mounts.hostPath', { row: index + 1 })}
            placeholder={row.type === 'volume' ? t('run.mounts.volumeName.placeholder') : row.type === 'bind' ? '/srv/site' : ''}
            disabled={row.type === 'tmpfs'}
            value={row.type === 'tmpfs' ? '' : row.source}
            onChange={(event) => set(index, { source: event.target.value })}
            spellCheck={false}
          />
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
      ))}
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
