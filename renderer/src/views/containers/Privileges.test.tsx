// @vitest-environment jsdom
// Issue 14: the run dialog asks before running a privileged container and sends cap-add/drop; the
// list marks a privileged container; the Kernel tab's Security section shows what /proc said.
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProcessSecurity } from '../../../../shared/capabilities.js';
import type { ContainerSpec } from '../../../../shared/containers.js';
import { useLanguageStore } from '../../i18n';
import { PrivilegedBadge } from './PrivilegedBadge';
import { RunDialog } from './RunDialog';
import { SecuritySection } from './SecuritySection';

beforeEach(() => useLanguageStore.setState({ language: 'en' }));
afterEach(cleanup);

function fill(image: string) {
  fireEvent.change(screen.getByLabelText('Image'), { target: { value: image } });
}

describe('RunDialog security fields', () => {
  it('asks before running a privileged container; Cancel runs nothing, confirming runs it', async () => {
    const onRun = vi.fn<(spec: ContainerSpec) => Promise<void>>(() => Promise.resolve());
    render(<RunDialog images={[]} onRun={onRun} onClose={() => undefined} />);
    fill('busybox:latest');
    fireEvent.click(screen.getByLabelText(/Privileged/));
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    const ask = await screen.findByRole('alertdialog', { name: 'Run a privileged container?' });
    expect(ask.textContent).toContain('busybox:latest');
    fireEvent.click(within(ask).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(onRun).not.toHaveBeenCalled();

    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    fireEvent.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Run privileged' }));
    await waitFor(() => expect(onRun).toHaveBeenCalledTimes(1));
    expect(onRun.mock.calls[0]?.[0]).toMatchObject({ image: 'busybox:latest', privileged: true });
  });

  it('sends --cap-add/--cap-drop without asking, and puts an unknown capability on its field', async () => {
    const onRun = vi.fn<(spec: ContainerSpec) => Promise<void>>(() => Promise.resolve());
    render(<RunDialog images={[]} onRun={onRun} onClose={() => undefined} />);
    fill('busybox:latest');
    fireEvent.change(screen.getByLabelText('Add capabilities'), { target: { value: 'net_admin, WIZARD' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(screen.getByLabelText('Add capabilities').getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText(/unknown capability "WIZARD"/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Add capabilities'), { target: { value: 'net_admin' } });
    fireEvent.change(screen.getByLabelText('Drop capabilities'), { target: { value: 'ALL' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(onRun).toHaveBeenCalledTimes(1));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(onRun.mock.calls[0]?.[0]).toMatchObject({ capAdd: ['CAP_NET_ADMIN'], capDrop: ['ALL'] });
  });
});

describe('PrivilegedBadge and SecuritySection', () => {
  it('marks a privileged container, and only that one', () => {
    const { container } = render(
      <>
        <PrivilegedBadge container={{ privileged: true }} />
        <PrivilegedBadge container={{}} />
      </>,
    );
    expect(screen.getAllByText('privileged')).toHaveLength(1);
    expect(container.querySelectorAll('.badge')).toHaveLength(1);
  });

  it('shows the capabilities by name, seccomp, no_new_privs and the maps as read', () => {
    const security: ProcessSecurity = {
      pid: 4242,
      effective: ['CAP_CHOWN', 'CAP_NET_ADMIN'],
      permitted: ['CAP_CHOWN', 'CAP_NET_ADMIN'],
      bounding: ['CAP_CHOWN', 'CAP_NET_ADMIN'],
      masks: { effective: '0000000000001001', permitted: '0000000000001001', bounding: '0000000000001001' },
      seccomp: 'filter',
      seccompFilters: 1,
      noNewPrivs: true,
      uidMap: [{ inside: 0, outside: 0, count: 4294967295 }],
      gidMap: [{ inside: 0, outside: 0, count: 4294967295 }],
    };
    render(<SecuritySection security={security} profile={{ profile: 'no-mkdir.json', rules: 2, noNewPrivileges: true }} />);
    expect(screen.getByText('profile no-mkdir.json, rules for 2 syscalls')).toBeTruthy();
    expect(screen.getByText('Effective capabilities (2)')).toBeTruthy();
    expect(screen.getAllByText('NET_ADMIN')).toHaveLength(2);
    expect(screen.getByText(/filter · 1 filter/)).toBeTruthy();
    expect(screen.getByText('set')).toBeTruthy();
    expect(screen.getAllByText('0 → 0 (4294967295)')).toHaveLength(2);
    cleanup();
    render(<SecuritySection security={null} />);
    expect(screen.getByText(/while it runs/)).toBeTruthy();
  });
});
