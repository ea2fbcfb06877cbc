// The app's ELK: the layout runs in elkjs's own Web Worker, off the UI thread.
import ELK from 'elkjs/lib/elk-api';
import workerUrl from 'elkjs/lib/elk-worker.min.js?url';

let instance: InstanceType<typeof ELK> | undefined;

export function workerElk(): InstanceType<typeof ELK> {
  instance ??= new ELK({ workerUrl });
  return instance;
}
