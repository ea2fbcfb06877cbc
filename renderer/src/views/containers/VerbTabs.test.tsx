// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useLanguageStore } from '../../i18n';
import { createStores, StoresContext } from '../../stores';
import { ScriptedClient, runningContainer as running } from '../../stores/test-fixtures';
import { ChangesTab, HealthBadge, PauseButton, ProcessesTab } from './VerbTabs';

describe('container verbs in the window', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('Processes lists each process with both PIDs; Changes lists A/C/D', async () => {
    const client = new ScriptedClient({
      'containers.top': () => ({
        processes: [
          { pid: 1, hostPid: 4242, ppid: 0, uid: 0, user: 'root', command: 'sleep 1000' },
          { pid: 7, hostPid: 4300, ppid: 1, uid: 65534, user: 'nobody', command: 'sh' },
        ],
      }),
      'containers.diff': () => ({
        changes: [
          { kind: 'C', path: '/etc' },
          { kind: 'D', path: '/etc/group' },
          { kind: 'A', path: '/new.txt' },
        ],
      }),
    });
    render(
      <StoresContext value={createStores(client)}>
        <ProcessesTab machine="local" container={running} />
        <ChangesTab machine="local" container={running} />
      </StoresContext>,
    );
    const processes = await screen.findByRole('table', { name: 'Processes of web' });
    expect(
      within(processes)
        .getAllByRole('row')
        .map((row) => row.textContent),
    ).toEqual(['PIDHost PIDPPIDUserCommand', '142420rootsleep 1000', '743001nobodysh']);
    const changes = await screen.findByRole('table', { name: 'Changes of web' });
    expect(
      within(changes)
        .getAllByRole('row')
        .map((row) => row.textContent),
    ).toEqual(['C/etc', 'D/etc/group', 'A/new.txt']);
  });

  it('Pause calls containers.pause and the header then offers Resume and shows Paused; health shows as a badge', async () => {
    const client = new ScriptedClient({
      'containers.list': () => [running],
      'containers.pause': () => ({ ...running, paused: true }),
    });
    const stores = createStores(client);
    await stores.containers.getState().load('local');
    function Header() {
      const container = stores.containers.getState().containers[0] ?? running;
      return (
        <>
          <HealthBadge container={container} />
          <PauseButton container={container} />
        </>
      );
    }
    const view = render(
      <StoresContext value={stores}>
        <Header />
      </StoresContext>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    await waitFor(() => expect(client.calls.some((call) => call.method === 'containers.pause')).toBe(true));
    await waitFor(() => expect(stores.containers.getState().containers[0]?.paused).toBe(true));
    view.rerender(
      <StoresContext value={stores}>
        <Header />
      </StoresContext>,
    );
    expect(screen.getByRole('button', { name: 'Resume' })).toBeTruthy();
    expect(screen.getByText('Paused')).toBeTruthy();
    cleanup();
    render(
      <StoresContext value={stores}>
        <HealthBadge container={{ ...running, health: { status: 'unhealthy', failingStreak: 3, log: [] } }} />
      </StoresContext>,
    );
    expect(screen.getByText('Unhealthy')).toBeTruthy();
  });
});
