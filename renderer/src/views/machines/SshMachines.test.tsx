// @vitest-environment jsdom
// SSH machines in the window: the add dialog (config Host or typed host, schema errors on the
// field, the host's refusal on the form), connect, deploy progress, the reconnect countdown in
// the card and in the machine switcher, and removal after a confirmation.
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MachineSummary } from '../../../../shared/host-api.js';
import type { SshConfigHostView } from '../../../../shared/machines.js';
import { MachinePicker } from '../../components/MachinePicker';
import { useLanguageStore } from '../../i18n';
import { createStores, StoresContext, type Stores } from '../../stores';
import { useNavigation } from '../../stores/navigation';
import { sampleInfo, ScriptedClient } from '../../stores/test-fixtures';
import { useToasts } from '../../stores/toasts';
import { MachinesView } from '../MachinesView';

const configHosts: SshConfigHostView[] = [
  { alias: 'ec2', hostName: 'ec2-203-0-113-7.compute.amazonaws.com', port: 22, user: 'admin', identityFiles: ['ec2.pem'], via: [] },
  { alias: 'lab', hostName: '192.0.2.10', port: 2200, user: 'root', identityFiles: [], via: ['jump.example.com'] },
];

function renderWith(stores: Stores) {
  return render(
    <StoresContext value={stores}>
      <MachinePicker />
      <MachinesView />
    </StoresContext>,
  );
}

/** A client whose events reach the stores, as startStores wires them. */
function wired(client: ScriptedClient, machines: MachineSummary[]): Stores {
  const stores = createStores(client);
  client.onEvent((event) => stores.machines.getState().applyEvent(event));
  stores.machines.setState({ status: 'ready', machines });
  return stores;
}

const errorOf = (input: HTMLElement): string | undefined => {
  const id = input.getAttribute('aria-describedby');
  return input.getAttribute('aria-invalid') === 'true' && id ? (document.getElementById(id)?.textContent ?? '') : undefined;
};

const pickerOptions = () =>
  within(screen.getByRole('combobox', { name: 'Machine' }))
    .getAllByRole('option')
    .map((option) => option.textContent);

describe('SSH machines in the Machines view', () => {
  beforeEach(() => {
    useLanguageStore.setState({ language: 'en' });
    useToasts.setState({ toasts: [] });
    // As the window chooses on Linux: this computer, with nothing remembered (see MachineGate).
    useNavigation.setState({ machine: 'local' });
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('checks a typed host with the API schema, errors on the field, and shows the host’s refusal on the form', async () => {
    const client = new ScriptedClient({
      'machines.sshConfigHosts': () => [],
      'machines.add': () => {
        throw new Error('the host key of 127.0.0.1:2222 is not known and was not accepted');
      },
    });
    renderWith(wired(client, []));
    fireEvent.click(screen.getByRole('button', { name: 'Add an SSH host' }));
    const dialog = screen.getByRole('dialog', { name: 'Add an SSH host' });
    const field = (name: string) => within(dialog).getByRole('textbox', { name }) as HTMLInputElement;
    expect(await within(dialog).findByText('No Host entries in ~/.ssh/config: type the host below.')).toBeTruthy();

    fireEvent.click(within(dialog).getByRole('button', { name: 'Add' }));
    expect(errorOf(field('Name'))).toBe('Required');
    expect(errorOf(field('Host'))).toBe('Required');
    expect(client.callsOf('machines.add')).toEqual([]);

    fireEvent.change(field('Name'), { target: { value: 'bad name' } });
    fireEvent.change(field('Host'), { target: { value: '-oProxyCommand=sh' } });
    fireEvent.change(field('User'), { target: { value: 'ro ot' } });
    fireEvent.change(field('Port'), { target: { value: '70000' } });
    fireEvent.click(within(dialog).getByText('Where the agent lives on the machine'));
    fireEvent.change(field('Run directory'), { target: { value: 'relative/run' } });
    expect(errorOf(field('Name'))).toMatch(/must start with a letter or digit/);
    expect(errorOf(field('Host'))).toBe('must be a host name or an IP address');
    expect(errorOf(field('User'))).toMatch(/must be a user name/);
    expect(errorOf(field('Port'))).toBe('must be at most 65535');
    expect(errorOf(field('Run directory'))).toMatch(/must be an absolute path/);

    fireEvent.change(field('Name'), { target: { value: 'box' } });
    fireEvent.change(field('Host'), { target: { value: '127.0.0.1' } });
    fireEvent.change(field('User'), { target: { value: 'root' } });
    fireEvent.change(field('Port'), { target: { value: '2222' } });
    fireEvent.change(field('Key file'), { target: { value: '~/.ssh/box_ed25519' } });
    fireEvent.change(field('Run directory'), { target: { value: '/tmp/box/run' } });
    fireEvent.change(within(dialog).getByRole('combobox', { name: 'Kept running by' }), { target: { value: 'background' } });
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Add' }));
    });
    expect(client.callsOf('machines.add')).toEqual([
      {
        provider: 'ssh',
        name: 'box',
        host: '127.0.0.1',
        user: 'root',
        port: 2222,
        identityFile: '~/.ssh/box_ed25519',
        // The schema's defaults for what was left empty, the same the host would use.
        remote: { installRoot: '/opt/onggi', runDir: '/tmp/box/run', stateDir: '/var/lib/onggi', supervisor: 'background' },
      },
    ]);
    // Still open, with the host's words.
    expect(within(dialog).getByRole('alert').textContent).toBe(
      'Not added: the host key of 127.0.0.1:2222 is not known and was not accepted',
    );
  });

  it('fills the form from a ~/.ssh/config Host and adds it by its alias', async () => {
    const client = new ScriptedClient({
      'machines.sshConfigHosts': () => configHosts,
      'machines.add': (params) => ({
        name: params.name,
        provider: 'ssh',
        host: '192.0.2.10',
        port: 2200,
        user: 'root',
        via: ['jump.example.com'],
        sshConfigHost: 'lab',
      }),
      'machines.list': () => [{ name: 'lab', provider: 'ssh', state: 'stopped' }],
    });
    renderWith(wired(client, []));
    fireEvent.click(screen.getByRole('button', { name: 'Add an SSH host' }));
    const dialog = screen.getByRole('dialog', { name: 'Add an SSH host' });
    const field = (name: string) => within(dialog).getByRole('textbox', { name }) as HTMLInputElement;
    const select = within(dialog).getByRole('combobox', { name: 'Host from ~/.ssh/config' }) as HTMLSelectElement;
    await vi.waitFor(() =>
      expect(
        within(select)
          .getAllByRole('option')
          .map((option) => option.textContent),
      ).toContain('lab'),
    );

    fireEvent.change(select, { target: { value: 'lab' } });
    expect(field('Name').value).toBe('lab');
    expect(field('Host').value).toBe('192.0.2.10');
    expect(field('User').value).toBe('root');
    expect(field('Port').value).toBe('2200');
    expect(field('Host').readOnly).toBe(true);
    expect(within(dialog).getByText('Through jump.example.com')).toBeTruthy();

    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Add' }));
    });
    expect(client.callsOf('machines.add')).toEqual([{ provider: 'ssh', name: 'lab', fromSshConfig: 'lab' }]);
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(useToasts.getState().toasts.map((toast) => toast.title)).toEqual(['Added lab: connect to deploy the agent']);
  });

  it('connects: Connect reads the info, the deploy bar follows the progress, the switcher says so', async () => {
    let resolveInfo: (info: typeof sampleInfo) => void = () => undefined;
    const client = new ScriptedClient({ 'machines.info': () => new Promise((resolve) => (resolveInfo = resolve)) });
    const stores = wired(client, [
      { name: 'local', provider: 'local', state: 'ready' },
      { name: 'ec2', provider: 'ssh', state: 'stopped' },
    ]);
    renderWith(stores);
    const card = screen.getByRole('region', { name: 'ec2' });
    await act(async () => {
      fireEvent.click(within(card).getByRole('button', { name: 'Connect to ec2' }));
    });
    expect(client.callsOf('machines.info')).toEqual([{ machine: 'ec2' }]);

    act(() => client.emit({ type: 'machine.state', machine: 'ec2', state: 'deploying' }));
    const bar = within(card).getByRole('progressbar', { name: 'Agent deploy to ec2' });
    expect(bar.getAttribute('aria-valuenow')).toBe('0');
    expect(within(card).getByText('Checking the machine')).toBeTruthy();
    act(() =>
      client.emit({
        type: 'machine.deploy',
        machine: 'ec2',
        phase: 'upload',
        part: 'runtime',
        bytes: 11_000_000,
        total: 26_000_000,
        percent: 42.3,
      }),
    );
    expect(bar.getAttribute('aria-valuenow')).toBe('42');
    expect(bar.getAttribute('aria-valuetext')).toBe('42%, Uploading the Node runtime');
    expect(pickerOptions()).toEqual(['local — Ready', 'ec2 — deploying 42%']);
    expect(within(card).queryByRole('button', { name: 'Connect to ec2' })).toBeNull();

    act(() =>
      client.emit({ type: 'machine.deploy', machine: 'ec2', phase: 'handshake', bytes: 26_000_000, total: 26_000_000, percent: 98 }),
    );
    expect(bar.getAttribute('aria-valuetext')).toBe('98%, Handshake');
    act(() => client.emit({ type: 'machine.state', machine: 'ec2', state: 'ready' }));
    expect(within(card).queryByRole('progressbar')).toBeNull();
    await act(async () => resolveInfo(sampleInfo));
    expect(within(card).getByLabelText('Kernel release', { selector: 'dd' }).textContent).toBe('6.1.0-28-amd64');
    expect(pickerOptions()).toEqual(['local — Ready', 'ec2 — Ready']);
  });

  it('counts down to the next reconnect once a second, in the card and the switcher, and marks old info', () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T10:00:00Z'), toFake: ['Date', 'setInterval', 'clearInterval'] });
    const client = new ScriptedClient({});
    const stores = wired(client, [
      { name: 'local', provider: 'local', state: 'ready' },
      { name: 'ec2', provider: 'ssh', state: 'ready' },
    ]);
    stores.machines.setState({ info: { ec2: { status: 'ready', data: sampleInfo, fetchedAt: Date.now() } } });
    renderWith(stores);
    const card = screen.getByRole('region', { name: 'ec2' });
    expect(within(card).queryByText('Last known')).toBeNull();

    act(() => client.emit({ type: 'machine.state', machine: 'ec2', state: 'lost', error: 'connection reset', retryAt: Date.now() + 5000 }));
    expect(within(card).getByRole('status').textContent).toBe('retrying in 5 s');
    expect(pickerOptions()).toEqual(['local — Ready', 'ec2 — lost, retrying in 5 s']);
    expect(within(card).getByText('Last known')).toBeTruthy();
    expect(within(card).getByRole('button', { name: 'Connect to ec2' })).toBeTruthy();

    act(() => vi.advanceTimersByTime(1000));
    expect(within(card).getByRole('status').textContent).toBe('retrying in 4 s');
    expect(pickerOptions()).toEqual(['local — Ready', 'ec2 — lost, retrying in 4 s']);
    act(() => vi.advanceTimersByTime(4000));
    expect(within(card).getByRole('status').textContent).toBe('retrying now…');

    // The retry began: no countdown, and no timer left ticking.
    act(() => client.emit({ type: 'machine.state', machine: 'ec2', state: 'connecting' }));
    expect(within(card).queryByRole('status')).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('removes a machine only after the confirmation', async () => {
    const client = new ScriptedClient({ 'machines.remove': () => ({}) });
    renderWith(
      wired(client, [
        { name: 'local', provider: 'local', state: 'ready' },
        { name: 'ec2', provider: 'ssh', state: 'error', error: 'ssh: connect timed out' },
      ]),
    );
    expect(within(screen.getByRole('region', { name: 'local' })).queryByRole('button', { name: /Remove/ })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Remove ec2' }));
    const confirm = screen.getByRole('alertdialog', { name: 'Remove ec2?' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(client.callsOf('machines.remove')).toEqual([]);

    fireEvent.click(screen.getByRole('button', { name: 'Remove ec2' }));
    await act(async () => {
      fireEvent.click(within(screen.getByRole('alertdialog', { name: 'Remove ec2?' })).getByRole('button', { name: 'Remove' }));
    });
    expect(client.callsOf('machines.remove')).toEqual([{ machine: 'ec2' }]);
    expect(screen.queryByRole('region', { name: 'ec2' })).toBeNull();
    expect(pickerOptions()).toEqual(['local — Ready']);
  });
});
