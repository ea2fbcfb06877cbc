// Images: what the machine has (names, size, layers, created), pulls with their progress, and
// removal, with the agent's reason shown when it refuses (a container still uses the image).
import { useState } from 'react';
import type { ImageSummary } from '../../../../shared/images.js';
import { errorMessage } from '../../../../shared/errors.js';
import { StaleNotice, useNotCurrent } from '../../components/Freshness';
import { Icon } from '../../components/icons';
import { MachineNotReady, useMachineLoad } from '../../components/MachinePicker';
import { ConfirmDialog } from '../../components/Modal';
import { formatBytes, formatDateTime, formatNumber, useLanguage, useT } from '../../i18n';
import { imageLabel, shortId, shortImageName } from '../../lib/images';
import { useImages } from '../../stores';
import { useToasts } from '../../stores/toasts';
import { MachineViewHeader } from '../MachineViewHeader';
import { ImportDialog } from './ImportDialog';
import { PullDialog, PullProgressView } from './PullDialog';

export function ImagesView() {
  const t = useT();
  const load = useImages((state) => state.load);
  const status = useImages((state) => state.status);
  const [pullOpen, setPullOpen] = useState(false);
  const [importOpen, setImportOpen] = useState(false);
  const { name: machine, summary, usable } = useMachineLoad(load);

  return (
    <>
      <MachineViewHeader view="images" refresh={{ onClick: () => void load(machine), loading: status === 'loading', disabled: !usable }}>
        <button type="button" className="button" onClick={() => setImportOpen(true)} disabled={!usable}>
          <Icon name="layers" size={16} />
          {t('images.import')}
        </button>
        <button type="button" className="button button--primary" onClick={() => setPullOpen(true)} disabled={!usable}>
          <Icon name="download" size={16} />
          {t('images.pull')}
        </button>
      </MachineViewHeader>
      {usable ? <ImagesBody machine={machine} /> : <MachineNotReady name={machine} summary={summary} />}
      {pullOpen && <PullDialog onClose={() => setPullOpen(false)} />}
      {importOpen && <ImportDialog machine={machine} onClose={() => setImportOpen(false)} />}
    </>
  );
}

function ImagesBody({ machine }: { machine: string }) {
  const t = useT();
  const language = useLanguage();
  const images = useImages((state) => state.images);
  const status = useImages((state) => state.status);
  const error = useImages((state) => state.error);
  const stale = useImages((state) => state.stale);
  const fetchedAt = useImages((state) => state.fetchedAt);
  const removing = useImages((state) => state.removing);
  const allPulls = useImages((state) => state.pulls);
  const pulls = allPulls.filter((pull) => pull.machine === machine);
  const load = useImages((state) => state.load);
  const remove = useImages((state) => state.remove);
  const dismissPull = useImages((state) => state.dismissPull);
  const push = useToasts((state) => state.push);
  const notCurrent = useNotCurrent(stale, fetchedAt);
  const [confirm, setConfirm] = useState<ImageSummary>();
  const [refusals, setRefusals] = useState<Record<string, string>>({});

  const doRemove = async (image: ImageSummary): Promise<void> => {
    setRefusals(({ [image.id]: _dropped, ...rest }) => rest);
    try {
      await remove(image);
      push({ tone: 'ok', title: t('images.removed', { name: imageLabel(image) }) });
    } catch (caught) {
      // The agent's own words say why (e.g. which container uses it); they stay on the row.
      setRefusals((current) => ({ ...current, [image.id]: errorMessage(caught) }));
    }
  };

  const totalSize = images.reduce((sum, image) => sum + image.size, 0);

  return (
    <div className="view-body">
      {notCurrent && <StaleNotice fetchedAt={fetchedAt} onRefresh={() => void load(machine)} refreshing={status === 'loading'} />}
      {status === 'error' && (
        <div className="callout callout--bad" role="alert">
          <Icon name="alert" />
          <p>{t('images.listError', { message: error ?? '' })}</p>
          <button type="button" className="button button--small" onClick={() => void load(machine)}>
            {t('machines.retry')}
          </button>
        </div>
      )}
      {pulls.length > 0 && (
        <section className="card pulls" aria-label={t('images.pulls')}>
          {pulls.map((pull) => (
            <div key={pull.id} className="pull-card">
              <PullProgressView pull={pull} />
              {pull.status !== 'pulling' && (
                <button
                  type="button"
                  className="icon-button"
                  onClick={() => dismissPull(pull.id)}
                  aria-label={t('images.dismissPull', { ref: pull.ref })}
                >
                  <Icon name="close" size={16} />
                </button>
              )}
            </div>
          ))}
        </section>
      )}
      <p className="callout callout--info">
        <Icon name="info" />
        <span>{t('images.importNote')}</span>
      </p>
      {images.length === 0 && status === 'ready' ? (
        <div className="empty">
          <span className="empty-icon">
            <Icon name="images" size={32} />
          </span>
          <h2>{t('images.empty.title')}</h2>
          <p>{t('images.empty.body')}</p>
        </div>
      ) : images.length === 0 && status === 'loading' ? (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" />
          {t('images.loading')}
        </div>
      ) : (
        <div className={notCurrent ? 'card table-card is-stale' : 'card table-card'}>
          <table className="data-table images-table" aria-label={t('images.tableLabel', { machine })}>
            <caption className="table-caption">
              {t('images.summary', { count: formatNumber(language, images.length), size: formatBytes(language, totalSize) })}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('images.column.name')}</th>
                <th scope="col">{t('images.column.id')}</th>
                <th scope="col" className="numeric">
                  {t('images.column.layers')}
                </th>
                <th scope="col" className="numeric">
                  {t('images.column.size')}
                </th>
                <th scope="col">{t('images.column.created')}</th>
                <th scope="col">{t('images.column.platform')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('containers.column.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {images.map((image) => {
                const label = imageLabel(image);
                const refusal = refusals[image.id];
                return (
                  <tr key={image.id} className={refusal ? 'has-refusal' : undefined}>
                    <th scope="row">
                      <span className="image-name mono">{label}</span>
                      {image.names.slice(1).map((name) => (
                        <span key={name} className="cell-sub mono">
                          {shortImageName(name)}
                        </span>
                      ))}
                      {refusal && (
                        <p className="row-refusal" role="alert">
                          <Icon name="alert" size={14} />
                          <span>{t('images.refused', { message: refusal })}</span>
                        </p>
                      )}
                    </th>
                    <td className="mono muted" title={image.id}>
                      {shortId(image.id)}
                    </td>
                    <td className="numeric">{formatNumber(language, image.layers)}</td>
                    <td className="numeric">{formatBytes(language, image.size)}</td>
                    <td>{image.created ? formatDateTime(language, image.created) : t('images.createdUnknown')}</td>
                    <td className="mono muted">{`${image.os}/${image.architecture}`}</td>
                    <td className="actions-cell">
                      <button
                        type="button"
                        className="icon-button icon-button--danger"
                        aria-label={t('images.remove', { name: label })}
                        title={t('images.remove', { name: label })}
                        disabled={removing[image.id]}
                        onClick={() => setConfirm(image)}
                      >
                        {removing[image.id] ? (
                          <span className="spinner spinner--small" aria-hidden="true" />
                        ) : (
                          <Icon name="trash" size={16} />
                        )}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {confirm && (
        <ConfirmDialog
          danger
          title={t('images.confirm.title', { name: imageLabel(confirm) })}
          body={<p>{t('images.confirm.body')}</p>}
          confirmLabel={t('images.confirm.button')}
          onCancel={() => setConfirm(undefined)}
          onConfirm={() => {
            const image = confirm;
            setConfirm(undefined);
            void doRemove(image);
          }}
        />
      )}
    </div>
  );
}
