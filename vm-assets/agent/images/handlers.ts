// The images.* methods of the agent RPC. Params arrive already checked against shared/images.ts;
// pull progress goes out as `pull.progress` events tagged with the caller's progressId, at most
// ten a second per layer plus every change of state.
import type { AgentEvent } from '../../../shared/agent-rpc.js';
import { OnggiError } from '../../../shared/errors.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import type { imageMethods, PullProgress } from '../../../shared/images.js';
import type { Handlers } from '../../../shared/rpc-dispatch.js';
import type { ConnectionContext } from '../rpc/handlers.js';
import { importImages } from './import.js';
import type { ProgressFn } from './layer-install.js';
import { pullImage } from './pull.js';
import type { ImageStore } from './store.js';

export interface EventSink {
  publish(event: AgentEvent): void;
}

const MIN_INTERVAL_MS = 100;

/** A ProgressFn that publishes PullProgress events, throttled per layer. */
export function progressPublisher(events: EventSink, progressId: string, ref: string, now: () => number = Date.now): ProgressFn {
  const last = new Map<string, { status: PullProgress['status']; at: number }>();
  return (layer, status, current = 0, total = 0) => {
    const key = layer ?? '';
    const previous = last.get(key);
    const t = now();
    if (previous && previous.status === status && t - previous.at < MIN_INTERVAL_MS) return;
    last.set(key, { status, at: t });
    events.publish({
      type: 'pull.progress',
      progressId,
      ref,
      layer,
      status,
      current: Math.max(0, Math.floor(current)),
      total: Math.max(0, Math.floor(total)),
    });
  };
}

/** The store, or why it could not be opened (then every images.* call answers with that). */
export function createImageHandlers(storeOrError: ImageStore | Error, events: EventSink): Handlers<typeof imageMethods, ConnectionContext> {
  if (storeOrError instanceof Error) {
    const unavailable = (): never => {
      throw new OnggiError(ErrorCode.Unavailable, 'unavailable', `the image store is unavailable: ${storeOrError.message}`);
    };
    return {
      'images.pull': unavailable,
      'images.import': unavailable,
      'images.list': unavailable,
      'images.inspect': unavailable,
      'images.remove': unavailable,
      'images.tag': unavailable,
    };
  }
  const store = storeOrError;
  return {
    'images.pull': ({ ref, insecure, auth, progressId, platform }) =>
      pullImage(store, {
        ref,
        insecure,
        auth,
        platform,
        onProgress: progressId === undefined ? undefined : progressPublisher(events, progressId, ref),
      }),
    'images.import': ({ path, kind, name }) => importImages(store, { path, kind, name }),
    'images.list': () => store.list(),
    'images.inspect': ({ image }) => store.inspect(image),
    'images.remove': ({ image, force }) => store.remove(image, force ?? false),
    'images.tag': ({ image, name }) => store.tag(image, name),
  };
}
