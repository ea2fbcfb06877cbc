// The host asks for a secret (a key's passphrase, a sudo password) with a `machine.secretPrompt`
// event; this dialog answers it by request id through `machines.answerPrompt`. A key passphrase can
// be kept in the OS keychain when the host says it has one (`app.version` → `secretVault`);
// otherwise the host keeps the answer in memory only, and the checkbox is not offered.
import { useRef, useState, type FormEvent } from 'react';
import type { HostEvent } from '../../../shared/host-api.js';
import { useT } from '../i18n';
import { useHost } from '../stores';
import { Field } from './Field';
import { Modal } from './Modal';
import { usePromptAnswer, usePromptQueue } from './prompt-queue';

type SecretPromptEvent = Extract<HostEvent, { type: 'machine.secretPrompt' }>;

export function SecretPromptDialog() {
  const { prompt, done } = usePromptQueue('machine.secretPrompt');
  if (!prompt) return null;
  return <SecretPromptForm key={prompt.requestId} prompt={prompt} onDone={done} />;
}

function SecretPromptForm({ prompt, onDone }: { prompt: SecretPromptEvent; onDone: () => void }) {
  const t = useT();
  const vault = useHost((state) => state.app?.secretVault === true);
  const [secret, setSecret] = useState('');
  const [remember, setRemember] = useState(false);
  const { busy, failure, answer, dismiss } = usePromptAnswer(onDone);
  const input = useRef<HTMLInputElement>(null);
  const canRemember = vault && prompt.kind === 'key-passphrase';

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    void answer({ requestId: prompt.requestId, secret, ...(canRemember && remember ? { remember: true } : {}) });
  };
  const cancel = (): void => dismiss({ requestId: prompt.requestId, secret: null });

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
