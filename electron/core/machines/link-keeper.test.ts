// The link keeper at its boundary, with a real dial: a unix socket to a small agent stand-in
// this test controls (it answers the handshake and the event subscription, drops connections,
// goes away and comes back). Only the backoff is shortened.
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../../shared/agent-rpc.js';
import { OnggiError } from '../../../shared/errors.js';
import type { MachineState } from '../../../shared/host-api.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { AgentLink } from '../agent/agent-link.js';
import { LinkKeeper, type Dial } from './link-keeper.js';

const BUILD = 'build-of-this-app';

interface Seen {
  state: MachineState;
  error?: string | undefined;
  retryAt?: number | undefined;
  at: number;
}

/** An agent stand-in on a unix socket: answers `system.hello` and `events.subscribe`, as told. */
class StandIn {
  readonly sockets: Socket[] = [];
  buildId = BUILD;
  failSubscribe = false;
  private server: Server | undefined;

  constructor(readonly path: string) {}

  listen(): Promise<void> {
    const server = createServer((socket) => {
      this.sockets.push(socket);
      let buffered = '';
      socket.setEncoding('utf8');
      socket.on('error', () => undefined); // the keeper hangs up as it likes
      socket.on('data', (chunk: string) => {
        buffered += chunk;
        for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
          const request = JSON.parse(buffered.slice(0, end)) as { id: number; method: string };
          buffered = buffered.slice(end + 1);
          const answer =
            request.method === 'system.hello'
              ? { result: { protocol: 1, agentVersion: 'test', buildId: this.buildId } }
              : request.method === 'events.subscribe' && !this.failSubscribe
                ? { result: { topics: ['container.state'] } }
                : { error: { code: ErrorCode.OperationFailed, message: 'not now', data: { kind: 'operation_failed' } } };
          socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: request.id, ...answer })}\n`);
        }
      });
    });
    this.server = server;
    return new Promise((resolve) => server.listen(this.path, resolve));
  }

  /** Stops accepting and drops every connection: the agent is gone. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  notify(socket: Socket, event: AgentEvent): void {
    socket.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'events.event', params: event })}\n`);
  }
}

let dir: string;
let agent: StandIn;
const keepers: LinkKeeper[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-link-'));
  agent = new StandIn(join(dir, 'agent.sock'));
  await agent.listen();
});

afterEach(async () => {
  for (const keeper of keepers.splice(0)) keeper.close();
  await agent.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The real thing a provider does: connect, handshake, refuse another build when not told to replace it. */
function socketDial(links: AgentLink[]): Dial {
  return async ({ replaceOtherBuild }) => {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const connection = createConnection(agent.path);
      connection.once('connect', () => resolve(connection));
      connection.once('error', reject);
    });
    const link = new AgentLink(socket, 'the stand-in agent');
    links.push(link);
    const hello = await link.hello('link-keeper.test');
    if (hello.buildId !== BUILD && !replaceOtherBuild) {
      link.close();
      throw new OnggiError(ErrorCode.Conflict, 'other_build', 'another build took the agent over');
    }
    return link;
  };
}

function keeper(options: { backoffMs?: number[]; links?: AgentLink[] } = {}) {
  const seen: Seen[] = [];
  const events: AgentEvent[] = [];
  const waiters: Array<{ match: (seen: Seen) => boolean; resolve: (seen: Seen) => void }> = [];
  const links = options.links ?? [];
  const created = new LinkKeeper({
    machine: 'm',
    dial: socketDial(links),
    onState: (machine, state, error, retryAt) => {
      expect(machine).toBe('m');
      const entry = { state, error, retryAt, at: Date.now() };
      seen.push(entry);
      for (const waiter of waiters.splice(0)) {
        if (waiter.match(entry)) waiter.resolve(entry);
        else waiters.push(waiter);
      }
    },
    onAgentEvent: (_machine, event) => events.push(event),
    backoffMs: options.backoffMs ?? [20, 40, 80],
  });
  keepers.push(created);
  /** The next state change that matches (from now on). */
  const next = (match: (seen: Seen) => boolean): Promise<Seen> => new Promise((resolve) => waiters.push({ match, resolve }));
  return { keeper: created, seen, events, links, next };
}

/** Lets whatever the last event set in motion synchronously (and its promise callbacks) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('link keeper', () => {
  it('dials on demand, once for concurrent callers, and reports connecting then ready; agent events reach the machine', async () => {
    const { keeper: k, seen, events } = keeper();
    expect(k.status()).toEqual({ state: 'stopped' });
    const [a, b] = await Promise.all([k.ensure(), k.ensure()]);
    expect(a).toBe(b);
    expect(agent.sockets).toHaveLength(1);
    expect(seen.map((entry) => entry.state)).toEqual(['connecting', 'ready']);
    expect(k.status()).toEqual({ state: 'ready' });
    expect(await k.ensure()).toBe(a); // the link is kept, not redialled

    const event: AgentEvent = { type: 'container.state', id: 'a'.repeat(64), name: 'web', state: 'running', exitCode: null };
    const [socket] = agent.sockets;
    if (!socket) throw new Error('no connection');
    const arrived = new Promise<void>((resolve) => a.onEvent(() => resolve()));
    agent.notify(socket, event);
    await arrived;
    expect(events).toEqual([event]);
  });

  it('a sign of life (retryNow) dials a lost machine at once instead of at retryAt; a ready one is left alone', async () => {
    const { keeper: k, next } = keeper({ backoffMs: [60_000] });
    await k.ensure();
    k.retryNow(); // ready: nothing to do
    expect(agent.sockets).toHaveLength(1);
    const lost = next((entry) => entry.state === 'lost');
    agent.sockets[0]?.destroy();
    const entry = await lost;
    expect((entry.retryAt ?? 0) - entry.at).toBeGreaterThanOrEqual(59_000);
    const ready = next((seen) => seen.state === 'ready');
    k.retryNow();
    await ready;
    expect(Date.now() - entry.at).toBeLessThan(5000);
    expect(agent.sockets).toHaveLength(2);
    expect(k.status()).toEqual({ state: 'ready' });
  });

  it('a dropped link makes the machine lost with the time of the next attempt (retryAt), then ready again', async () => {
    const { keeper: k, next } = keeper({ backoffMs: [30] });
    await k.ensure();
    const lost = next((entry) => entry.state === 'lost');
    agent.sockets[0]?.destroy();
    const entry = await lost;
    expect(entry.error).toMatch(/closed/);
    expect(entry.retryAt).toBeDefined();
    expect((entry.retryAt ?? 0) - entry.at).toBeGreaterThanOrEqual(29);
    expect((entry.retryAt ?? 0) - entry.at).toBeLessThanOrEqual(30);
    expect(k.status()).toMatchObject({ state: 'lost', retryAt: entry.retryAt });
    await next((seen) => seen.state === 'ready');
    expect(Date.now()).toBeGreaterThanOrEqual(entry.retryAt ?? 0);
    expect(agent.sockets).toHaveLength(2);
    expect(k.status()).toEqual({ state: 'ready' }); // retryAt is gone once the link is back
  });

  it('backs off step by step while the agent stays away (a failed attempt is retryable), and starts over once it is back', async () => {
    const { keeper: k, seen, next } = keeper({ backoffMs: [20, 40, 80] });
    await k.ensure();
    const third = next((entry) => entry.state === 'lost' && (entry.retryAt ?? 0) - entry.at >= 79);
    await agent.stop();
    await third;
    const delays = seen.filter((entry) => entry.state === 'lost').map((entry) => (entry.retryAt ?? 0) - entry.at);
    expect(delays).toHaveLength(3);
    expect(delays.map((delay) => Math.round(delay / 20) * 20)).toEqual([20, 40, 80]);
    // Between attempts the machine stays lost (a refused connection is no `error`: a retry may fix it), saying why.
    const states = seen.map((entry) => entry.state);
    expect(states.slice(states.indexOf('lost'))).toEqual(['lost', 'connecting', 'lost', 'connecting', 'lost']);
    expect(seen.at(-1)?.error).toMatch(/ENOENT|ECONNREFUSED/);

    await agent.listen();
    await next((entry) => entry.state === 'ready');
    const lostAgain = next((entry) => entry.state === 'lost');
    agent.sockets.at(-1)?.destroy();
    const entry = await lostAgain;
    expect(Math.round(((entry.retryAt ?? 0) - entry.at) / 20) * 20).toBe(20); // attempts counted from zero again
  });

  it('stops retrying on a final error (another build took the agent over) and says why', async () => {
    const { keeper: k, next, links } = keeper({ backoffMs: [20] });
    await k.ensure();
    agent.buildId = 'another-build';
    const failed = next((entry) => entry.state === 'error');
    agent.sockets[0]?.destroy();
    const entry = await failed;
    expect(entry.error).toMatch(/another build/);
    await settle();
    expect(k.status()).toEqual({ state: 'error', error: 'another build took the agent over' });
    expect(links).toHaveLength(2); // one retry, no more scheduled
    // A user's own request replaces the other build (and works again).
    await k.ensure();
    expect(k.status()).toEqual({ state: 'ready' });
  });

  it('ignores a link that is no longer the machine’s: its close does not flip the state (stale-link guard)', async () => {
    const links: AgentLink[] = [];
    const { keeper: k, seen } = keeper({ links, backoffMs: [20] });
    agent.failSubscribe = true;
    await expect(k.ensure()).rejects.toThrow(/not now/);
    const [stale] = links;
    if (!stale) throw new Error('no link was dialled');
    // The keeper hung up the half-made link; its close arrives now, after the machine moved on.
    if (!stale.isClosed) await new Promise((resolve) => stale.onClose(resolve));
    await settle();
    expect(k.status()).toEqual({ state: 'error', error: 'not now' });
    expect(seen.map((entry) => entry.state)).toEqual(['connecting', 'error']);

    agent.failSubscribe = false;
    const fresh = await k.ensure();
    expect(fresh).not.toBe(stale);
    expect(k.status()).toEqual({ state: 'ready' });
    expect(k.current).toBe(fresh);
  });

  it('after close, a link that drops is not redialled', async () => {
    const { keeper: k, seen, links } = keeper();
    const link = await k.ensure();
    k.close();
    if (!link.isClosed) await new Promise((resolve) => link.onClose(resolve));
    await settle();
    expect(seen.map((entry) => entry.state)).toEqual(['connecting', 'ready']);
    expect(links).toHaveLength(1);
    expect(k.current).toBeUndefined();
  });
});
