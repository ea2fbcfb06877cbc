import { useId } from 'react';
import { isLanguage, languages, useLanguageStore, useT, type Language, type MessageKey } from '../i18n';
import { useHost } from '../stores';
import { useNavigation, views, type View } from '../stores/navigation';
import { Icon, Logo } from './icons';

export const viewLabels: Record<View, MessageKey> = {
  machines: 'nav.machines',
  containers: 'nav.containers',
  images: 'nav.images',
  networks: 'nav.networks',
  volumes: 'nav.volumes',
  terminals: 'nav.terminals',
  activity: 'nav.activity',
};

export function Sidebar() {
  const t = useT();
  const current = useNavigation((state) => state.view);
  const go = useNavigation((state) => state.go);
  return (
    <aside className="sidebar">
      <div className="brand">
        <Logo />
        <div className="brand-text">
          <span className="brand-name">{t('app.name')}</span>
          <span className="brand-tagline">{t('app.tagline')}</span>
        </div>
      </div>
      <nav aria-label={t('nav.label')} className="nav">
        <ul>
          {views.map((view) => (
            <li key={view}>
              <button type="button" className="nav-item" aria-current={view === current ? 'page' : undefined} onClick={() => go(view)}>
                <Icon name={view} />
                <span>{t(viewLabels[view])}</span>
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <div className="sidebar-footer">
        <ConnectionStatus />
        <LanguageSwitcher />
        <AppVersion />
      </div>
    </aside>
  );
}

function ConnectionStatus() {
  const t = useT();
  const connection = useHost((state) => state.connection);
  const label = connection === 'open' ? t('connection.open') : connection === 'lost' ? t('connection.lost') : t('connection.connecting');
  return (
    <div className={`connection connection--${connection}`} role="status" aria-label={t('connection.label')}>
      <span className="connection-dot" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

const languageNames: Record<Language, MessageKey> = { en: 'language.en', ko: 'language.ko' };

function LanguageSwitcher() {
  const t = useT();
  const id = useId();
  const language = useLanguageStore((state) => state.language);
  const setLanguage = useLanguageStore((state) => state.setLanguage);
  return (
    <div className="language">
      <label htmlFor={id}>{t('language.label')}</label>
      <select
        id={id}
        value={language}
        onChange={(event) => {
          if (isLanguage(event.target.value)) setLanguage(event.target.value);
        }}
      >
        {languages.map((code) => (
          <option key={code} value={code} lang={code}>
            {t(languageNames[code])}
          </option>
        ))}
      </select>
    </div>
  );
}

function AppVersion() {
  const t = useT();
  const app = useHost((state) => state.app);
  if (!app) return null;
  return <p className="app-version">{t('app.version', { version: app.version, platform: app.platform })}</p>;
}
