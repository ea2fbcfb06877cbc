// Pull an image: the reference is checked as typed with the API's own ImageReference schema; once
// the pull runs, one bar per layer follows its `pull.progress` events, with the overall share and
// speed above them. Closing the dialog does not stop the pull: it keeps going on the machine and
// stays visible in the Images view.
import { useRef, useState, type FormEvent } from 'react';
import { ImageReference } from '../../../../shared/images.js';
import { Field } from '../../components/Field';
import { Icon } from '../../components/icons';
import { Modal } from '../../components/Modal';
import { formatBytes, formatNumber, formatRate, useLanguage, useT, type MessageKey } from '../../i18n';
import { shortId } from '../../lib/images';
import { useImages } from '../../stores';
import { downloadedBytes, pullFraction, pullSpeed, type LayerStatus, type PullState } from '../../stores/images';

export const layerStatusLabels: Record<LayerStatus, MessageKey> = {
  resolving: 'pull.status.resolving',
  waiting: 'pull.status.waiting',
  downloading: 'pull.status.downloading',
  verifying: 'pull.status.verifying',
  extracting: 'pull.status.extracting',
  exists: 'pull.status.exists',
  done: 'pull.status.done',
};

export function PullDialog({ onClose }: { onClose: () => void }) {
  const t = useT();
  const input = useRef<HTMLInputElement>(null);
  const pull = useImages((state) => state.pull);
  const [ref, setRef] = useState('');
  const [insecure, setInsecure] = useState(false);
  const [error, setError] = useState<string>();
  const [pullId, setPullId] = useState<string>();
  const current = useImages((state) => state.pulls.find((candidate) => candidate.id === pullId));

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const checked = ImageReference.safeParse(ref.trim());
    if (!checked.success) {
      setError(ref.trim() === '' ? t('run.error.required') : (checked.error.issues[0]?.message ?? t('pull.invalid')));
      input.current?.focus();
      return;
    }
    setError(undefined);
    setPullId(pull(checked.data, { insecure }));
  };

  const pulling = current?.status === 'pulling';
  return (
    <Modal
      title={t('pull.title')}
      description={t('pull.description')}
      onClose={onClose}
      initialFocus={input}
      footer={
        current && current.status !== 'failed' ? (
          <button type="button" className="button" onClick={onClose}>
            {pulling ? t('pull.background') : t('common.close')}
          </button>
        ) : (
          <>
            <button type="button" className="button" onClick={onClose}>
              {t('common.cancel')}
            </button>
            <button type="submit" form="pull-form" className="button button--primary">
              <Icon name="download" size={16} />
              {current?.status === 'failed' ? t('pull.retry') : t('pull.submit')}
            </button>
          </>
        )
      }
    >
      <form id="pull-form" className="form-grid" noValidate onSubmit={submit}>
        <Field label={t('pull.ref')} hint={t('pull.ref.hint')} error={error} className="form-wide">
          <input
            ref={input}
            name="ref"
            value={ref}
            onChange={(event) => setRef(event.target.value)}
            readOnly={pulling}
            autoComplete="off"
            spellCheck={false}
            placeholder="alpine:3.20"
          />
        </Field>
        <label className="checkbox form-wide">
          <input type="checkbox" checked={insecure} onChange={(event) => setInsecure(event.target.checked)} disabled={pulling} />
          <span>{t('pull.insecure')}</span>
        </label>
      </form>
      {current && <PullProgressView pull={current} />}
    </Modal>
  );
}

/** The overall bar, speed and one bar per layer. */
export function PullProgressView({ pull }: { pull: PullState }) {
  const t = useT();
  const language = useLanguage();
  const fraction = pullFraction(pull);
  const total = pull.layers.reduce((sum, layer) => sum + layer.total, 0);
  const speed = pull.status === 'pulling' ? pullSpeed(pull.samples) : 0;
  const percent = Math.round(fraction * 100);
  return (
    <section className="pull" aria-label={t('pull.progressLabel', { ref: pull.ref })}>
      <div className="pull-overall">
        <div className="pull-overall-head">
          <span className="pull-ref mono">{pull.ref}</span>
          <span className="muted" role="status">
            {pull.status === 'done'
              ? t('pull.done')
              : pull.status === 'failed'
                ? t('pull.failed')
                : pull.layers.length === 0
                  ? t(layerStatusLabels[pull.step])
                  : t('pull.overall', {
                      percent,
                      done: formatBytes(language, downloadedBytes(pull.layers)),
                      total: formatBytes(language, total),
                      speed: formatRate(language, speed),
                    })}
          </span>
        </div>
        <div
          className={`progress progress--large progress--${pull.status}`}
          role="progressbar"
          aria-label={t('pull.overallLabel')}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
        >
          <span style={{ width: `${percent}%` }} />
        </div>
      </div>
      {pull.error && (
        <div className="callout callout--bad" role="alert">
          <Icon name="alert" />
          <p>{pull.error}</p>
        </div>
      )}
      {pull.layers.length > 0 && (
        <ol className="layers" aria-label={t('pull.layers')}>
          {pull.layers.map((layer, index) => {
            const layerPercent = layer.total > 0 ? Math.round((layer.current / layer.total) * 100) : layer.status === 'done' ? 100 : 0;
            const name = t('pull.layer', { index: index + 1, digest: shortId(layer.digest) });
            return (
              <li key={layer.digest} className={`layer layer--${layer.status}`}>
                <span className="layer-name mono">{shortId(layer.digest)}</span>
                <div
                  className="progress"
                  role="progressbar"
                  aria-label={name}
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={layer.status === 'done' || layer.status === 'exists' ? 100 : layerPercent}
                  aria-valuetext={`${t(layerStatusLabels[layer.status])} ${formatNumber(language, layerPercent)} %`}
                >
                  <span style={{ width: `${layer.status === 'done' || layer.status === 'exists' ? 100 : layerPercent}%` }} />
                </div>
                <span className="layer-status">{t(layerStatusLabels[layer.status])}</span>
                <span className="layer-size muted">
                  {layer.status === 'downloading' || layer.status === 'extracting'
                    ? `${formatBytes(language, layer.current)} / ${formatBytes(language, layer.total)}`
                    : formatBytes(language, layer.total)}
                </span>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
