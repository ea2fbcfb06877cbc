// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useLanguageStore } from '../i18n';
import { createStores, StoresContext, type Stores } from '../stores';
import { sampleInfo, ScriptedClient } from '../stores/test-fixtures';
import { useToasts } from '../stores/toasts';
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

  it('says when a machine’s clock is off by more than a second, and when Onggi set it right; says nothing for a clock in line', () => {
    const stores = createStores(new ScriptedClient());
    const machines = [
      { name: 'ec2', provider: 'ssh' as const, state: 'ready' as const },
      { name: 'vm', provider: 'vagrant' as const, state: 'ready' as const },
      { name: 'box', provider: 'ssh' as const, state: 'ready' as const },
    ];
    const at = Date.now();
    stores.machines.setState({
      status: 'ready',
      machines,
      info: {
        ec2: {
          status: 'ready',
          data: { ...sampleInfo, clock: { offsetMs: -61_200, rttMs: 8, checkedAt: at, policy: 'report' } },
          fetchedAt: at,
        },
        vm: {
          status: 'ready',
          data: {
            ...sampleInfo,
            clock: { offsetMs: 12, rttMs: 2, checkedAt: at, policy: 'correct', corrected: { at, offsetBeforeMs: -60_400, method: 'date' } },
          },
          fetchedAt: at,
        },
        box: {
          status: 'ready',
          data: { ...sampleInfo, clock: { offsetMs: 300, rttMs: 2, checkedAt: at, policy: 'report' } },
          fetchedAt: at,
        },
      },
    });
    renderWith(stores);
    expect(within(screen.getByRole('region', { name: 'ec2' })).getByRole('alert').textContent).toContain('61.2 s behind this computer');
    expect(within(screen.getByRole('region', { name: 'vm' })).getByRole('status', { name: '' }).textContent).toContain('60.4 s off');
    expect(within(screen.getByRole('region', { name: 'box' })).queryByText(/this computer/)).toBeNull();
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

  it('adds a Vagrant VM: the schema’s errors on the field, memory in the units people type', async () => {
    const client = new ScriptedClient({
      'machines.addVagrant': (params) => ({
        name: params.name,
        provider: 'vagrant',
        box: params.box ?? 'debian/bookworm64',
        cpus: params.cpus ?? 2,
        memoryMb: params.memoryMb ?? 2048,
        vagrantProvider: params.vagrantProvider ?? 'virtualbox',
      }),
      'machines.list': () => [{ name: 'local', provider: 'local', state: 'ready' }],
      'machines.info': () => sampleInfo,
    });
    const stores = createStores(client);
    stores.machines.setState({ status: 'ready', machines: [] });
    renderWith(stores);
    fireEvent.click(screen.getByRole('button', { name: 'Add a Vagrant VM' }));
    const dialog = screen.getByRole('dialog', { name: 'Add a Vagrant VM' });
    // The provider is typed with suggestions (a combobox); the others are plain text boxes.
    const field = (name: string) =>
      within(dialog).getByRole(name === 'Vagrant provider' ? 'combobox' : 'textbox', { name }) as HTMLInputElement;
    const errorOf = (input: HTMLElement): string | undefined => {
      const id = input.getAttribute('aria-describedby');
      return input.getAttribute('aria-invalid') === 'true' && id ? (document.getElementById(id)?.textContent ?? '') : undefined;
    };

    // Submitting empty names the missing field; nothing is sent.
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add' }));
    expect(errorOf(field('Name'))).toBe('Required');
    expect(client.calls.filter((call) => call.method === 'machines.addVagrant')).toEqual([]);

    fireEvent.change(field('Name'), { target: { value: 'dev' } });
    fireEvent.change(field('Box'), { target: { value: '-oops' } });
    fireEvent.change(field('CPUs'), { target: { value: '0' } });
    fireEvent.change(field('Memory'), { target: { value: 'lots' } });
    fireEvent.change(field('Vagrant provider'), { target: { value: 'Virtual Box' } });
    expect(errorOf(field('Name'))).toBeUndefined();
    expect(errorOf(field('Box'))).toMatch(/must be a box name like debian\/bookworm64/);
    expect(errorOf(field('CPUs'))).toBe('must be 1 or more');
    expect(errorOf(field('Memory'))).toMatch(/"lots" is not a size/);
    expect(errorOf(field('Vagrant provider'))).toMatch(/must be a Vagrant provider name/);
    fireEvent.change(field('Memory'), { target: { value: '128m' } });
    expect(errorOf(field('Memory'))).toBe('must be 256 MiB or more');

    fireEvent.change(field('Box'), { target: { value: 'bento/ubuntu-24.04' } });
    fireEvent.change(field('CPUs'), { target: { value: '4' } });
    fireEvent.change(field('Memory'), { target: { value: '4g' } });
    fireEvent.change(field('Vagrant provider'), { target: { value: 'libvirt' } });
    expect(
      within(dialog)
        .queryAllByRole('textbox')
        .filter((input) => input.getAttribute('aria-invalid') === 'true'),
    ).toEqual([]);
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Add' }));
    });
    expect(client.calls.find((call) => call.method === 'machines.addVagrant')?.params).toEqual({
      provider: 'vagrant',
      name: 'dev',
      box: 'bento/ubuntu-24.04',
      cpus: 4,
      memoryMb: 4096,
      vagrantProvider: 'libvirt',
      syncedFolder: false,
    });
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('leaves box and provider to the host when they are left empty (its default differs on Apple Silicon and Windows on ARM)', async () => {
    const client = new ScriptedClient({
      'machines.addVagrant': (params) => ({
        name: params.name,
        provider: 'vagrant',
        box: 'bento/debian-12',
        cpus: params.cpus ?? 2,
        memoryMb: params.memoryMb ?? 2048,
        vagrantProvider: 'parallels',
      }),
      'machines.list': () => [],
    });
    const stores = createStores(client);
    stores.machines.setState({ status: 'ready', machines: [] });
    renderWith(stores);
    fireEvent.click(screen.getByRole('button', { name: 'Add a Vagrant VM' }));
    const dialog = screen.getByRole('dialog', { name: 'Add a Vagrant VM' });
    expect((within(dialog).getByRole('textbox', { name: 'Box' }) as HTMLInputElement).value).toBe('');
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Name' }), { target: { value: 'dev' } });
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Add' }));
    });
    expect(client.calls.find((call) => call.method === 'machines.addVagrant')?.params).toEqual({
      provider: 'vagrant',
      name: 'dev',
      cpus: 2,
      memoryMb: 2048,
      syncedFolder: false,
    });
  });

  it('starts a Vagrant machine and shows the streamed `vagrant up` output in a log', async () => {
    let finish: (value: { state: string }) => void = () => undefined;
    const client = new ScriptedClient({
      'machines.start': () => new Promise((resolve) => (finish = resolve)),
    });
    const stores = createStores(client);
    client.onEvent((event) => stores.machines.getState().applyEvent(event)); // as startStores wires it
    stores.machines.setState({ status: 'ready', machines: [{ name: 'dev', provider: 'vagrant', state: 'stopped' }] });
    renderWith(stores);
    const machine = screen.getByRole('region', { name: 'dev' });
    expect(within(machine).getByText('Vagrant VM')).toBeTruthy();
    expect(within(machine).queryByRole('log')).toBeNull();
    act(() => {
      fireEvent.click(within(machine).getByRole('button', { name: 'Start dev' }));
    });
    expect(client.calls.at(-1)).toEqual({ method: 'machines.start', params: { machine: 'dev' } });
    expect((within(machine).getByRole('button', { name: 'Start dev' }) as HTMLButtonElement).disabled).toBe(true);
    act(() => {
      client.emit({
        type: 'machine.vagrant',
        machine: 'dev',
        action: 'up',
        kind: 'output',
        text: "Bringing machine 'default' up with 'libvirt' provider...",
      });
      client.emit({ type: 'machine.vagrant', machine: 'other', action: 'up', kind: 'output', text: 'not for dev' });
      client.emit({ type: 'machine.vagrant', machine: 'dev', action: 'up', kind: 'error', text: '==> default: Waiting for SSH...' });
    });
    const log = within(machine).getByRole('log', { name: 'Vagrant output for dev' });
    expect(log.textContent).toBe("Bringing machine 'default' up with 'libvirt' provider...\n==> default: Waiting for SSH...\n");
    await act(async () => {
      finish({ state: 'running' });
      await Promise.resolve();
    });
    expect((within(machine).getByRole('button', { name: 'Start dev' }) as HTMLButtonElement).disabled).toBe(false);
    expect(within(machine).getByRole('button', { name: 'Stop dev' })).toBeTruthy();
  });

  it('shows a failed start as a toast with the provider’s words', async () => {
    const client = new ScriptedClient({
      'machines.start': () => {
        throw new Error('vagrant up: VirtualBox is not usable here: install VirtualBox');
      },
    });
    const stores = createStores(client);
    stores.machines.setState({ status: 'ready', machines: [{ name: 'dev', provider: 'vagrant', state: 'stopped' }] });
    renderWith(stores);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Start dev' }));
    });
    expect(useToasts.getState().toasts.at(-1)).toMatchObject({
      tone: 'bad',
      title: 'Could not start dev',
      detail: 'vagrant up: VirtualBox is not usable here: install VirtualBox',
    });
  });
});
