// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useLanguageStore } from '../i18n';
import { createStores, StoresContext, type Stores } from '../stores';
import { sampleInfo, ScriptedClient } from '../stores/test-fixtures';
import { MachinesView } from './MachinesView';

function renderWith(stores: Stores) {
  return render(
    <StoresContext value={stores}>
      <MachinesView />
    </StoresContext>,
  );
}

function definition(region: HTMLElement, term: string): string {
  // As in the e2e spec: the value is labelled by its term (getByRole('definition', { name }) works
  // in jsdom but not in Playwright, which treats the definition role as unnameable).
  return within(region).getByLabelText(term, { selector: 'dd' }).textContent ?? '';
}

describe('MachinesView', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('shows a machine with its state and the agent’s system info', () => {
    const stores = createStores(new ScriptedClient());
    stores.machines.setState({
      status: 'ready',
      machines: [{ name: 'local', provider: 'local', state: 'ready' }],
      info: { local: { status: 'ready', data: sampleInfo, fetchedAt: Date.now() } },
    });
    renderWith(stores);

    expect(screen.getByRole('heading', { level: 1, name: 'Machines' })).toBeTruthy();
    const machine = screen.getByRole('region', { name: 'local' });
    expect(within(machine).getByText('This computer')).toBeTruthy();
    expect(within(machine).getByText('Ready')).toBeTruthy();
    expect(definition(machine, 'Kernel release')).toBe('6.1.0-28-amd64');
    expect(definition(machine, 'Kernel version')).toBe(sampleInfo.kernelVersion);
    expect(definition(machine, 'Distribution')).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(definition(machine, 'Machine type')).toBe('x86_64');
    expect(definition(machine, 'Architecture')).toBe('amd64');
    expect(definition(machine, 'Cgroup version')).toBe('1');
    expect(definition(machine, 'Cgroup mode')).toBe('Hybrid (v1 + v2)');
    expect(definition(machine, 'Root file system')).toBe('tmpfs');
    const controllers = within(within(machine).getByLabelText('Controllers', { selector: 'dd' })).getAllByRole('listitem');
    expect(controllers.map((item) => item.textContent)).toEqual(['cpuv1', 'memoryv1', 'pidsv1', 'hugetlbv2']);
    expect(definition(machine, 'CPUs')).toBe('8');
    expect(definition(machine, 'Memory')).toBe('31.3 GiB');
    expect(definition(machine, 'Uptime')).toBe('3 d 4 h');
    expect(definition(machine, 'Agent version')).toBe('0.1.0');
    expect(definition(machine, 'Build ID')).toBe('3f2a9c41d0e8');
    expect(definition(machine, 'Process ID')).toBe('4242');
    expect(within(machine).queryByRole('alert')).toBeNull();
  });

  it('shows the host’s error for a machine in the error state', () => {
    const stores = createStores(new ScriptedClient());
    stores.machines.setState({
      status: 'ready',
      machines: [{ name: 'local', provider: 'local', state: 'error', error: 'the agent needs root: run onggi with sudo once' }],
      info: { local: { status: 'error', error: 'the agent needs root: run onggi with sudo once' } },
    });
    renderWith(stores);
    const machine = screen.getByRole('region', { name: 'local' });
    expect(within(machine).getByText('Error')).toBeTruthy();
    const alerts = within(machine).getAllByRole('alert');
    // The same message from the state and from the failed read is shown once.
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.textContent).toContain('the agent needs root: run onggi with sudo once');
  });

  it('marks info as stale while the link is down', () => {
    const stores = createStores(new ScriptedClient());
    stores.host.setState({ connection: 'lost' });
    stores.machines.setState({
      status: 'ready',
      machines: [{ name: 'local', provider: 'local', state: 'ready' }],
      info: { local: { status: 'ready', data: sampleInfo } },
    });
    renderWith(stores);
    expect(within(screen.getByRole('region', { name: 'local' })).getByText('Last known')).toBeTruthy();
  });

  it('loads through the store and offers a retry when listing fails', async () => {
    let fail = true;
    const client = new ScriptedClient({
      'machines.list': () => {
        if (fail) throw new Error('socket closed');
        return [{ name: 'local', provider: 'local', state: 'ready' }];
      },
      'machines.info': () => sampleInfo,
    });
    const stores = createStores(client);
    renderWith(stores);
    await act(() => stores.machines.getState().load());
    expect(screen.getByRole('alert').textContent).toContain('Could not list machines: socket closed');
    fail = false;
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    });
    const machine = await screen.findByRole('region', { name: 'local' });
    expect(await within(machine).findByLabelText('Kernel release', { selector: 'dd' })).toBeTruthy();
  });

  it('speaks Korean when asked', () => {
    useLanguageStore.setState({ language: 'ko' });
    const stores = createStores(new ScriptedClient());
    stores.machines.setState({
      status: 'ready',
      machines: [{ name: 'local', provider: 'local', state: 'ready' }],
      info: { local: { status: 'ready', data: sampleInfo } },
    });
    renderWith(stores);
    expect(screen.getByRole('heading', { level: 1, name: '머신' })).toBeTruthy();
    const machine = screen.getByRole('region', { name: 'local' });
    expect(definition(machine, '커널 릴리스')).toBe('6.1.0-28-amd64');
    expect(definition(machine, '가동 시간')).toBe('3일 4시간');
  });
});
