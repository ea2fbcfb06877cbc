// @vitest-environment jsdom
// Folders of this computer in the run dialog on a remote machine, and the desktop ↔ machine path
// mapping in the Kernel tab. The host here is a small stand-in that keeps a machine's shared
// folders and answers resolveShare as the host core does: inside a share, the machine's path;
// outside every share, the refusal that names `onggi machine share`.
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ContainerDetail, ContainerSpec } from '../../../../shared/containers.js';
import { OnggiError } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import { bindThroughShare, type SharedFolder, type ShareResolution } from '../../../../shared/shares.js';
import { useLanguageStore } from '../../i18n';
import { createStores, StoresContext } from '../../stores';
import { ScriptedClient, runningContainer } from '../../stores/test-fixtures';
import type { DesktopFolders } from './desktop-mounts';
import { KernelTab } from './KernelTab';
import { RunDialog } from './RunDialog';

const MACHINE_SHARES = '/var/run/onggi/shares';

/** A machine `box` with its shared folders, resolving desktop paths as the host core does (posix paths). */
function hostWithShares(pick?: () => Promise<string | null>): DesktopFolders & { shares: SharedFolder[] } {
  const shares: SharedFolder[] = [];
  return {
    machine: 'box',
    shares,
    ...(pick ? { pick } : {}),
    resolve: vi.fn(async (path: string): Promise<ShareResolution> => {
      const folder = path.replace(/^~/, '/home/me');
      const share = shares.find((candidate) => folder === candidate.path || folder.startsWith(`${candidate.path}/`));
      if (!share)
        throw new OnggiError(
          ErrorCode.InvalidParams,
          'not_shared',
          `${folder} is not in a folder shared with box: share it first with \`onggi machine share box ${folder}\``,
          'params.path',
        );
      return { desktopPath: folder, share, machinePath: `${MACHINE_SHARES}/0123456789abcdef${folder.slice(share.path.length)}` };
    }),
    share: vi.fn(async (path: string, readOnly: boolean) => {
      shares.push({ path: path.replace(/^~/, '/home/me'), readOnly });
    }),
  };
}

function runDialog(desktopFolders?: DesktopFolders) {
  const onRun = vi.fn<(spec: ContainerSpec) => Promise<void>>(() => Promise.resolve());
  render(<RunDialog images={[]} onRun={onRun} onClose={() => undefined} {...(desktopFolders ? { desktopFolders } : {})} />);
  fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'busybox' } });
  fireEvent.click(screen.getByRole('button', { name: 'Add a mount' }));
  return onRun;
}

describe('the run dialog’s folders of this computer', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('in the window: picked with the folder dialog; outside every share refused on the row with the command; shared from there; then mounted through the share', async () => {
    const pick = vi.fn(async () => '/home/me/app/src');
    const host = hostWithShares(pick);
    const onRun = runDialog(host);
    fireEvent.change(screen.getByLabelText('Kind of mount 1'), { target: { value: 'desktop' } });
    expect(screen.queryByText(/Browser mode has no folder dialog/)).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Choose a folder of this computer, mount 1' }));
    await waitFor(() =>
      expect((screen.getByLabelText('Folder of this computer, mount 1') as HTMLInputElement).value).toBe('/home/me/app/src'),
    );
    fireEvent.change(screen.getByLabelText('Path in the container, mount 1'), { target: { value: '/app' } });

    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    const refusal = await screen.findByRole('alert');
    expect(refusal.textContent).toContain('share it first with `onggi machine share box /home/me/app/src`');
    expect(screen.getByLabelText('Folder of this computer, mount 1').getAttribute('aria-invalid')).toBe('true');
    expect(onRun).not.toHaveBeenCalled();

    fireEvent.click(within(refusal).getByRole('button', { name: 'Share this folder with box' }));
    await screen.findByText('Shared with box. Run again to mount it.');
    expect(host.share).toHaveBeenCalledWith('/home/me/app/src', false);
    expect(screen.queryByRole('alert')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(onRun).toHaveBeenCalledTimes(1));
    const spec = onRun.mock.calls[0]?.[0];
    expect(spec?.mounts).toEqual([{ type: 'bind', source: `${MACHINE_SHARES}/0123456789abcdef`, target: '/app', createSource: false }]);
    expect(spec?.labels).toEqual({ 'onggi.shared-folder:/app': `/home/me/app/src → ${MACHINE_SHARES}/0123456789abcdef` });
  });

  it('in browser mode: no folder dialog, the UI says to type the path; a read-only share makes the bind read-only', async () => {
    const host = hostWithShares();
    host.shares.push({ path: '/home/me/docs', readOnly: true });
    const onRun = runDialog(host);
    fireEvent.change(screen.getByLabelText('Kind of mount 1'), { target: { value: 'desktop' } });
    expect(screen.queryByRole('button', { name: /Choose a folder/ })).toBeNull();
    expect(screen.getByText(/Browser mode has no folder dialog: type the folder’s full path/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Folder of this computer, mount 1'), { target: { value: '~/docs' } });
    fireEvent.change(screen.getByLabelText('Path in the container, mount 1'), { target: { value: '/docs' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(onRun).toHaveBeenCalledTimes(1));
    expect(host.resolve).toHaveBeenCalledWith('~/docs');
    expect(onRun.mock.calls[0]?.[0].mounts).toEqual([
      { type: 'bind', source: `${MACHINE_SHARES}/0123456789abcdef`, target: '/docs', readonly: true, createSource: false },
    ]);
  });

  it('a desktop row without a folder is required; nothing is asked of the host for a form with errors', async () => {
    const host = hostWithShares();
    const onRun = runDialog(host);
    fireEvent.change(screen.getByLabelText('Kind of mount 1'), { target: { value: 'desktop' } });
    fireEvent.change(screen.getByLabelText('Path in the container, mount 1'), { target: { value: '/app' } });
    fireEvent.change(screen.getByLabelText('Memory'), { target: { value: 'lots' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(screen.getByLabelText('Memory').getAttribute('aria-invalid')).toBe('true'));
    expect(host.resolve).not.toHaveBeenCalled();
    fireEvent.change(screen.getByLabelText('Memory'), { target: { value: '64m' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Required');
    expect(onRun).not.toHaveBeenCalled();
  });

  it('on this computer’s own machine there is no such kind of mount', () => {
    runDialog();
    const kinds = within(screen.getByLabelText('Kind of mount 1'))
      .getAllByRole('option')
      .map((option) => option.textContent);
    expect(kinds).toEqual(['Folder of the machine', 'Volume', 'tmpfs (memory)']);
  });
});

describe('the Kernel tab’s mounts', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('show the desktop path, the machine path of the share’s mount, the container path and read-only', async () => {
    const machinePath = `${MACHINE_SHARES}/0123456789abcdef`;
    const through = bindThroughShare(
      { type: 'bind', target: '/app', readonly: true },
      { desktopPath: '/home/me/app', share: { path: '/home/me/app', readOnly: false }, machinePath },
    );
    const detail: ContainerDetail = {
      ...runningContainer,
      labels: Object.fromEntries([through.label]),
      spec: {},
      namespaces: null,
      cgroup: { version: 1, paths: [], limits: {} },
      rootfs: { lowerdirs: [], upperdir: '/u', workdir: '/w', merged: '/m' },
      logPath: '/log',
      hostname: 'web',
      mounts: [
        { type: 'bind', source: machinePath, desktopPath: '/home/me/app', target: '/app', readonly: true },
        { type: 'volume', name: 'cache', source: '/var/lib/onggi/volumes/cache/_data', target: '/cache', readonly: false },
      ],
    };
    const client = new ScriptedClient({ 'activity.list': () => [] });
    render(
      <StoresContext value={createStores(client)}>
        <KernelTab machine="box" container={runningContainer} detail={{ status: 'ready', data: detail }} />
      </StoresContext>,
    );
    const section = screen.getByRole('region', { name: 'Mounts' });
    const rows = within(section).getAllByRole('row').slice(1);
    expect(
      rows.map((row) =>
        within(row)
          .getAllByRole('cell')
          .map((cell) => cell.textContent),
      ),
    ).toEqual([
      ['bind', '/home/me/app', machinePath, 'read-only'],
      ['volume cache', '—', '/var/lib/onggi/volumes/cache/_data', 'read-write'],
    ]);
    expect(rows.map((row) => within(row).getByRole('rowheader').textContent)).toEqual(['/app', '/cache']);
    expect(within(section).getByText(/mounted on the machine by Onggi’s sharefs/)).toBeTruthy();
  });
});
