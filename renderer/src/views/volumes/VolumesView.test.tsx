// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OnggiError } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import type { VolumeSummary } from '../../../../shared/volumes.js';
import { useLanguageStore } from '../../i18n';
import { createStores, StoresContext } from '../../stores';
import { useNavigation } from '../../stores/navigation';
import { useToasts } from '../../stores/toasts';
import { ScriptedClient } from '../../stores/test-fixtures';
import { VolumesView } from './VolumesView';

const volume = (name: string, containers: string[], size: number): VolumeSummary => ({
  name,
  createdAt: '2026-12-06T00:00:00Z',
  anonymous: false,
  mountpoint: `/var/lib/onggi/volumes/${name}/_data`,
  labels: {},
  containers,
  size,
});

describe('VolumesView', () => {
  beforeEach(() => {
    useLanguageStore.setState({ language: 'en' });
    useNavigation.setState({ machine: 'local' });
  });
  afterEach(cleanup);

  it('lists volumes with who uses each and their size; create sends the name; a refused remove says why', async () => {
    const list = [volume('pgdata', ['db'], 2048), volume('cache', [], 0)];
    const client = new ScriptedClient({
      'machines.list': () => [],
      'volumes.list': () => [...list],
      'volumes.create': (params) => {
        list.push(volume(params.name ?? 'random', [], 0));
        return volume(params.name ?? 'random', [], 0);
      },
      'volumes.remove': () => {
        throw new OnggiError(ErrorCode.Conflict, 'in_use', 'volume pgdata is in use by container db: remove it first', 'params.volume');
      },
    });
    render(
      <StoresContext value={createStores(client)}>
        <VolumesView />
      </StoresContext>,
    );
    const table = await screen.findByRole('table', { name: 'Volumes on local' });
    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(3));
    const rows = within(table)
      .getAllByRole('row')
      .map((row) => row.textContent);
    expect(rows[1]).toContain('pgdata');
    expect(rows[1]).toContain('db');
    expect(rows[1]).toContain('2 KiB');
    expect(rows[2]).toContain('unused');

    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'bad/name' } });
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'uploads' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(client.callsOf('volumes.create')).toEqual([{ machine: 'local', name: 'uploads' }]));
    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(4));

    fireEvent.click(screen.getByRole('button', { name: 'Remove volume pgdata' }));
    fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(client.callsOf('volumes.remove')).toEqual([{ machine: 'local', volume: 'pgdata' }]));
    await waitFor(() => expect(useToasts.getState().toasts.some((toast) => toast.detail?.includes('in use by container db'))).toBe(true));
  });
});
