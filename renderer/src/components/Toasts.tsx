import { useT } from '../i18n';
import { useToasts } from '../stores/toasts';
import { Icon } from './icons';

/** The corner where action results appear; errors are alerts and stay until dismissed. */
export function Toasts() {
  const t = useT();
  const toasts = useToasts((state) => state.toasts);
  const dismiss = useToasts((state) => state.dismiss);
  return (
    <section className="toasts" aria-label={t('toasts.label')}>
      {toasts.map((toast) => (
        <div key={toast.id} className={`toast toast--${toast.tone}`} role={toast.tone === 'bad' ? 'alert' : 'status'}>
          <Icon name={toast.tone === 'bad' ? 'alert' : toast.tone === 'ok' ? 'check' : 'info'} size={18} />
          <div className="toast-text">
            <p className="toast-title">{toast.title}</p>
            {toast.detail && <p className="toast-detail">{toast.detail}</p>}
          </div>
          <button type="button" className="icon-button" onClick={() => dismiss(toast.id)} aria-label={t('common.dismiss')}>
            <Icon name="close" size={16} />
          </button>
        </div>
      ))}
    </section>
  );
}
