// The host asks for a secret (a key's passphrase, a sudo password) with a `machine.secretPrompt`
// event; this dialog answers it by request id through `machines.answerPrompt`. A key passphrase can
// be kept in the OS keychain when the host says it has one (`app.version` → `secretVault`);
// otherwise the host keeps the answer in memory only, and the checkbox is not offered.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { errorMessage } from '../../../shared/errors.js';
import type { HostEvent } from '../../../shared/host-api.js';
import { useT } from '../i18n';
import { useClient, useHost } from '../stores';
import { Field } from './Field';
import { Modal } from './Modal';

type SecretPromptEvent = Extract<HostEvent, { type: 'machine.secretPrompt' }>;

export function SecretPromptDialog() {
  const client = useClient();
  const [queue, setQueue] = useState<SecretPromptEvent[]>([]);
  useEffect(
    () =>
      client.onEvent((event) => {
        if (event.type === 'machine.secretPrompt') setQueue((open) => [...open, event]);
      }),
    [client],
  );
  const prompt = queue[0];
  if (!prompt) return null;
  return (
    <SecretPromptForm key={prompt.requestId} prompt={prompt} onDone={() => setQueue((open) => open.filter((item) => item !== prompt))} />
  );
}

function SecretPromptForm({ prompt, onDone }: { prompt: SecretPromptEvent; onDone: () => void }) {
  const t = useT();
  const client = useClient();
  const vault = useHost((state) => state.app?.secretVault === true);
  const [secret, setSecret] = useState('');
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const input = useRef<HTMLInputElement>(null);
  const canRemember = vault && prompt.kind === 'key-passphrase';

  const answer = async (value: string | null): Promise<void> => {
    setBusy(true);
    setFailure(undefined);
    try {
      await client.call('machines.answerPrompt', {
        requestId: prompt.requestId,
        secret: value,
        ...(value !== null && canRemember && remember ? { remember: true } : {}),
      });
      onDone();
    } catch (error) {
      setFailure(errorMessage(error));
      setBusy(false);
    }
  };
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    void answer(secret);
  };
  const cancel = (): void => void answer(null).finally(onDone); // a question that timed out is gone either way

  const title = prompt.kind === 'key-passphrase' ? t('secretPrompt.passphrase.title') : t('secretPrompt.sudo.title');
  return (
    <Modal
      title={title}
      description={t('secretPrompt.description', { machine: prompt.machine, subject: prompt.subject })}
      onClose={cancel}
      busy={busy}
      size="small"
      initialFocus={input}
      footer={
        <>
          <button type="button" className="button" onClick={cancel} disabled={busy}>
            {t('common.cancel')}
          </button>
          <button type="submit" form={`secret-${prompt.requestId}`} className="button button--primary" disabled={busy}>
            {t('secretPrompt.unlock')}
          </button>
        </>
      }
    >
      <form id={`secret-${prompt.requestId}`} onSubmit={submit}>
        <Field
          label={prompt.kind === 'key-passphrase' ? t('secretPrompt.passphrase.label') : t('secretPrompt.sudo.label')}
          hint={canRemember && remember ? t('secretPrompt.keptInKeychain') : t('secretPrompt.keptInMemory')}
          {...(prompt.attempt > 1 ? { error: t('secretPrompt.wrong', { attempt: prompt.attempt }) } : {})}
          {...(failure ? { error: failure } : {})}
        >
          <input
            ref={input}
            name="secret"
            type="password"
            value={secret}
            onChange={(event) => setSecret(event.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
        </Field>
        {canRemember && (
          <label className="checkbox">
            <input name="remember" type="checkbox" checked={remember} onChange={(event) => setRemember(event.target.checked)} />
            <span>{t('secretPrompt.remember')}</span>
          </label>
        )}
      </form>
    </Modal>
  );
}
