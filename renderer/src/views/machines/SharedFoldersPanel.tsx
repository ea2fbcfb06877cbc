// The desktop folders an SSH machine may see (`onggi machine share`): listed, added by a typed
// path (the host checks it is a folder of the desktop), removed. The window never reads the
// desktop's disk itself: the host API does, whichever front end asks.
import { useEffect, useId, useState } from 'react';
import { errorMessage } from '../../../../shared/errors.js';
import type { SharedFolder } from '../../../../shared/shares.js';
import { Icon } from '../../components/icons';
import { useT } from '../../i18n';
import { useClient } from '../../stores';

export function SharedFoldersPanel({ machine }: { machine: string }) {
  const t = useT();
  const client = useClient();
  const inputId = useId();
  const [shares, setShares] = useState<SharedFolder[]>();
  const [error, setError] = useState<string>();
  const [path, setPath] = useState('');
  const [readOnly, setReadOnly] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    let current = true;
    client.call('machines.shares', { machine }).then(
      (next) => current && (setShares(next), setError(undefined)),
      (caught: unknown) => current && setError(errorMessage(caught)),
    );
    return () => {
      current = false;
    };
  }, [client, machine]);
  const change = async (request: () => Promise<SharedFolder[]>): Promise<void> => {
    setBusy(true);
    try {
      setShares(await request());
      setError(undefined);
      setPath('');
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="shared-folders" aria-label={t('shares.title', { machine })}>
      <h3>{t('shares.heading')}</h3>
      <p className="muted">{t('shares.hint')}</p>
      {error !== undefined && (
        <p className="callout callout--bad" role="alert">
          {t('shares.error', { message: error })}
        </p>
      )}
      {shares && shares.length === 0 && <p className="muted">{t('shares.none')}</p>}
      <ul className="shared-folder-list">
        {shares?.map((share) => (
          <li key={share.path}>
            <code>{share.path}</code>
            {share.readOnly && <span className="tag">{t('shares.readOnly')}</span>}
            <button
              type="button"
              className="icon-button"
              disabled={busy}
              aria-label={t('shares.remove', { path: share.path })}
              title={t('shares.remove', { path: share.path })}
              onClick={() => void change(() => client.call('machines.unshare', { machine, path: share.path }))}
            >
              <Icon name="trash" size={14} />
            </button>
          </li>
        ))}
      </ul>
      <form
        className="shared-folder-add"
        onSubmit={(event) => {
          event.preventDefault();
          if (path.trim() !== '') void change(() => client.call('machines.share', { machine, path: path.trim(), readOnly }));
        }}
      >
        <label htmlFor={inputId}>{t('shares.path')}</label>
        <input id={inputId} value={path} onChange={(event) => setPath(event.target.value)} placeholder="~/app" spellCheck={false} />
        <label>
          <input type="checkbox" checked={readOnly} onChange={(event) => setReadOnly(event.target.checked)} />
          {t('shares.readOnly')}
        </label>
        <button type="submit" className="button button--small" disabled={busy || path.trim() === ''}>
          <Icon name="plus" size={14} />
          {t('shares.add')}
        </button>
      </form>
    </section>
  );
}
