// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useLanguageStore } from '../i18n';
import { createStores, StoresContext } from '../stores';
import { ScriptedClient } from '../stores/test-fixtures';
import { SecretPromptDialog } from './SecretPromptDialog';

function renderDialog(secretVault: boolean) {
  const client = new ScriptedClient({ 'machines.answerPrompt': () => ({}) });
  const stores = createStores(client);
  stores.host.setState({ connection: 'open', app: { version: '0.1.0', platform: 'linux', secretVault } });
  render(
    <StoresContext value={stores}>
      <SecretPromptDialog />
    </StoresContext>,
  );
  act(() =>
    client.emit({
      type: 'machine.secretPrompt',
      requestId: 'r1',
      machine: 'ec2',
      kind: 'key-passphrase',
      subject: '/home/u/.ssh/id_ed25519',
      attempt: 1,
    }),
  );
  return client;
}

const answers = (client: ScriptedClient) =>
  client.calls.filter((call) => call.method === 'machines.answerPrompt').map((call) => call.params);

describe('SecretPromptDialog', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('offers the keychain only when the host has one, and sends remember when ticked', async () => {
    const client = renderDialog(true);
    expect(screen.getByRole('dialog', { name: 'Key passphrase' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'open sesame' } });
    fireEvent.click(screen.getByRole('checkbox', { name: 'Remember in the system keychain' }));
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
      await Promise.resolve();
    });
    expect(answers(client)).toEqual([{ requestId: 'r1', secret: 'open sesame', remember: true }]);
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('has no checkbox without a keychain (browser mode) and answers for memory only', async () => {
    const client = renderDialog(false);
    expect(screen.queryByRole('checkbox')).toBeNull();
    expect(screen.getByText('Kept in memory only, until Onggi quits.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'open sesame' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Unlock' }));
      await Promise.resolve();
    });
    expect(answers(client)).toEqual([{ requestId: 'r1', secret: 'open sesame' }]);
  });

  it('shows the checkbox in Korean too', () => {
    useLanguageStore.setState({ language: 'ko' });
    renderDialog(true);
    expect(screen.getByRole('checkbox', { name: '시스템 키체인에 기억하기' })).toBeTruthy();
  });
});
