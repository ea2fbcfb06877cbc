import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../../shared/agent-rpc.js';
import { createImageHandlers, progressPublisher } from './handlers.js';

describe('pull progress events', () => {
  it('publishes every change of state but at most ten updates a second per layer', () => {
    const published: AgentEvent[] = [];
    let now = 0;
    const progress = progressPublisher({ publish: (e) => published.push(e) }, 'pid-1', 'busybox', () => now);
    const layerA = `sha256:${'a'.repeat(64)}`;
    const layerB = `sha256:${'b'.repeat(64)}`;
    progress(null, 'resolving');
    for (let i = 0; i < 50; i++) {
      now += 5; // 50 updates in 250 ms for each of two layers
      progress(layerA, 'downloading', i * 100, 5000);
      progress(layerB, 'downloading', i * 10, 500);
    }
    progress(layerA, 'extracting', 0, 5000);
    progress(layerA, 'done', 5000, 5000);
    progress(null, 'done');
    const forA = published.filter((e) => e.type === 'pull.progress' && e.layer === layerA);
    expect(forA.map((e) => (e.type === 'pull.progress' ? e.status : ''))).toEqual([
      'downloading',
      'downloading',
      'downloading',
      'extracting',
      'done',
    ]);
    expect(published.filter((e) => e.type === 'pull.progress' && e.layer === layerB).length).toBe(3);
    expect(published[0]).toEqual({
      type: 'pull.progress',
      progressId: 'pid-1',
      ref: 'busybox',
      layer: null,
      status: 'resolving',
      current: 0,
      total: 0,
    });
    expect(published.at(-1)).toMatchObject({ layer: null, status: 'done' });
  });

  it('answers every call with why when the store could not be opened', async () => {
    const handlers = createImageHandlers(new Error('EACCES: /var/lib/onggi/images'), { publish: () => undefined });
    const ctx = { notify: () => undefined };
    await expect(Promise.resolve().then(() => handlers['images.list'](undefined, ctx))).rejects.toThrow(
      /image store is unavailable: EACCES/,
    );
  });
});
