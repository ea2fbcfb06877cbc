// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ContainerSpec } from '../../../../shared/containers.js';
import { useLanguageStore } from '../../i18n';
import { RunDialog } from './RunDialog';
import { emptyRunForm, validateRunForm } from './run-form';

describe('the run dialog’s mounts', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('turn into the spec’s mounts (a bind never made when missing), empty rows skipped', () => {
    const result = validateRunForm({
      ...emptyRunForm,
      image: 'nginx',
      mounts: [
        { type: 'bind', source: '/srv/site', target: '/usr/share/nginx/html', readonly: true },
        { type: 'volume', source: 'cache', target: '/cache', readonly: false },
        { type: 'volume', source: '', target: '/anon', readonly: false },
        { type: 'tmpfs', source: 'ignored', target: '/run', readonly: false },
        { type: 'bind', source: '', target: '', readonly: false },
      ],
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.mounts).toEqual([
      { type: 'bind', source: '/srv/site', target: '/usr/share/nginx/html', readonly: true },
      { type: 'volume', source: 'cache', target: '/cache' },
      { type: 'volume', target: '/anon' },
      { type: 'tmpfs', target: '/run' },
    ]);
  });

  it('a bad row is named in the error and nothing runs; a fixed one runs', async () => {
    const onRun = vi.fn<(spec: ContainerSpec) => Promise<void>>(() => Promise.resolve());
    render(<RunDialog images={[]} onRun={onRun} onClose={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'busybox' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add a mount' }));
    fireEvent.change(screen.getByLabelText('Kind of mount 1'), { target: { value: 'volume' } });
    fireEvent.change(screen.getByLabelText('Volume name, mount 1'), { target: { value: '../etc' } });
    fireEvent.change(screen.getByLabelText('Path in the container, mount 1'), { target: { value: '/data' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/^#1 source: not a volume name/));
    expect(onRun).not.toHaveBeenCalled();
    fireEvent.change(screen.getByLabelText('Volume name, mount 1'), { target: { value: 'data' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(onRun).toHaveBeenCalledTimes(1));
    expect(onRun.mock.calls[0]?.[0].mounts).toEqual([{ type: 'volume', source: 'data', target: '/data' }]);
  });
});
