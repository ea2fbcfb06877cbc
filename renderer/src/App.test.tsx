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
    // The window as it opens: the navigation store's own first state, then the Machines view.
    useNavigation.setState({ ...useNavigation.getInitialState(), view: 'machines' });
  });
  afterEach(cleanup);

  it('has a navigation with every section and marks the current one', () => {
    renderApp();
    const nav = screen.getByRole('navigation', { name: 'Sections' });
    const names = within(nav)
      .getAllByRole('button')
      .map((button) => button.textContent);
    expect(names).toEqual(['Machines', 'Containers', 'Images', 'Networks', 'Volumes', 'Terminals', 'Activity']);
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

  it('acts on the machine used last, else the only one, and never on a `local` this computer does not have', async () => {
    const ec2 = { name: 'ec2', provider: 'ssh', state: 'ready' } as const;
    const lab = { name: 'lab', provider: 'ssh', state: 'ready' } as const;
    const client = new ScriptedClient({
      'machines.list': () => [ec2, lab],
      'machines.lastUsed': () => ({ machine: 'lab' }),
      'machines.info': () => sampleInfo,
      'machines.use': () => ({}),
      'containers.list': () => [],
      'images.list': () => [],
    });
    const stores = createStores(client);
    useNavigation.setState({ view: 'containers' });
    render(
      <StoresContext value={stores}>
        <App />
      </StoresContext>,
    );
    await act(() => stores.machines.getState().load());
    const picker = screen.getByRole('combobox', { name: 'Machine' }) as HTMLSelectElement;
    expect(picker.value).toBe('lab');
    expect(client.callsOf('containers.list')).toEqual([{ machine: 'lab', all: true }]);
    expect(screen.queryByText(/local/)).toBeNull();

    // Picking another machine is remembered on the host, for the next window and the CLI.
    fireEvent.change(picker, { target: { value: 'ec2' } });
    expect(client.callsOf('machines.use')).toEqual([{ machine: 'ec2' }]);
    expect(stores.machines.getState().lastUsed).toBe('ec2');
  });

  it('asks which machine when there are several and none was used last', async () => {
    const client = new ScriptedClient({
      'machines.list': () => [
        { name: 'ec2', provider: 'ssh', state: 'stopped' },
        { name: 'lab', provider: 'vagrant', state: 'stopped' },
      ],
      'machines.lastUsed': () => ({}),
    });
    const stores = createStores(client);
    useNavigation.setState({ view: 'images' });
    render(
      <StoresContext value={stores}>
        <App />
      </StoresContext>,
    );
    await act(() => stores.machines.getState().load());
    expect(screen.getByRole('heading', { level: 1, name: 'Images' })).toBeTruthy();
    expect(screen.getByRole('heading', { level: 2, name: 'Choose a machine' })).toBeTruthy();
    const picker = screen.getByRole('combobox', { name: 'Machine' }) as HTMLSelectElement;
    expect(picker.value).toBe('');
    expect(
      within(picker)
        .getAllByRole('option')
        .map((option) => option.textContent),
    ).toEqual(['Choose a machine…', 'ec2 — Stopped', 'lab — Stopped']);
  });
});
