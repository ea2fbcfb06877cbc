// Questions a remote machine asks the user: "trust this host key?" and "the passphrase for this
// key?". A front end either answers them in-process (the CLI on its TTY) or receives them as host
// events and answers through the host API (the window), matched by request id. Answers are kept
// in memory only, for the one question they answer.
import { randomUUID } from 'node:crypto';
import { OnggiError } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import type { HostKeyPrompt, PromptAnswerParams, SecretPrompt } from '../../../../shared/machines.js';

export type HostKeyQuestion = Omit<HostKeyPrompt, 'requestId'>;
export type SecretQuestion = Omit<SecretPrompt, 'requestId'>;

export interface MachinePrompts {
  /** true: trust the key (it is then remembered in Onggi's known_hosts). */
  hostKey(question: HostKeyQuestion): Promise<boolean>;
  /** The secret, or undefined when the user declined. */
  secret(question: SecretQuestion): Promise<string | undefined>;
}

export type PromptEvent = ({ type: 'machine.hostKeyPrompt' } & HostKeyPrompt) | ({ type: 'machine.secretPrompt' } & SecretPrompt);

/** Prompts that nobody can answer: unknown hosts and encrypted keys are refused with a clear error. */
export const noPrompts: MachinePrompts = {
  hostKey: () => Promise.resolve(false),
  secret: () => Promise.resolve(undefined),
};

interface Pending {
  kind: 'hostKey' | 'secret';
  resolve(answer: boolean | string | undefined): void;
  timer: NodeJS.Timeout;
}

/** Prompts answered through events and an answer call (the window's way). */
export class PromptBroker implements MachinePrompts {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly emit: (event: PromptEvent) => void,
    private readonly timeoutMs = 10 * 60_000,
  ) {}

  hostKey(question: HostKeyQuestion): Promise<boolean> {
    return this.ask('hostKey', (requestId) => this.emit({ type: 'machine.hostKeyPrompt', requestId, ...question })).then(
      (answer) => answer === true,
    );
  }

  secret(question: SecretQuestion): Promise<string | undefined> {
    return this.ask('secret', (requestId) => this.emit({ type: 'machine.secretPrompt', requestId, ...question })).then((answer) =>
      typeof answer === 'string' ? answer : undefined,
    );
  }

  /** The user's answer to an earlier question. */
  answer(params: PromptAnswerParams): void {
    const pending = this.pending.get(params.requestId);
    if (!pending)
      throw new OnggiError(
        ErrorCode.NotFound,
        'not_found',
        'no question is waiting for that answer (it may have timed out)',
        'params.requestId',
      );
    if ('accept' in params) {
      if (pending.kind !== 'hostKey')
        throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'that question wants a secret', 'params.accept');
      this.settle(params.requestId, params.accept);
    } else {
      if (pending.kind !== 'secret')
        throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', 'that question wants accept: true|false', 'params.secret');
      this.settle(params.requestId, params.secret ?? undefined);
    }
  }

  /** Declines every open question (the host core is closing). */
  cancelAll(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, undefined);
  }

  private ask(kind: Pending['kind'], send: (requestId: string) => void): Promise<boolean | string | undefined> {
    const requestId = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(requestId, undefined), this.timeoutMs);
      timer.unref();
      this.pending.set(requestId, { kind, resolve, timer });
      send(requestId);
    });
  }

  private settle(requestId: string, answer: boolean | string | undefined): void {
    const pending = this.pending.get(requestId);
    if (!pending) return;
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    pending.resolve(answer);
  }
}
