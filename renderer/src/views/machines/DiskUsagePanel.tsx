// A machine's disk use (system.df: the numbers `onggi system df` prints) and "Clean up": a dry run
// of system.prune shows what would be removed and the space freed; only a confirmation removes it.
import { useEffect, useState } from 'react';
import type { DiskUsage, DiskUsageType, PruneResult } from '../../../../shared/disk-usage.js';
import { errorMessage } from '../../../../shared/errors.js';
import { Icon } from '../../components/icons';
import { Modal } from '../../components/Modal';
import { formatBytes, formatNumber, useLanguage, useT, type MessageKey } from '../../i18n';
import { useClient } from '../../stores';

const typeLabels: Record<DiskUsageType, MessageKey> = {
  images: 'disk.type.images',
  containers: 'disk.type.containers',
  logs: 'disk.type.logs',
  volumes: 'disk.type.volumes',
};

export function DiskUsagePanel({ machine }: { machine: string }) {
  const t = useT();
  const language = useLanguage();
  const client = useClient();
  const [usage, setUsage] = useState<DiskUsage>();
  const [error, setError] = useState<string>();
  const [round, setRound] = useState(0);
  const [cleaning, setCleaning] = useState(false);
  const [result, setResult] = useState<PruneResult>();
  useEffect(() => {
    let current = true;
    client.call('system.df', { machine }).then(
      (next) => current && (setUsage(next), setError(undefined)),
      (caught: unknown) => current && setError(errorMessage(caught)),
    );
    return () => {
      current = false;
    };
  }, [client, machine, round]);
  const reclaimable = usage?.rows.reduce((sum, row) => sum + row.reclaimable, 0) ?? 0;
  return (
    <section className="disk-usage" aria-label={t('disk.title', { machine })}>
      <div className="disk-usage-header">
        <h3>{t('disk.heading')}</h3>
        <button type="button" className="button button--small" onClick={() => setCleaning(true)} disabled={!usage}>
          <Icon name="trash" size={14} />
          {t('disk.cleanUp')}
        </button>
      </div>
      {error !== undefined && (
        <p className="callout callout--bad" role="alert">
          {t('disk.error', { message: error })}
        </p>
      )}
      {result && (
        <p className="callout callout--info" role="status">
          {t(result.volumes?.length ? 'disk.doneVolumes' : 'disk.done', {
            containers: formatNumber(language, result.containers.length),
            images: formatNumber(language, result.images.length),
            volumes: formatNumber(language, result.volumes?.length ?? 0),
            size: formatBytes(language, result.reclaimed),
          })}
        </p>
      )}
      {usage && (
        <table className="data-table" aria-label={t('disk.title', { machine })}>
          <thead>
            <tr>
              <th scope="col">{t('disk.column.type')}</th>
              <th scope="col">{t('disk.column.total')}</th>
              <th scope="col">{t('disk.column.active')}</th>
              <th scope="col">{t('disk.column.size')}</th>
              <th scope="col">{t('disk.column.reclaimable')}</th>
            </tr>
          </thead>
          <tbody>
            {usage.rows.map((row) => (
              <tr key={row.type}>
                <th scope="row">{t(typeLabels[row.type])}</th>
                <td>{formatNumber(language, row.total)}</td>
                <td>{formatNumber(language, row.active)}</td>
                <td title={`${row.size} B`}>{formatBytes(language, row.size)}</td>
                <td title={`${row.reclaimable} B`}>{formatBytes(language, row.reclaimable)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {usage && <p className="muted disk-usage-reclaimable">{t('disk.reclaimable', { size: formatBytes(language, reclaimable) })}</p>}
      {cleaning && (
        <CleanUpDialog
          machine={machine}
          onClose={() => setCleaning(false)}
          onDone={(done) => {
            setCleaning(false);
            setResult(done);
            setRound((value) => value + 1);
          }}
        />
      )}
    </section>
  );
}

function CleanUpDialog({ machine, onClose, onDone }: { machine: string; onClose: () => void; onDone: (result: PruneResult) => void }) {
  const t = useT();
  const language = useLanguage();
  const client = useClient();
  const [all, setAll] = useState(false);
  // Volumes hold data no image can give back: they go only when the user ticks this box.
  const [volumes, setVolumes] = useState(false);
  // The plan for the boxes' current settings; one asked for other settings is not shown.
  const [planned, setPlanned] = useState<{ all: boolean; volumes: boolean; result: PruneResult }>();
  const plan = planned?.all === all && planned.volumes === volumes ? planned.result : undefined;
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let current = true;
    client.call('system.prune', { machine, all, ...(volumes ? { volumes } : {}), dryRun: true }).then(
      (result) => current && setPlanned({ all, volumes, result }),
      (caught: unknown) => current && setError(errorMessage(caught)),
    );
    return () => {
      current = false;
    };
  }, [client, machine, all, volumes]);
  const empty = plan !== undefined && plan.containers.length + plan.images.length + (plan.volumes?.length ?? 0) === 0;
  const confirm = async (): Promise<void> => {
    setBusy(true);
    try {
      onDone(await client.call('system.prune', { machine, all, ...(volumes ? { volumes } : {}) }));
    } catch (caught) {
      setError(errorMessage(caught));
      setBusy(false);
    }
  };
  return (
    <Modal
      title={t('disk.confirm.title', { machine })}
      description={t('disk.confirm.description')}
      onClose={onClose}
      busy={busy}
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={busy}>
            {t('disk.confirm.cancel')}
          </button>
          <button type="button" className="button button--danger" onClick={() => void confirm()} disabled={!plan || empty || busy}>
            {t('disk.confirm.button')}
          </button>
        </>
      }
    >
      <label className="checkbox">
        <input type="checkbox" checked={all} onChange={(event) => setAll(event.target.checked)} disabled={busy} />
        {t('disk.confirm.all')}
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={volumes} onChange={(event) => setVolumes(event.target.checked)} disabled={busy} />
        {t('disk.confirm.volumes')}
      </label>
      {error !== undefined && (
        <p className="callout callout--bad" role="alert">
          {t('disk.error', { message: error })}
        </p>
      )}
      {plan === undefined && error === undefined && <p role="status">{t('disk.confirm.planning')}</p>}
      {empty && <p role="status">{t('disk.confirm.nothing')}</p>}
      {plan && !empty && (
        <>
          <p role="status">{t('disk.confirm.frees', { size: formatBytes(language, plan.reclaimed) })}</p>
          <ul className="prune-plan" aria-label={t('disk.confirm.list')}>
            {plan.containers.map((c) => (
              <li key={c.id}>{t('disk.confirm.container', { name: c.name, id: c.id.slice(0, 12) })}</li>
            ))}
            {plan.images.map((image) => (
              <li key={image.id}>{t('disk.confirm.image', { name: image.names.join(', ') || '<none>', id: image.id.slice(7, 19) })}</li>
            ))}
            {plan.volumes?.map((name) => (
              <li key={`volume:${name}`}>{t('disk.confirm.volume', { name })}</li>
            ))}
          </ul>
        </>
      )}
    </Modal>
  );
}
