// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DiskUsage, PruneResult } from '../../../../shared/disk-usage.js';
import { useLanguageStore } from '../../i18n';
import { createStores, StoresContext } from '../../stores';
import { ScriptedClient } from '../../stores/test-fixtures';
import { DiskUsagePanel } from './DiskUsagePanel';

const CONTAINER = 'c'.repeat(64);
const DANGLING = `sha256:${'d'.repeat(64)}`;
const NAMED = `sha256:${'e'.repeat(64)}`;

const before: DiskUsage = {
  rows: [
    { type: 'images', total: 3, active: 1, size: 30 * 1024 * 1024, reclaimable: 20 * 1024 * 1024 },
    { type: 'containers', total: 2, active: 1, size: 8192, reclaimable: 4096 },
    { type: 'logs', total: 2, active: 1, size: 2 * 1024 * 1024, reclaimable: 1024 * 1024 },
  ],
  images: [],
  containers: [],
};
const after: DiskUsage = {
  ...before,
  rows: before.rows.map((row) => ({ ...row, total: row.active, size: row.size - row.reclaimable, reclaimable: 0 })),
};

function plan(all: boolean, dryRun: boolean): PruneResult {
  return {
    dryRun,
    containers: [{ id: CONTAINER, name: 'old-job' }],
    images: [{ id: DANGLING, names: [] }, ...(all ? [{ id: NAMED, names: ['docker.io/library/app:1'] }] : [])],
    reclaimed: all ? 21 * 1024 * 1024 + 4096 : 1024 * 1024 + 4096,
  };
}

/** The panel on `local`, with its Clean up dialog open and its plan listed. */
async function openCleanUp(client: ScriptedClient): Promise<HTMLElement> {
  render(
    <StoresContext value={createStores(client)}>
      <DiskUsagePanel machine="local" />
    </StoresContext>,
  );
  fireEvent.click(await screen.findByRole('button', { name: 'Clean up…' }));
  const dialog = await screen.findByRole('dialog', { name: 'Clean up local?' });
  await within(dialog).findByRole('list', { name: 'What will be removed' });
  return dialog;
}

describe('DiskUsagePanel', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('shows system df, says what clean up will remove before it does, and removes only on confirm', async () => {
    let removed = false;
    const client = new ScriptedClient({
      'system.df': () => (removed ? after : before),
      'system.prune': (params) => {
        if (!params.dryRun) removed = true;
        return plan(params.all === true, params.dryRun === true);
      },
    });
    render(
      <StoresContext value={createStores(client)}>
        <DiskUsagePanel machine="local" />
      </StoresContext>,
    );
    const table = await screen.findByRole('table', { name: 'Disk use on local' });
    const rows = within(table)
      .getAllByRole('row')
      .map((row) => row.textContent);
    expect(rows).toEqual([
      'TypeTotalIn useSizeReclaimable',
      'Images3130 MiB20 MiB',
      'Containers218 KiB4 KiB',
      'Container logs212 MiB1 MiB',
    ]);

    fireEvent.click(screen.getByRole('button', { name: 'Clean up…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Clean up local?' });
    const list = await within(dialog).findByRole('list', { name: 'What will be removed' });
    expect(
      within(list)
        .getAllByRole('listitem')
        .map((item) => item.textContent),
    ).toEqual([`Container old-job (${CONTAINER.slice(0, 12)})`, `Image <none> (${'d'.repeat(12)})`]);
    expect(within(dialog).getByText('This will remove the following and free 1 MiB:')).toBeTruthy();
    // Until confirmed, only dry runs were asked for.
    expect(client.callsOf('system.prune')).toEqual([{ machine: 'local', all: false, dryRun: true }]);

    // Named unused images too: the plan is asked again and lists them.
    fireEvent.click(within(dialog).getByRole('checkbox', { name: /Also remove named images/ }));
    await waitFor(() => expect(within(dialog).getAllByRole('listitem')).toHaveLength(3));
    expect(within(dialog).getByText(`Image docker.io/library/app:1 (${'e'.repeat(12)})`)).toBeTruthy();
    expect(within(dialog).getByText('This will remove the following and free 21 MiB:')).toBeTruthy();
    expect(removed).toBe(false);

    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(client.callsOf('system.prune').at(-1)).toEqual({ machine: 'local', all: true });
    expect(screen.getByRole('status').textContent).toBe('Removed 1 container and 2 images; freed 21 MiB');
    // The numbers are read again after the clean up.
    await waitFor(() => expect(within(screen.getByRole('table')).getAllByRole('row')[1]?.textContent).toBe('Images1110 MiB0 B'));
  });

  it('cancel removes nothing', async () => {
    const client = new ScriptedClient({ 'system.df': () => before, 'system.prune': (params) => plan(false, params.dryRun === true) });
    const dialog = await openCleanUp(client);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(client.callsOf('system.prune')).toEqual([{ machine: 'local', all: false, dryRun: true }]);
  });

  it('removes unused volumes only when their box is ticked, after listing them', async () => {
    const client = new ScriptedClient({
      'system.df': () => before,
      'system.prune': (params) => ({ ...plan(false, params.dryRun === true), ...(params.volumes ? { volumes: ['cache-data'] } : {}) }),
    });
    const dialog = await openCleanUp(client);
    expect(within(dialog).queryByText('Volume cache-data')).toBeNull();
    fireEvent.click(within(dialog).getByRole('checkbox', { name: /Also remove anonymous volumes/ }));
    expect(await within(dialog).findByText('Volume cache-data')).toBeTruthy();
    expect(client.callsOf('system.prune').at(-1)).toEqual({ machine: 'local', all: false, volumes: true, dryRun: true });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(client.callsOf('system.prune').at(-1)).toEqual({ machine: 'local', all: false, volumes: true });
    expect(screen.getByRole('status').textContent).toBe('Removed 1 container, 1 image and 1 volume; freed 1 MiB');
  });
});
