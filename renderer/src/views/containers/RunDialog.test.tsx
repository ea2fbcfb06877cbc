// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ContainerSpec } from '../../../../shared/containers.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import { OnggiError } from '../../../../shared/errors.js';
import { useLanguageStore } from '../../i18n';
import { RunDialog } from './RunDialog';
import { validateRunForm, emptyRunForm } from './run-form';

describe('run form', () => {
  it('turns what people type into the API spec, units and all', () => {
    const result = validateRunForm({
      ...emptyRunForm,
      image: 'busybox:latest',
      name: 'web',
      command: `sh -c "echo 'hi there'; sleep 5"`,
      env: 'A=1\n\nB=two words',
      memory: '256m',
      cpus: '0.5',
      pids: '100',
      networks: 'front, back',
      ports: '8080:80 127.0.0.1:8443:443/tcp',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.command).toEqual(['sh', '-c', "echo 'hi there'; sleep 5"]);
    expect(result.spec.env).toEqual(['A=1', 'B=two words']);
    expect(result.spec.limits).toMatchObject({ memory: 256 * 1024 ** 2, pids: 100 });
    expect(result.spec.networks).toEqual(['front', 'back']);
    expect(result.spec.ports).toHaveLength(2);
  });

  it('puts each schema error on its own field, env errors on their line', () => {
    const result = validateRunForm({
      ...emptyRunForm,
      memory: 'lots',
      pids: 'many',
      env: 'OK=1\n=broken',
      ports: '99999:80',
      networks: 'none web',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.image).toEqual({ kind: 'required' });
    expect(result.errors.memory?.kind).toBe('invalid');
    expect(result.errors.pids?.kind).toBe('invalid');
    expect(result.errors.env).toMatchObject({ kind: 'invalid', line: 2, text: '=broken' });
    expect(result.errors.ports?.kind).toBe('invalid');
    expect(result.errors.networks).toMatchObject({ kind: 'invalid', message: '"none" cannot be combined with other networks' });
  });
});

describe('run form: env file, labels, healthcheck', () => {
  it('reads a pasted env file as --env-file does (before the typed env), labels and a healthcheck', () => {
    const result = validateRunForm({
      ...emptyRunForm,
      image: 'postgres',
      envFile: '# db\nPGUSER=app\nBARE_NAME\n\nURL=postgres://x/y?a=b',
      env: 'PGUSER=override',
      labels: 'tier=db\nbackup\n',
      healthCmd: 'pg_isready -U postgres',
      healthInterval: '1m30s',
      healthRetries: '5',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    // A bare NAME takes the caller's environment: the window has none to give, so it is left out.
    expect(result.spec.env).toEqual(['PGUSER=app', 'URL=postgres://x/y?a=b', 'PGUSER=override']);
    expect(result.spec.labels).toEqual({ tier: 'db', backup: '' });
    expect(result.spec.healthcheck).toEqual({ test: ['CMD-SHELL', 'pg_isready -U postgres'], intervalMs: 90_000, retries: 5 });
  });

  it('puts env-file, label and healthcheck errors on their fields, with the env file line', () => {
    const result = validateRunForm({
      ...emptyRunForm,
      image: 'busybox',
      envFile: 'OK=1\n=nokey',
      labels: 'has space=1',
      healthInterval: 'soon',
      healthRetries: '0',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.envFile).toMatchObject({ kind: 'invalid', line: 2, text: '=nokey', message: 'no variable name before "="' });
    expect(result.errors.labels).toMatchObject({ kind: 'invalid', message: '"has space": must not contain "=" or spaces' });
    expect(result.errors.healthInterval?.kind).toBe('invalid');
    expect(result.errors.healthRetries).toMatchObject({ kind: 'invalid', message: 'must be at least 1' });
    expect(result.errors.image).toBeUndefined();
  });
});

describe('RunDialog', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('shows errors on the fields, marks them invalid, and does not run', async () => {
    const onRun = vi.fn<(spec: ContainerSpec) => Promise<void>>(() => Promise.resolve());
    render(<RunDialog images={[]} onRun={onRun} onClose={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Memory'), { target: { value: '12 parsecs' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(screen.getByLabelText('Image').getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByLabelText('Memory').getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Required')).toBeTruthy();
    expect(onRun).not.toHaveBeenCalled();
    // Fixing a field clears its error as you type.
    fireEvent.change(screen.getByLabelText('Memory'), { target: { value: '64m' } });
    await waitFor(() => expect(screen.getByLabelText('Memory').getAttribute('aria-invalid')).toBeNull());
  });

  it('runs a valid spec, and puts an error the host names back on its field', async () => {
    const onRun = vi.fn<(spec: ContainerSpec) => Promise<void>>(() =>
      Promise.reject(
        new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'params.limits.memory: below the 6 MiB minimum', 'params.limits.memory'),
      ),
    );
    render(<RunDialog images={[]} onRun={onRun} onClose={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'busybox:latest' } });
    fireEvent.change(screen.getByLabelText('Memory'), { target: { value: '1k' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(onRun).toHaveBeenCalledTimes(1));
    expect(onRun.mock.calls[0]?.[0]).toMatchObject({ image: 'busybox:latest', limits: { memory: 1024 } });
    await waitFor(() => expect(screen.getByLabelText('Memory').getAttribute('aria-invalid')).toBe('true'));
  });

  it('runs with a pasted env file, labels and a healthcheck; a host error on the healthcheck lands on its field', async () => {
    const onRun = vi.fn<(spec: ContainerSpec) => Promise<void>>(() =>
      Promise.reject(
        new OnggiError(
          ErrorCode.InvalidParams,
          'invalid_params',
          'params.healthcheck.intervalMs: too long',
          'params.healthcheck.intervalMs',
        ),
      ),
    );
    render(<RunDialog images={[]} onRun={onRun} onClose={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'busybox:latest' } });
    fireEvent.change(screen.getByLabelText('Env file'), { target: { value: 'A=1\nB=2' } });
    fireEvent.change(screen.getByLabelText('Labels'), { target: { value: 'tier=web' } });
    fireEvent.change(screen.getByLabelText('Check command'), { target: { value: 'wget -q -O- localhost' } });
    fireEvent.change(screen.getByLabelText('Interval'), { target: { value: '5s' } });
    fireEvent.change(screen.getByLabelText('Retries'), { target: { value: '2' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(onRun).toHaveBeenCalledTimes(1));
    expect(onRun.mock.calls[0]?.[0]).toMatchObject({
      env: ['A=1', 'B=2'],
      labels: { tier: 'web' },
      healthcheck: { test: ['CMD-SHELL', 'wget -q -O- localhost'], intervalMs: 5000, retries: 2 },
    });
    await waitFor(() => expect(screen.getByLabelText('Interval').getAttribute('aria-invalid')).toBe('true'));
  });

  it('Interactive (TTY) runs the container with a terminal and open stdin (-it)', async () => {
    const onRun = vi.fn<(spec: ContainerSpec) => Promise<void>>(() => Promise.resolve());
    render(<RunDialog images={[]} onRun={onRun} onClose={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Image'), { target: { value: 'busybox:latest' } });
    fireEvent.click(screen.getByLabelText(/Interactive \(TTY\)/));
    fireEvent.click(screen.getByRole('button', { name: 'Run' }));
    await waitFor(() => expect(onRun).toHaveBeenCalledTimes(1));
    expect(onRun.mock.calls[0]?.[0]).toMatchObject({ image: 'busybox:latest', tty: true, stdinOpen: true });
  });
});
