// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogOptions } from '../../../../shared/containers.js';
import { OnggiError } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import type { UsernsMode } from '../../../../shared/userns.js';
import { useLanguageStore } from '../../i18n';
import { createStores, StoresContext } from '../../stores';
import { ScriptedClient } from '../../stores/test-fixtures';
import { ContainerDefaultsPanel } from './ContainerDefaultsPanel';

/** An agent's settings as containers.logDefaults / usernsDefault keep them (parsed by the real schema). */
function agentSettings() {
  const state = { maxSize: 10 * 1024 * 1024, maxFiles: 3, mode: 'host' as UsernsMode };
  return {
    state,
    client: new ScriptedClient({
      'containers.logDefaults': (params) => {
        const change = LogOptions.parse({ maxSize: params.maxSize, maxFiles: params.maxFiles });
        if (change.maxSize !== undefined) state.maxSize = change.maxSize;
        if (change.maxFiles !== undefined) state.maxFiles = change.maxFiles;
        return { maxSize: state.maxSize, maxFiles: state.maxFiles };
      },
      'containers.usernsDefault': (params) => {
        if (params.mode === 'auto') throw new OnggiError(ErrorCode.InvalidParams, 'no_subids', 'no range for root in /etc/subuid');
        if (params.mode) state.mode = params.mode;
        return { mode: state.mode };
      },
    }),
  };
}

async function renderPanel(client: ScriptedClient): Promise<HTMLElement> {
  render(
    <StoresContext value={createStores(client)}>
      <ContainerDefaultsPanel machine="box" />
    </StoresContext>,
  );
  return screen.findByRole('region', { name: 'Container defaults on box' });
}

describe('ContainerDefaultsPanel', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it("shows the machine's log rotation and user namespace defaults and saves a change the way onggi machine config does", async () => {
    const { state, client } = agentSettings();
    const panel = await renderPanel(client);
    const size = await within(panel).findByRole('textbox', { name: 'Log file size' });
    const files = within(panel).getByRole('textbox', { name: 'Log files kept' });
    expect((size as HTMLInputElement).value).toBe('10m');
    expect((files as HTMLInputElement).value).toBe('3');
    const save = within(panel).getByRole('button', { name: 'Save' });
    expect((save as HTMLButtonElement).disabled).toBe(true);

    // As typed, the agent's own schema speaks on the field, and nothing is sent.
    fireEvent.change(size, { target: { value: '1k' } });
    expect(within(panel).getByText('must be at least 4k')).toBeTruthy();
    expect(size.getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(files, { target: { value: 'two' } });
    expect(size.getAttribute('aria-invalid')).toBe('true');
    expect(files.getAttribute('aria-invalid')).toBe('true');
    expect((save as HTMLButtonElement).disabled).toBe(true);

    fireEvent.change(size, { target: { value: '20m' } });
    fireEvent.change(files, { target: { value: '5' } });
    fireEvent.click(save);
    await within(panel).findByRole('status');
    expect(state).toMatchObject({ maxSize: 20 * 1024 * 1024, maxFiles: 5, mode: 'host' });
    expect(client.callsOf('containers.logDefaults').at(-1)).toEqual({ machine: 'box', maxSize: '20m', maxFiles: 5 });
    // The user namespace did not change, so it was only read.
    expect(client.callsOf('containers.usernsDefault').at(-1)).toEqual({ machine: 'box' });
  });

  it('a refused user namespace change shows the refusal and leaves the log settings as they were', async () => {
    const { state, client } = agentSettings();
    const panel = await renderPanel(client);
    fireEvent.change(await within(panel).findByRole('combobox', { name: 'User namespace' }), { target: { value: 'auto' } });
    fireEvent.click(within(panel).getByRole('button', { name: 'Save' }));
    const alert = await within(panel).findByRole('alert');
    expect(alert.textContent).toBe('Container defaults: no range for root in /etc/subuid');
    expect(client.callsOf('containers.logDefaults').at(-1)).toEqual({ machine: 'box' });
    expect(state).toMatchObject({ maxSize: 10 * 1024 * 1024, maxFiles: 3, mode: 'host' });
    await waitFor(() => expect((within(panel).getByRole('button', { name: 'Save' }) as HTMLButtonElement).disabled).toBe(false));
  });
});
