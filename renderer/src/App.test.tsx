// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from './App';
import { useLanguageStore } from './i18n';
import { createStores, StoresContext } from './stores';
import { useNavigation } from './stores/navigation';
import { sampleInfo, ScriptedClient } from './stores/test-fixtures';

function renderApp(client = new ScriptedClient()) {
  const stores = createStores(client);
  stores.host.setState({ connection: client.connectionState, app: { version: '0.1.0', platform: 'linux', secretVault: false } });
  stores.machines.setState({
    status: 'ready',
    machines: [{ name: 'local', provider: 'local', state: 'ready' }],
    info: { local: { status: 'ready', data: sampleInfo } },
  });
  render(
    <StoresContext value={stores}>
      <App />
    </StoresContext>,
  );
  return stores;
}

describe('App shell', () => {
  beforeEach(() => {
    useLanguageStore.setState({ language: 'en' });
    useNavigation.setState({ view: 'machines' });
  });
  afterEach(cleanup);

  it('has a navigation with every section and marks the current one', () => {
    renderApp();
    const nav = screen.getByRole('navigation', { name: 'Sections' });
    const names = within(nav)
      .getAllByRole('button')
      .map((button) => button.textContent);
    expect(names).toEqual(['Machines', 'Containers', 'Images', 'Networks', 'Terminals', 'Activity']);
    expect(within(nav).getByRole('button', { name: 'Machines' }).getAttribute('aria-current')).toBe('page');
    expect(screen.getByText('Version 0.1.0 · linux')).toBeTruthy();
  });

  it('opens each section from the sidebar', () => {
    renderApp();
    for (const name of ['Containers', 'Images', 'Activity', 'Machines']) {
      fireEvent.click(within(screen.getByRole('navigation', { name: 'Sections' })).getByRole('button', { name }));
      expect(screen.getByRole('heading', { level: 1, name })).toBeTruthy();
    }
  });

  it('switches language from the sidebar and labels <html> accordingly', () => {
    renderApp();
    fireEvent.change(screen.getByRole('combobox', { name: 'Language' }), { target: { value: 'ko' } });
    expect(screen.getByRole('heading', { level: 1, name: '머신' })).toBeTruthy();
    expect(screen.getByRole('navigation', { name: '섹션' })).toBeTruthy();
    expect(document.documentElement.lang).toBe('ko');
    fireEvent.change(screen.getByRole('combobox', { name: '언어' }), { target: { value: 'en' } });
    expect(document.documentElement.lang).toBe('en');
  });

  it('shows a banner while the link is down', () => {
    const client = new ScriptedClient();
    const stores = renderApp(client);
    expect(screen.queryByText(/connection to Onggi was lost/)).toBeNull();
    act(() => stores.host.setState({ connection: 'lost' }));
    expect(screen.getByRole('alert').textContent).toContain('The connection to Onggi was lost');
    expect(screen.getByRole('status', { name: 'Connection to Onggi' }).textContent).toBe('Reconnecting…');
  });
});
