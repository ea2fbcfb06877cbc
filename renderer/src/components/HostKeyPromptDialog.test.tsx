// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostKeyPrompt } from '../../../shared/machines.js';
import { useLanguageStore } from '../i18n';
import { createStores, StoresContext } from '../stores';
import { ScriptedClient } from '../stores/test-fixtures';
import { HostKeyPromptDialog } from './HostKeyPromptDialog';

const FINGERPRINT = 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';

function prompt(requestId: string, extra: Partial<HostKeyPrompt> = {}): HostKeyPrompt {
  return {
    requestId,
    machine: 'ec2',
    host: '203.0.113.7',
    port: 2222,
    keyType: 'ssh-ed25519',
    fingerprint: FINGERPRINT,
    otherKnownTypes: [],
    ...extra,
  };
}

function renderDialog() {
  const client = new ScriptedClient({ 'machines.answerPrompt': () => ({}) });
  render(
    <StoresContext value={createStores(client)}>
      <HostKeyPromptDialog />
    </StoresContext>,
  );
  return client;
}

const answers = (client: ScriptedClient) => client.callsOf('machines.answerPrompt');
const value = (dialog: HTMLElement, term: string) => within(dialog).getByLabelText(term, { selector: 'dd' }).textContent;

describe('HostKeyPromptDialog', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('shows the key, answers each queued question by its own request id, accept then reject', async () => {
    const client = renderDialog();
    act(() => {
      client.emit({ type: 'machine.hostKeyPrompt', ...prompt('r1') });
      client.emit({ type: 'machine.hostKeyPrompt', ...prompt('r2', { machine: 'db', host: 'db.internal', port: 22 }) });
    });
    let dialog = screen.getByRole('alertdialog', { name: 'Trust this host key?' });
    expect(value(dialog, 'Machine')).toBe('ec2');
    expect(value(dialog, 'Address')).toBe('203.0.113.7:2222');
    expect(value(dialog, 'Key type')).toBe('ssh-ed25519');
    expect(value(dialog, 'Fingerprint')).toBe(FINGERPRINT);
    // Nothing else known about this host: no warning.
    expect(within(dialog).queryByRole('alert')).toBeNull();
    // Enter out of habit lands on Reject.
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Reject' }));

    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Accept' }));
      await Promise.resolve();
    });
    expect(answers(client)).toEqual([{ requestId: 'r1', accept: true }]);

    dialog = screen.getByRole('alertdialog', { name: 'Trust this host key?' });
    expect(value(dialog, 'Machine')).toBe('db');
    expect(value(dialog, 'Address')).toBe('db.internal:22');
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Reject' }));
      await Promise.resolve();
    });
    expect(answers(client)).toEqual([
      { requestId: 'r1', accept: true },
      { requestId: 'r2', accept: false },
    ]);
    expect(screen.queryByRole('alertdialog')).toBeNull();
  });

  it('warns when the host is known with other key types, and Escape rejects', async () => {
    const client = renderDialog();
    act(() => client.emit({ type: 'machine.hostKeyPrompt', ...prompt('r9', { host: '::1', otherKnownTypes: ['ssh-rsa'] }) }));
    const dialog = screen.getByRole('alertdialog', { name: 'Trust this host key?' });
    expect(within(dialog).getByRole('alert').textContent).toContain('known with another key type (ssh-rsa)');
    expect(value(dialog, 'Address')).toBe('[::1]:2222');
    await act(async () => {
      fireEvent.keyDown(dialog, { key: 'Escape' });
      await Promise.resolve();
    });
    expect(answers(client)).toEqual([{ requestId: 'r9', accept: false }]);
    expect(screen.queryByRole('alertdialog')).toBeNull();
  });
});
