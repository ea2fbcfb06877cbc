// The host asks whether to trust an SSH host key it has not seen (`machine.hostKeyPrompt`); this
// dialog shows the key's fingerprint as `ssh-keygen -lf` prints it, so the user can compare it with
// one obtained another way, and answers by request id through `machines.answerPrompt`. Questions
// that arrive together wait their turn. A host that has other key types on record gets a warning:
// a new key type there may be a different machine answering.
import { useRef } from 'react';
import type { HostEvent } from '../../../shared/host-api.js';
import { useT } from '../i18n';
import { Fact } from './Facts';
import { Icon } from './icons';
import { Modal } from './Modal';
import { usePromptAnswer, usePromptQueue } from './prompt-queue';

type HostKeyPromptEvent = Extract<HostEvent, { type: 'machine.hostKeyPrompt' }>;

export function HostKeyPromptDialog() {
  const { prompt, done } = usePromptQueue('machine.hostKeyPrompt');
  if (!prompt) return null;
  return <HostKeyQuestion key={prompt.requestId} prompt={prompt} onDone={done} />;
}

function HostKeyQuestion({ prompt, onDone }: { prompt: HostKeyPromptEvent; onDone: () => void }) {
  const t = useT();
  const { busy, failure, answer, dismiss } = usePromptAnswer(onDone);
  // Focus starts on Reject: Enter pressed out of habit must not trust a key.
  const rejectButton = useRef<HTMLButtonElement>(null);
  const endpoint = prompt.host.includes(':') ? `[${prompt.host}]:${prompt.port}` : `${prompt.host}:${prompt.port}`;

  const reject = (): void => dismiss({ requestId: prompt.requestId, accept: false });

  return (
    <Modal
      title={t('hostKey.title')}
      description={t('hostKey.description', { machine: prompt.machine, endpoint })}
      onClose={reject}
      busy={busy}
      size="small"
      role="alertdialog"
      initialFocus={rejectButton}
      footer={
        <>
          <button ref={rejectButton} type="button" className="button" onClick={reject} disabled={busy}>
            {t('hostKey.reject')}
          </button>
          <button
            type="button"
            className="button button--primary"
            onClick={() => void answer({ requestId: prompt.requestId, accept: true })}
            disabled={busy}
          >
            {t('hostKey.accept')}
          </button>
        </>
      }
    >
      {prompt.otherKnownTypes.length > 0 && (
        <div className="callout callout--bad" role="alert">
          <Icon name="alert" />
          <p>{t('hostKey.otherTypes', { types: prompt.otherKnownTypes.join(', ') })}</p>
        </div>
      )}
      <dl className="facts host-key">
        <Fact term={t('hostKey.machine')}>{prompt.machine}</Fact>
        <Fact term={t('hostKey.endpoint')} mono>
          {endpoint}
        </Fact>
        <Fact term={t('hostKey.keyType')} mono>
          {prompt.keyType}
        </Fact>
        <Fact term={t('hostKey.fingerprint')} mono>
          <span className="host-key-fingerprint">{prompt.fingerprint}</span>
        </Fact>
      </dl>
      <p className="note">{t('hostKey.compare')}</p>
      {failure && (
        <p className="field-error" role="alert">
          <Icon name="alert" size={14} />
          <span>{failure}</span>
        </p>
      )}
    </Modal>
  );
}
