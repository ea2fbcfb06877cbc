import { useEffect } from 'react';
import { Icon } from './components/icons';
import { MachineGate, useNoMachine } from './components/MachineGate';
import { Sidebar } from './components/Sidebar';
import { useLanguage, useT } from './i18n';
import { useClient, useHost } from './stores';
import { useNavigation } from './stores/navigation';
import { HostKeyPromptDialog } from './components/HostKeyPromptDialog';
import { SecretPromptDialog } from './components/SecretPromptDialog';
import { Toasts } from './components/Toasts';
import { ActivityView } from './views/activity/ActivityView';
import { ContainersView } from './views/containers/ContainersView';
import { ImagesView } from './views/images/ImagesView';
import { MachinesView } from './views/MachinesView';
import { NetworksView } from './views/networks/NetworksView';
import { VolumesView } from './views/volumes/VolumesView';
import { TerminalsView } from './views/terminals/TerminalsView';
import type { View } from './stores/navigation';

/** Keeps <html lang> in step with the chosen language, for screen readers and CJK line breaking. */
export function useDocumentLanguage(): void {
  const language = useLanguage();
  const t = useT();
  useEffect(() => {
    document.documentElement.lang = language;
    document.title = t('app.name');
  }, [language, t]);
}

export function App() {
  useDocumentLanguage();
  const view = useNavigation((state) => state.view);
  const welcome = useNoMachine();
  return (
    <div className="app">
      <Sidebar />
      <main className="main">
        <ConnectionBanner />
        <div className={fillViews.has(view) && !welcome ? 'view view--fill' : 'view'}>
          <MachineGate view={view}>
            <CurrentView view={view} />
          </MachineGate>
        </div>
      </main>
      <Toasts />
      <HostKeyPromptDialog />
      <SecretPromptDialog />
    </div>
  );
}

/** Views whose table fills the window and scrolls inside itself, rather than the page scrolling. */
const fillViews = new Set<View>(['containers', 'activity', 'terminals', 'networks']);

function CurrentView({ view }: { view: View }) {
  switch (view) {
    case 'machines':
      return <MachinesView />;
    case 'containers':
      return <ContainersView />;
    case 'images':
      return <ImagesView />;
    case 'activity':
      return <ActivityView />;
    case 'terminals':
      return <TerminalsView />;
    case 'networks':
      return <NetworksView />;
    case 'volumes':
      return <VolumesView />;
  }
}

function ConnectionBanner() {
  const t = useT();
  const connection = useHost((state) => state.connection);
  const client = useClient();
  if (connection !== 'lost') return null;
  return (
    <div className="banner banner--warn" role="alert">
      <Icon name="alert" />
      <p>{t('connection.lostBanner')}</p>
      <button type="button" className="button button--small" onClick={() => client.reconnectNow()}>
        {t('connection.reconnectNow')}
      </button>
    </div>
  );
}

/** Browser mode opened without `?token=`: nothing can work, so explain what to open instead. */
export function MissingToken() {
  useDocumentLanguage();
  const t = useT();
  return (
    <main className="standalone">
      <div className="empty empty--large">
        <span className="empty-icon">
          <Icon name="alert" size={36} />
        </span>
        <h1>{t('connection.missingToken.title')}</h1>
        <p>{t('connection.missingToken.body')}</p>
      </div>
    </main>
  );
}
