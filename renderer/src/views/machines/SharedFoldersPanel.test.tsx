// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SharedFolder } from '../../../../shared/shares.js';
import { useLanguageStore } from '../../i18n';
import { createStores, StoresContext } from '../../stores';
import { ScriptedClient } from '../../stores/test-fixtures';
import { SharedFoldersPanel } from './SharedFoldersPanel';

describe('SharedFoldersPanel', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('lists the shared folders, shares a typed path (read-only when ticked), removes one, and shows the host’s refusal', async () => {
    let shares: SharedFolder[] = [{ path: '/home/me/app', readOnly: false }];
    const asked: unknown[] = [];
    const client = new ScriptedClient({
      'machines.shares': () => shares,
      'machines.share': (params) => {
        asked.push(params);
        if (params.path === '/nope') throw new Error('/nope is not a folder on this computer');
        shares = [...shares, { path: params.path, readOnly: params.readOnly === true }];
        return shares;
      },
      'machines.unshare': (params) => {
        shares = shares.filter((share) => share.path !== params.path);
        return shares;
      },
    });
    render(
      <StoresContext value={createStores(client)}>
        <SharedFoldersPanel machine="box" />
      </StoresContext>,
    );
    const panel = await screen.findByRole('region', { name: 'Desktop folders shared with box' });
    await within(panel).findByText('/home/me/app');

    fireEvent.change(within(panel).getByLabelText('Desktop folder'), { target: { value: '~/docs' } });
    fireEvent.click(within(panel).getByRole('checkbox', { name: 'read-only' }));
    fireEvent.click(within(panel).getByRole('button', { name: 'Share' }));
    await within(panel).findByText('~/docs');
    expect(asked).toEqual([{ machine: 'box', path: '~/docs', readOnly: true }]);

    fireEvent.click(within(panel).getByRole('button', { name: 'Stop sharing /home/me/app' }));
    await waitFor(() => expect(within(panel).queryByText('/home/me/app')).toBeNull());

    fireEvent.change(within(panel).getByLabelText('Desktop folder'), { target: { value: '/nope' } });
    fireEvent.click(within(panel).getByRole('button', { name: 'Share' }));
    expect(await within(panel).findByRole('alert')).toHaveProperty('textContent', 'Shared folders: /nope is not a folder on this computer');
  });
});
