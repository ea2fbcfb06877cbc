// The clock watch at its boundary: a link keeper with a real dial to an agent stand-in on a unix
// socket whose clock runs off by a skew this test sets (as a VM paused by a laptop's sleep does).
// The agent's side of stepping a clock changes the machine's real clock, so it is proved in the
// QEMU guest (electron/core/machines/ssh/qemu-guest.vm-test.ts), not here.
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClockPolicy, MachineClock } from '../../../shared/clock.js';
import { ErrorCode } from '../../../shared/jsonrpc.js';
import { AgentLink } from '../agent/agent-link.js';
import { LinkKeeper } from './link-keeper.js';

/** Answers the handshake, subscriptions, `system.clock` (its clock = ours + skewMs) and `system.setClock`. */
class SkewedAgent {
  skewMs = 0;
  refuseSet = false;
  fractionalAnswer = false;
  readonly setCalls: number[] = [];
  private readonly sockets: Socket[] = [];
  private server: Server | undefined;

  constructor(readonly path: string) {}

  now(): number {
    return Date.now() + this.skewMs;
  }

  listen(): Promise<void> {
    const server = createServer((socket) => {
      this.sockets.push(socket);
      let buffered = '';
      socket.setEncoding('utf8');
      // the keeper hangs up as it likes
      socket.on('error', () => undefined);
      socket.on('data', (chunk: string) => {
        buffered += chunk;
        for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
          const request = JSON.parse(buffered.slice(0, end)) as { id: number; method: string; params?: { epochMs?: number } };
          buffered = buffered.slice(end + 1);
          socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: request.id, ...this.answer(request) })}\n`);
        }
      });
    });
    this.server = server;
    return new Promise((resolve) => server.listen(this.path, resolve));
  }

  private answer(request: { method: string; params?: { epochMs?: number } }): object {
    switch (request.method) {
      case 'system.hello':
        return { result: { protocol: 1, agentVersion: 'test', buildId: 'b', now: this.now() } };
      case 'events.subscribe':
        return { result: { topics: [] } };
      case 'system.clock':
        return { result: { now: this.now() } };
      case 'system.setClock': {
        if (this.refuseSet) {
          return {
            error: {
              code: ErrorCode.OperationFailed,
              message: 'date --utc --set=… failed (exit 1): Operation not permitted',
              data: { kind: 'operation_failed' },
            },
          };
        }
        const target = request.params?.epochMs ?? 0;
        const stepMs = target - this.now();
        this.setCalls.push(stepMs);
        this.skewMs = target - Date.now();
        // What a broken agent might answer (a fraction where the contract says int): the step
        // happened all the same, and the host must measure again rather than trust the answer.
        if (this.fractionalAnswer) return { result: { method: 'date', stepMs: stepMs + 0.25 } };
        return { result: { method: 'date', stepMs } };
      }
      default:
        return { error: { code: ErrorCode.OperationFailed, message: 'not here', data: { kind: 'operation_failed' } } };
    }
  }

  /** Drops every connection (the agent stays): what a link lost in a sleep looks like from here. */
  dropAll(): void {
    for (const socket of this.sockets.splice(0)) socket.destroy();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

let dir: string;
let agent: SkewedAgent;
const keepers: LinkKeeper[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'onggi-clock-'));
  agent = new SkewedAgent(join(dir, 'agent.sock'));
  await agent.listen();
});

afterEach(async () => {
  for (const keeper of keepers.splice(0)) keeper.close();
  await agent.stop();
  await rm(dir, { recursive: true, force: true });
});

function keeper(policy: ClockPolicy, intervalMs?: number) {
  const changes: MachineClock[] = [];
  const created = new LinkKeeper({
    machine: 'vm',
    dial: async () => {
      const socket = await new Promise<Socket>((resolve, reject) => {
        const connection = createConnection(agent.path);
        connection.once('connect', () => resolve(connection));
        connection.once('error', reject);
      });
      const link = new AgentLink(socket, 'the skewed agent');
      await link.hello('clock-watch.test');
      return link;
    },
    onState: () => undefined,
    onAgentEvent: () => undefined,
    clock: {
      policy,
      onChange: (machine, clock) => changes.push({ ...clock, ...(machine === 'vm' ? {} : { error: 'wrong machine' }) }),
      ...(intervalMs ? { intervalMs } : {}),
    },
  });
  keepers.push(created);
  return { keeper: created, changes };
}

describe('clock watch', () => {
  it('on a machine Onggi runs, a clock 60 s behind is stepped on connect and measured again', async () => {
    agent.skewMs = -60_000;
    const { keeper: k, changes } = keeper('correct');
    await k.ensure();
    const clock = await k.clock();
    expect(agent.setCalls).toHaveLength(1);
    expect(agent.setCalls[0]).toBeGreaterThan(59_000);
    expect(clock).toMatchObject({ policy: 'correct', corrected: { method: 'date' } });
    expect(clock?.corrected?.offsetBeforeMs).toBeLessThan(-59_000);
    expect(Math.abs(clock?.offsetMs ?? Infinity)).toBeLessThan(1000);
    expect(changes.at(-1)).toEqual(clock);
  });

  it('on an SSH host it only reports: the offset is measured, the clock never touched', async () => {
    agent.skewMs = 90_000;
    const { keeper: k } = keeper('report');
    await k.ensure();
    const clock = await k.clock();
    expect(agent.setCalls).toEqual([]);
    expect(clock?.policy).toBe('report');
    expect(clock?.corrected).toBeUndefined();
    expect(clock?.offsetMs).toBeGreaterThan(89_000);
    expect(clock?.offsetMs).toBeLessThan(91_000);
  });

  it('a clock within a second is left alone', async () => {
    agent.skewMs = 400;
    const { keeper: k } = keeper('correct');
    await k.ensure();
    const clock = await k.clock();
    expect(agent.setCalls).toEqual([]);
    expect(clock?.corrected).toBeUndefined();
    expect(clock?.offsetMs).toBeGreaterThan(300);
  });

  it('drift while the link stays up (a VM paused without the link dropping) is caught by the periodic check', async () => {
    const { keeper: k, changes } = keeper('correct', 50);
    await k.ensure();
    await k.clock();
    expect(agent.setCalls).toEqual([]);
    agent.skewMs = -30_000;
    await expect.poll(() => changes.find((clock) => clock.corrected !== undefined), { timeout: 5000 }).toBeDefined();
    expect(agent.setCalls).toHaveLength(1);
    expect(Math.abs((await k.clock())?.offsetMs ?? Infinity)).toBeLessThan(1000);
  });

  it('after a lost link (a VM paused by sleep), the next link finds the lag and steps it', async () => {
    const { keeper: k } = keeper('correct');
    await k.ensure();
    expect((await k.clock())?.corrected).toBeUndefined();
    agent.skewMs = -60_000;
    agent.dropAll();
    await expect.poll(() => k.status().state, { timeout: 5000 }).not.toBe('ready');
    await expect.poll(() => k.status().state, { timeout: 10_000 }).toBe('ready');
    const clock = await k.clock();
    expect(clock?.error).toBeUndefined();
    expect(clock?.corrected?.offsetBeforeMs).toBeLessThan(-59_000);
    expect(Math.abs(clock?.offsetMs ?? Infinity)).toBeLessThan(1000);
  });

  it('a step whose answer does not pass the contract is reported, and the clock measured again (it may have moved)', async () => {
    agent.skewMs = -60_000;
    agent.fractionalAnswer = true;
    const { keeper: k } = keeper('correct');
    await k.ensure();
    const clock = await k.clock();
    expect(agent.setCalls).toHaveLength(1);
    expect(clock?.error).toMatch(/could not be corrected: .*stepMs/);
    expect(Math.abs(clock?.offsetMs ?? Infinity)).toBeLessThan(1000);
  });

  it('a step the machine refuses is reported with the offset, not thrown', async () => {
    agent.skewMs = -5000;
    agent.refuseSet = true;
    const { keeper: k } = keeper('correct');
    await k.ensure();
    const clock = await k.clock();
    expect(clock?.error).toMatch(/could not be corrected: .*Operation not permitted/);
    expect(clock?.offsetMs).toBeLessThan(-4000);
  });
});
