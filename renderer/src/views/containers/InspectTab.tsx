// The container's whole record as the agent reports it, to read or to copy.
import { useState } from 'react';
import { Icon } from '../../components/icons';
import { useT } from '../../i18n';
import { copyText } from '../../lib/clipboard';
import { useToasts } from '../../stores/toasts';
import type { DetailState } from './ContainerDetail';

export function InspectTab({ detail }: { detail: DetailState & { reload: () => void } }) {
  const t = useT();
  const push = useToasts((state) => state.push);
  const [copied, setCopied] = useState(false);
  const json = detail.data ? JSON.stringify(detail.data, null, 2) : '';
  const copy = async (): Promise<void> => {
    try {
      await copyText(json);
      setCopied(true);
      setTimeout(() => setCopied(false), 2_000);
    } catch (error) {
      push({ tone: 'bad', title: t('common.copyFailed'), detail: error instanceof Error ? error.message : String(error) });
    }
  };
  return (
    <div className="inspect">
      <div className="toolbar">
        <span className="muted">{t('inspect.hint')}</span>
        <span className="toolbar-spacer" />
        <button type="button" className="button button--small" onClick={detail.reload} disabled={detail.status === 'loading'}>
          <Icon name="refresh" size={14} className={detail.status === 'loading' ? 'spin' : undefined} />
          {t('common.refresh')}
        </button>
        <button type="button" className="button button--small" onClick={() => void copy()} disabled={!detail.data}>
          <Icon name={copied ? 'check' : 'copy'} size={14} />
          {copied ? t('common.copied') : t('inspect.copy')}
        </button>
      </div>
      {detail.status === 'error' && (
        <div className="callout callout--bad" role="alert">
          <Icon name="alert" />
          <p>{t('detail.inspectError', { message: detail.error ?? '' })}</p>
        </div>
      )}
      {detail.data ? (
        <pre className="json" tabIndex={0} aria-label={t('inspect.label')}>
          {json}
        </pre>
      ) : (
        detail.status === 'loading' && (
          <div className="loading" role="status">
            <span className="spinner" aria-hidden="true" />
            {t('detail.loading')}
          </div>
        )
      )}
    </div>
  );
}
