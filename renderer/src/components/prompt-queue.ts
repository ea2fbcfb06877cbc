// What the host's questions (host key, key passphrase, sudo password) share in the window: they
// arrive as events and wait their turn, one dialog at a time, oldest first; each is answered once
// by its request id through `machines.answerPrompt`. A question dismissed is answered too (as a
// refusal), and leaves the queue even when that answer fails: the host may have given up on it.
import { useEffect, useState } from 'react';
import { errorMessage } from '../../../shared/errors.js';
import type { HostEvent } from '../../../shared/host-api.js';
import type { PromptAnswerParams } from '../../../shared/machines.js';
import { useClient } from '../stores';

type PromptType = 'machine.hostKeyPrompt' | 'machine.secretPrompt';

/** The oldest open question of one kind, and how to take it off the queue. */
export function usePromptQueue<T extends PromptType>(type: T): { prompt?: Extract<HostEvent, { type: T }>; done: () => void } {
  const client = useClient();
  const [queue, setQueue] = useState<Extract<HostEvent, { type: T }>[]>([]);
  useEffect(() => {
    const ofType = (event: HostEvent): event is Extract<HostEvent, { type: T }> => event.type === type;
    return client.onEvent((event) => {
      if (ofType(event)) setQueue((open) => [...open, event]);
    });
  }, [client, type]);
  const prompt = queue[0];
  return { ...(prompt ? { prompt } : {}), done: () => setQueue((open) => open.filter((item) => item !== prompt)) };
}

/** Answers one question: busy while the answer is on its way, the failure in words if it was refused. */
export function usePromptAnswer(onDone: () => void): {
  busy: boolean;
  failure: string | undefined;
  answer: (params: PromptAnswerParams) => Promise<void>;
  dismiss: (params: PromptAnswerParams) => void;
} {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const answer = async (params: PromptAnswerParams): Promise<void> => {
    setBusy(true);
    setFailure(undefined);
    try {
      await client.call('machines.answerPrompt', params);
      onDone();
    } catch (error) {
      setFailure(errorMessage(error));
      setBusy(false);
    }
  };
  const dismiss = (params: PromptAnswerParams): void => void answer(params).finally(onDone);
  return { busy, failure, answer, dismiss };
}
