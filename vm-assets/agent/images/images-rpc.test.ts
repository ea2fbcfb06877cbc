// fixture.images.* through the built agent daemon on its real unix socket: every malformed request gets an
// error naming the field, and a pull with a progressId streams pull.progress events to subscribers.
import { type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_DIR, isolatedAgent, spawnDaemon, type IsolatedAgent } from '../../../build/testing/isolated-agent.js';
import { connectAgent } from '../../../build/testing/agent-client.js';
import { useRegistryImages } from '../../../build/testing/test-images.js';
import { LineSplitter } from '../../../shared/ndjson.js';

const ENTRY = join(AGENT_DIR, 'agent.cjs');
let sandbox: IsolatedAgent;

const fixture = useRegistryImages();
beforeEach(async () => {
  sandbox = await isolatedAgent();
});
afterEach(async () => {
  await sandbox.cleanup();
});

const startDaemon = (): Promise<ChildProcess> => spawnDaemon(sandbox);

type Message = Record<string, unknown> & { id?: number; method?: string; params?: Record<string, unknown> };

/** Sends frames on one connection; resolves with every message once `expectReplies` replies (with an id) came. */
async function exchange(frames: string[], expectReplies = frames.length): Promise<Message[]> {
  const socket = createConnection(sandbox.socketPath);
  const splitter = new LineSplitter();
  const messages: Message[] = [];
  return new Promise((resolve, reject) => {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      for (const line of splitter.push(chunk)) messages.push(JSON.parse(line) as Message);
      if (messages.filter((m) => m.id !== undefined).length >= expectReplies) {
        socket.destroy();
        resolve(messages);
      }
    });
    socket.on('error', reject);
    socket.on('connect', () => socket.write(frames.map((f) => `${f}\n`).join('')));
  });
}

const req = (id: number, method: string, params?: unknown) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
const replies = (messages: Message[]) => messages.filter((m) => m.id !== undefined);
const errorData = (m: Message | undefined) => (m?.error as { data?: { field?: string; kind?: string } } | undefined)?.data;

describe('images.* over the agent socket', () => {
  it('answers every malformed request with an error naming the field', async () => {
    expect(existsSync(ENTRY)).toBe(true);
    await startDaemon();
    const cases: Array<[string, unknown, string]> = [
      ['images.pull', {}, 'params.ref'],
      ['images.pull', { ref: 'Not/Valid' }, 'params.ref'],
      ['images.pull', { ref: 'busybox', platform: 'linux' }, 'params.platform'],
      ['images.pull', { ref: 'busybox', insecure: 'yes' }, 'params.insecure'],
      ['images.pull', { ref: 'busybox', auth: { username: '', password: 'x' } }, 'params.auth.username'],
      ['images.pull', { ref: 'busybox', progressId: '' }, 'params.progressId'],
      ['images.pull', { ref: 'busybox', extra: 1 }, 'params.extra'],
      ['images.import', { path: 'relative.tar' }, 'params.path'],
      ['images.import', { path: '/x.tar', kind: 'zip' }, 'params.kind'],
      ['images.import', { path: '/x.tar', name: 'UPPER' }, 'params.name'],
      ['images.list', { all: true }, 'params.all'],
      ['images.inspect', {}, 'params.image'],
      ['images.inspect', { image: '' }, 'params.image'],
      ['images.remove', { image: 'x', force: 'yes' }, 'params.force'],
      ['images.remove', { force: true }, 'params.image'],
      ['images.inspect', { image: 'nothing-here' }, 'params.image'], // valid, but not found
    ];
    const answers = replies(await exchange(cases.map(([method, params], i) => req(i + 1, method, params))));
    expect(answers.map((a) => errorData(a)?.field)).toEqual(cases.map(([, , field]) => field));
    expect(errorData(answers.at(-1))?.kind).toBe('not_found');
  });

  it('pulls with progress events, then lists, inspects and removes', async () => {
    await startDaemon();
    // One awaited call after another: the agent answers concurrently, so order comes from us.
    const progressEvents: Array<{ method: string; params: unknown }> = [];
    const agent = await connectAgent(sandbox.socketPath);
    try {
      await agent.call('events.subscribe', { topics: ['pull.progress'] });
      const summary = await agent.call('images.pull', { ref: fixture.images.refs.layered, progressId: 'p-1' });
      expect(summary.names).toEqual([fixture.images.refs.layered]);
      expect(summary.layers).toBe(3);
      expect((await agent.call('images.list', undefined)).map((i) => i.id)).toEqual([summary.id]);
      const detail = await agent.call('images.inspect', { image: fixture.images.refs.layered });
      expect(detail.layerDetails[0]?.dir.startsWith(join(sandbox.stateDir, 'images/layers/'))).toBe(true);
      expect(await agent.call('images.remove', { image: fixture.images.refs.layered })).toEqual({
        untagged: [fixture.images.refs.layered],
        deleted: [summary.id],
      });
      expect(await agent.call('images.list', {})).toEqual([]);
      progressEvents.push(...agent.notifications);
    } finally {
      agent.close();
    }

    const progress = progressEvents
      .filter((m) => m.method === 'events.event')
      .map((m) => m.params as { type: string; progressId: string; status: string; layer: string | null });
    expect(progress.every((p) => p.type === 'pull.progress' && p.progressId === 'p-1')).toBe(true);
    expect(progress[0]?.status).toBe('resolving');
    expect(progress.at(-1)).toMatchObject({ status: 'done', layer: null });
    const layersDone = new Set(progress.filter((p) => p.layer !== null && p.status === 'done').map((p) => p.layer));
    expect(layersDone.size).toBe(3);
  });
});
