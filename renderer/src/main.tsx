import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createHostClient } from './api';
import { App, MissingToken } from './App';
import { createStores, startStores, StoresContext } from './stores';
import { useNavigation, viewFromHash } from './stores/navigation';
import './styles/app.css';
import './styles/views.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html lacks #root');
const root = createRoot(container);

const choice = createHostClient(window);
if (!choice.ok) {
  root.render(
    <StrictMode>
      <MissingToken />
    </StrictMode>,
  );
} else {
  const stores = createStores(choice.client);
  startStores(stores);
  // Back from sleep or a network change: try at once instead of waiting out the back-off.
  window.addEventListener('online', () => choice.client.reconnectNow());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') choice.client.reconnectNow();
  });
  window.addEventListener('hashchange', () => useNavigation.getState().go(viewFromHash(location.hash)));
  root.render(
    <StrictMode>
      <StoresContext value={stores}>
        <App />
      </StoresContext>
    </StrictMode>,
  );
}
