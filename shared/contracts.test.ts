// Property tests for the two contracts: whatever a peer sends, a wrong message is refused with
// an error that names the field, and a right one survives the wire unchanged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AGENT_PROTOCOL_VERSION, agentMethods } from './agent-rpc.js';
import { hostMethods } from './host-api.js';
import { dispatchFrame, callHandler } from './rpc-dispatch.js';
import { RpcClient } from './rpc-client.js';
import { encodeFrame } from './ndjson.js';
import { SystemInfo } from './system-info.js';
import { OnggiError } from './errors.js';
import type { JsonRpcResponse } from './jsonrpc.js';

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const shortText = fc.string({ maxLength: 40 });

const systemInfoArb = fc.record({
  hostname: shortText,
  kernelRelease: shortText,
  kernelVersion: shortText,
  machine: fc.constantFrom('x86_64', 'aarch64'),
  arch: fc.constantFrom('amd64', 'arm64'),
  distro: fc.record({ id: shortText, name: shortText, version: shortText, prettyName: shortText }),
  cgroup: fc.record({
    version: fc.constantFrom(1 as const, 2 as const),
    mode: fc.constantFrom('unified' as const, 'hybrid' as const, 'legacy' as const),
    rootFsType: fc.constantFrom('cgroup2', 'tmpfs'),
    controllers: fc.array(
      fc.record({
        name: fc.constantFrom('cpu', 'memory', 'pids', 'hugetlb'),
        version: fc.constantFrom(1 as const, 2 as const),
        mountPoint: shortText,
      }),
      { maxLength: 8 },
    ),
  }),
  cpus: fc.nat(512),
  memoryBytes: fc.nat(),
  uptimeSeconds: fc.double({ min: 0, max: 1e9, noNaN: true }),
  agent: fc.record({ version: shortText, buildId: hex64, pid: fc.integer({ min: 1, max: 4_194_304 }), startedAt: shortText }),
});

/** Serves agentMethods with handlers that echo fixed results, through the real dispatcher. */
function echoServer(info: unknown) {
  const handlers = {
    'system.hello': () => ({ protocol: AGENT_PROTOCOL_VERSION, agentVersion: '1', buildId: 'b' }),
    'system.info': () => info,
    'events.subscribe': () => ({ topics: ['activity'] }),
  } as never;
  return (frame: string) => dispatchFrame(frame, (method, params) => callHandler(agentMethods, handlers, method, params, undefined));
}

describe('agent contract', () => {
  it('round-trips every valid system.info through the wire unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(systemInfoArb, async (info) => {
        const serve = echoServer(info);
        const client = new RpcClient({
          send: (frame) => {
            void serve(frame.trim()).then((reply) => reply && client.receive(encodeFrame(reply)));
          },
        });
        const got = await client.call('system.info', undefined, agentMethods['system.info'].result);
        expect(got).toEqual(SystemInfo.parse(JSON.parse(JSON.stringify(info))));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses system.hello params of any wrong type, naming the field', async () => {
    const serve = echoServer({});
    const notANumber = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.object(), fc.double({ noInteger: true }));
    await fc.assert(
      fc.asyncProperty(notANumber, async (protocol) => {
        const reply = (await serve(
          JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'system.hello', params: { protocol, client: 'x' } }),
        )) as JsonRpcResponse;
        expect('error' in reply && reply.error.code).toBe(-32602);
        expect('error' in reply && reply.error.data?.field).toBe('params.protocol');
        expect('error' in reply && reply.error.message).toContain('params.protocol');
      }),
    );
  });

  it('refuses a clock step to before 2020 or to a fraction of a millisecond, naming the field (a bad desktop clock must not set a machine back)', async () => {
    const serve = echoServer({});
    for (const epochMs of [0, Date.UTC(2019, 11, 31), 1.5e12 + 0.5, -1, '1733500000000']) {
      const reply = (await serve(
        JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'system.setClock', params: { epochMs } }),
      )) as JsonRpcResponse;
      expect('error' in reply && reply.error.code).toBe(-32602);
      expect('error' in reply && reply.error.data?.field).toBe('params.epochMs');
    }
  });

  it('names an unknown key as the field at fault', async () => {
    const serve = echoServer({});
    const key = fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !['protocol', 'client', '__proto__'].includes(k));
    await fc.assert(
      fc.asyncProperty(key, async (extra) => {
        const params = { protocol: 1, client: 'x', [extra]: 1 };
        const reply = (await serve(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system.hello', params }))) as JsonRpcResponse;
        expect('error' in reply && reply.error.data?.field).toBe(`params.${extra}`);
      }),
    );
  });

  it('answers any frame, however malformed, with an error and never throws', async () => {
    const serve = echoServer({});
    const frames = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .record({
          jsonrpc: fc.oneof(fc.constant('2.0'), fc.string()),
          id: fc.oneof(fc.nat(), fc.string(), fc.object()),
          method: fc.oneof(fc.string(), fc.nat()),
          params: fc.anything(),
        })
        .map((m) => JSON.stringify(m)),
    );
    await fc.assert(
      fc.asyncProperty(frames, async (frame) => {
        const reply = await serve(frame);
        if (reply === undefined) return; // a notification (no id) gets no answer, by the spec
        expect(reply.jsonrpc).toBe('2.0');
        if ('error' in reply) {
          expect(typeof reply.error.message).toBe('string');
          expect(reply.error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('host contract', () => {
  it('accepts exactly the machine names the schema allows and names the field otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), async (name) => {
        const valid = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(name);
        const handlers = { 'app.version': () => ({}), 'machines.list': () => [], 'machines.info': () => 'ok' } as never;
        try {
          await callHandler(hostMethods, handlers, 'machines.info', { machine: name }, undefined);
          expect(valid).toBe(true);
        } catch (error) {
          expect(valid).toBe(false);
          expect(error).toBeInstanceOf(OnggiError);
          expect((error as OnggiError).field).toBe('params.machine');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses unknown methods by name', async () => {
    await expect(callHandler(hostMethods, {} as never, 'machines.explode', {}, undefined)).rejects.toMatchObject({
      kind: 'method_not_found',
      field: 'method',
    });
  });
});
