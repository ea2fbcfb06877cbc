// Lists read from an agent say when they may not be current: while the link to Onggi is down,
// and after it came back until a fresh read succeeded. The shell's banner says the link is down;
// this says which data on screen is affected, and offers the refresh.
import { formatTime, useLanguage, useT } from '../i18n';
import { useHost } from '../stores';
import { Icon } from './icons';

/** True when data that was read before may no longer be what the machine has. */
export function useNotCurrent(stale: boolean, fetchedAt: number | undefined): boolean {
  const connection = useHost((state) => state.connection);
  return fetchedAt !== undefined && (stale || connection !== 'open');
}

export function StaleNotice({ fetchedAt, onRefresh, refreshing }: { fetchedAt?: number; onRefresh: () => void; refreshing?: boolean }) {
  const t = useT();
  const language = useLanguage();
  const connection = useHost((state) => state.connection);
  return (
    <div className="callout callout--warn" role="status">
      <Icon name="alert" />
      <div>
        <p className="callout-title">{t('stale.title')}</p>
        <p className="callout-text">
          {fetchedAt !== undefined ? t('stale.body', { time: formatTime(language, fetchedAt) }) : t('stale.bodyNoTime')}
        </p>
      </div>
      <button type="button" className="button button--small" onClick={onRefresh} disabled={refreshing || connection !== 'open'}>
        <Icon name="refresh" size={14} className={refreshing ? 'spin' : undefined} />
        {t('common.refresh')}
      </button>
    </div>
  );
}
