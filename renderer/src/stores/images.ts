// The images on the machine the window is looking at, and the pulls this window started. A pull
// is followed through `pull.progress` events carrying the progressId we gave it: one entry per
// layer (waiting → downloading → verifying → extracting → done, or `exists`), plus the overall
// bytes and speed computed here from the same events.
import { createStore, type StoreApi } from 'zustand/vanilla';
import { errorMessage } from '../../../shared/errors.js';
import type { HostApi } from '../../../shared/host-api.js';
import type { ImageSummary, PullProgress } from '../../../shared/images.js';
import type { MachineScopedList } from './machine-scoped';

export type LayerStatus = PullProgress['status'];

export interface LayerProgress {
  digest: string;
  status: LayerStatus;
  current: number;
  total: number;
}

export interface PullState {
  id: string;
  machine: string;
  ref: string;
  status: 'pulling' | 'done' | 'failed';
  /** The step for the image as a whole (resolving the manifest, done). */
  step: LayerStatus;
  layers: LayerProgress[];
  startedAt: number;
  /** (time, downloaded bytes) pairs, newest last, for the speed over the last seconds. */
  samples: { at: number; bytes: number }[];
  error?: string;
  result?: ImageSummary;
}

export interface ImagesState extends MachineScopedList {
  images: ImageSummary[];
  /** Removals in flight, by image id. */
  removing: Record<string, true>;
  pulls: PullState[];
  /** Removes an image; rejects with the agent's reason (e.g. a container still uses it). */
  remove(image: ImageSummary): Promise<void>;
  /** Starts a pull and returns its id at once; its progress arrives in `pulls`. */
  pull(ref: string, options?: { insecure?: boolean }): string;
  dismissPull(id: string): void;
}

export type ImagesStore = StoreApi<ImagesState>;

/** Bytes fetched so far: a layer counts in full once it is past downloading; `exists` was never fetched. */
export function downloadedBytes(layers: readonly LayerProgress[]): number {
  let bytes = 0;
  for (const layer of layers) {
    if (layer.status === 'downloading') bytes += layer.current;
    else if (layer.status === 'verifying' || layer.status === 'extracting' || layer.status === 'done') bytes += layer.total;
  }
  return bytes;
}

/** How far along the pull is, 0..1: downloads weigh in by size; extraction finishes each layer. */
export function pullFraction(pull: Pick<PullState, 'layers' | 'status'>): number {
  if (pull.status === 'done') return 1;
  const total = pull.layers.reduce((sum, layer) => sum + layer.total, 0);
  if (total === 0) return 0;
  let done = 0;
  for (const layer of pull.layers) {
    if (layer.status === 'done' || layer.status === 'exists') done += layer.total;
    else if (layer.status === 'downloading') done += layer.current * 0.9;
    else if (layer.status === 'verifying') done += layer.total * 0.9;
    else if (layer.status === 'extracting')
      done += layer.total * 0.9 + (layer.total > 0 ? (layer.current / layer.total) * layer.total * 0.1 : 0);
  }
  return Math.min(1, done / total);
}

/** Bytes per second over the last few seconds of samples (0 until there are two). */
export function pullSpeed(samples: readonly { at: number; bytes: number }[], windowMs = 3_000): number {
  const last = samples[samples.length - 1];
  if (!last) return 0;
  const first = samples.find((sample) => sample.at >= last.at - windowMs) ?? last;
  const seconds = (last.at - first.at) / 1000;
  return seconds > 0 ? Math.max(0, (last.bytes - first.bytes) / seconds) : 0;
}

let pullCounter = 0;

export function createImagesStore(api: Pick<HostApi, 'call'>, now: () => number = Date.now): ImagesStore {
  let request = 0;
  return createStore<ImagesState>()((set, get) => {
    const updatePull = (id: string, change: (pull: PullState) => PullState): void =>
      set((state) => ({ pulls: state.pulls.map((pull) => (pull.id === id ? change(pull) : pull)) }));

    return {
      status: 'idle',
      images: [],
      stale: false,
      removing: {},
      pulls: [],

      async load(machine) {
        const mine = ++request;
        const switched = machine !== get().machine;
        set(switched ? { machine, status: 'loading', images: [], error: undefined, stale: false } : { status: 'loading' });
        try {
          const images = await api.call('images.list', { machine });
          if (mine !== request) return;
          images.sort((a, b) => (a.names[0] ?? a.id).localeCompare(b.names[0] ?? b.id));
          set({ status: 'ready', error: undefined, images, fetchedAt: Date.now(), stale: false });
        } catch (error) {
          if (mine !== request) return;
          set({ status: 'error', error: errorMessage(error) });
        }
      },

      async remove(image) {
        const machine = get().machine;
        if (!machine) throw new Error('no machine selected');
        set((state) => ({ removing: { ...state.removing, [image.id]: true } }));
        try {
          await api.call('images.remove', { machine, image: image.id });
          set((state) => ({ images: state.images.filter((other) => other.id !== image.id) }));
        } finally {
          set((state) => {
            const removing = { ...state.removing };
            delete removing[image.id];
            return { removing };
          });
        }
      },

      pull(ref, options = {}) {
        const machine = get().machine;
        if (!machine) throw new Error('no machine selected');
        const id = `pull-${now().toString(36)}-${(++pullCounter).toString(36)}`;
        const pull: PullState = { id, machine, ref, status: 'pulling', step: 'resolving', layers: [], startedAt: now(), samples: [] };
        set((state) => ({ pulls: [pull, ...state.pulls] }));
        api.call('images.pull', { machine, ref, progressId: id, ...(options.insecure ? { insecure: true } : {}) }).then(
          (result) => {
            updatePull(id, (current) => ({ ...current, status: 'done', step: 'done', result }));
            if (get().machine === machine) void get().load(machine);
          },
          (error: unknown) => updatePull(id, (current) => ({ ...current, status: 'failed', error: errorMessage(error) })),
        );
        return id;
      },

      dismissPull(id) {
        set((state) => ({ pulls: state.pulls.filter((pull) => pull.id !== id) }));
      },

      applyEvent(event) {
        if (event.type !== 'machine.event' || event.event.type !== 'pull.progress') return;
        const progress = event.event;
        if (!get().pulls.some((pull) => pull.id === progress.progressId)) return;
        updatePull(progress.progressId, (pull) => {
          if (progress.layer === null) return { ...pull, step: progress.status };
          const layer: LayerProgress = {
            digest: progress.layer,
            status: progress.status,
            current: progress.current,
            total: progress.total,
          };
          const known = pull.layers.some((other) => other.digest === layer.digest);
          const layers = known ? pull.layers.map((other) => (other.digest === layer.digest ? layer : other)) : [...pull.layers, layer];
          const at = now();
          const samples = [...pull.samples.filter((sample) => sample.at >= at - 10_000), { at, bytes: downloadedBytes(layers) }];
          return { ...pull, step: pull.step === 'resolving' ? 'downloading' : pull.step, layers, samples };
        });
      },

      markStale() {
        if (get().status !== 'idle') set({ stale: true });
      },
    };
  });
}
