// @vitest-environment jsdom
// The window's EC2 parts: the add dialog (adopt or launch, checked with the API's schema, AWS's
// refusal shown in the user's words), the card's instance facts, Start/Stop, the SSH-rule update
// and the auto-stop warning.
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OnggiError } from '../../../../shared/errors.js';
import type { Ec2MachineView } from '../../../../shared/machines.js';
import { useLanguageStore } from '../../i18n';
import { createStores, StoresContext } from '../../stores';
import { ScriptedClient } from '../../stores/test-fixtures';
import { MachinesView } from '../MachinesView';

const view: Ec2MachineView = {
  name: 'box',
  provider: 'ec2',
  region: 'eu-central-1',
  instanceId: 'i-0aaaaaaaaaaaaaaaa',
  launched: true,
  user: 'admin',
  idleMinutes: 30,
  instanceState: 'running',
  instanceType: 't3.small',
  address: '203.0.113.10',
  ruleOutdated: { rule: '198.51.100.7/32', now: '192.0.2.44/32' },
};

describe('EC2 machines in the window', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('adds an EC2 sandbox: launch fields, errors on the field, the host’s refusal on the form', async () => {
    let refuse = true;
    const client = new ScriptedClient({
      'machines.addEc2': () => {
        if (refuse) throw new OnggiError(-32013, 'aws_no_credentials', 'no AWS credentials for profile "work"', 'params.profile');
        return { ...view, name: 'box' };
      },
      'machines.list': () => [],
      'machines.describe': () => [],
    });
    const stores = createStores(client);
    stores.machines.setState({ status: 'ready', machines: [] });
    render(
      <StoresContext value={stores}>
        <MachinesView />
      </StoresContext>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Add an EC2 sandbox' }));
    const dialog = screen.getByRole('dialog', { name: 'Add an EC2 sandbox' });
    const text = (name: string) => within(dialog).getByRole('textbox', { name }) as HTMLInputElement;
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add' }));
    expect(text('Name').getAttribute('aria-invalid')).toBe('true');
    expect(client.callsOf('machines.addEc2')).toEqual([]);

    fireEvent.change(text('Name'), { target: { value: 'box' } });
    fireEvent.change(text('AWS profile'), { target: { value: 'work' } });
    fireEvent.change(text('Region'), { target: { value: 'Frankfurt' } });
    expect(text('Region').getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(text('Region'), { target: { value: 'eu-central-1' } });
    fireEvent.change(within(dialog).getByRole('combobox', { name: 'Architecture' }), { target: { value: 'arm64' } });
    fireEvent.change(text('Disk (GB)'), { target: { value: '40' } });
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Add' }));
    });
    expect(client.callsOf('machines.addEc2')).toEqual([
      {
        provider: 'ec2',
        name: 'box',
        region: 'eu-central-1',
        profile: 'work',
        idleMinutes: 60,
        launch: { image: 'debian-12', arch: 'arm64', diskGb: 40 },
      },
    ]);
    expect(within(dialog).getByRole('alert').textContent).toMatch(/no AWS credentials for profile "work"/);

    // Adopting asks for the instance instead.
    fireEvent.change(within(dialog).getByRole('combobox', { name: 'Instance' }), { target: { value: 'adopt' } });
    fireEvent.change(text('Instance id'), { target: { value: 'i-0bbbbbbbbbbbbbbbb' } });
    refuse = false;
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Add' }));
    });
    expect(client.callsOf('machines.addEc2')[1]).toEqual({
      provider: 'ec2',
      name: 'box',
      region: 'eu-central-1',
      profile: 'work',
      idleMinutes: 60,
      instance: 'i-0bbbbbbbbbbbbbbbb',
    });
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('shows the instance on the card, starts and stops it, updates the SSH rule, warns before auto-stop', async () => {
    const client = new ScriptedClient({
      'machines.describe': () => [view],
      'machines.updateEc2Rule': () => ({ cidr: '192.0.2.44/32' }),
      'machines.start': () => ({ state: 'running' }),
      'machines.stop': () => ({}),
    });
    const stores = createStores(client);
    stores.machines.setState({ status: 'ready', machines: [{ name: 'box', provider: 'ec2', state: 'stopped' }] });
    await act(async () => {
      render(
        <StoresContext value={stores}>
          <MachinesView />
        </StoresContext>,
      );
    });
    const card = screen.getByRole('region', { name: 'box' });
    expect(within(card).getAllByText('EC2 instance').length).toBe(2); // the provider and the facts' title
    expect(within(card).getByLabelText('Address', { selector: 'dd' }).textContent).toBe('203.0.113.10');
    expect(within(card).getByLabelText('Type', { selector: 'dd' }).textContent).toBe('t3.small');
    expect(within(card).getByLabelText('State', { selector: 'dd' }).textContent).toBe('running');
    expect(within(card).getByText(/now 192\.0\.2\.44\/32, but SSH is admitted from 198\.51\.100\.7\/32 only/)).toBeTruthy();
    await act(async () => {
      fireEvent.click(within(card).getByRole('button', { name: 'Update the SSH rule' }));
    });
    expect(client.callsOf('machines.updateEc2Rule')).toEqual([{ machine: 'box' }]);
    await act(async () => {
      fireEvent.click(within(card).getByRole('button', { name: 'Stop box' }));
    });
    expect(client.callsOf('machines.stop')).toEqual([{ machine: 'box' }]);
    await act(async () => {
      fireEvent.click(within(card).getByRole('button', { name: 'Start box' }));
    });
    expect(client.callsOf('machines.start')).toEqual([{ machine: 'box' }]);
    act(() => client.emit({ type: 'machine.event', machine: 'box', event: { type: 'idle.warning', minutes: 4 } }));
    expect(within(card).getByText('box stops itself in 4 min unless something runs on it')).toBeTruthy();
  });
});
